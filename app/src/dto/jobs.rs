//! Jobs, the queue and the live feed on the wire. States are words the engine uses; an
//! unknown word is refused.

use super::ProductDto;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a job is in its life. Serialised as the engine names the states (`retry_wait`, ...);
/// anything else is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum JobState {
    Queued,
    Submitting,
    Running,
    Downloading,
    RetryWait,
    Succeeded,
    Failed,
    Canceled,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Submitting => "submitting",
            JobState::Running => "running",
            JobState::Downloading => "downloading",
            JobState::RetryWait => "retry_wait",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Canceled => "canceled",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobState::Succeeded | JobState::Failed | JobState::Canceled
        )
    }

    pub fn is_waiting(self) -> bool {
        matches!(self, JobState::Queued | JobState::RetryWait)
    }
}

#[cfg(feature = "ssr")]
impl From<factory::jobs::JobState> for JobState {
    fn from(state: factory::jobs::JobState) -> Self {
        use factory::jobs::JobState as Engine;
        match state {
            Engine::Queued => JobState::Queued,
            Engine::Submitting => JobState::Submitting,
            Engine::Running => JobState::Running,
            Engine::Downloading => JobState::Downloading,
            Engine::RetryWait => JobState::RetryWait,
            Engine::Succeeded => JobState::Succeeded,
            Engine::Failed => JobState::Failed,
            Engine::Canceled => JobState::Canceled,
        }
    }
}

/// One job as the browser sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobDto {
    pub id: i64,
    pub batch_id: i64,
    pub project_id: i64,
    pub item_index: i32,
    pub provider: String,
    pub model: String,
    pub prompt: String,
    pub seed: i64,
    pub state: JobState,
    /// Higher runs first (moved to the front).
    pub priority: i64,
    pub progress: Option<f32>,
    pub provider_status: Option<String>,
    pub error: Option<String>,
    pub attempts: i32,
    pub max_attempts: i32,
    pub possibly_duplicated: bool,
    pub cancel_requested: bool,
    pub run_after: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// While running with a progress figure: about how many seconds are left, from the time it
    /// has run at the provider so far (a minutes-long video job shows its end).
    #[serde(default)]
    pub eta_secs: Option<i64>,
}

/// Seconds left for a job `progress` (0–1) of the way after `elapsed_secs`; none before 2%
/// (too early to tell) or once done.
pub fn eta_secs(progress: Option<f32>, elapsed_secs: f64) -> Option<i64> {
    let p = progress? as f64;
    (0.02..1.0)
        .contains(&p)
        .then(|| (elapsed_secs.max(0.0) * (1.0 - p) / p).round() as i64)
}

impl JobDto {
    pub fn is_terminal(&self) -> bool {
        self.state.is_terminal()
    }

    pub fn is_waiting(&self) -> bool {
        self.state.is_waiting()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueTotalsDto {
    pub queued: i64,
    pub running: i64,
    pub retry_wait: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub canceled: i64,
}

impl QueueTotalsDto {
    pub fn active(&self) -> i64 {
        self.queued + self.running + self.retry_wait
    }
}

/// What `/ws` and `/events` send. A client applies `Job`/`ProductCreated`/`Paused` in `seq`
/// order; a `Snapshot` replaces everything it knows (sent first, and again whenever the client
/// fell behind), and events with `seq` at or below the snapshot's are already in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveMessage {
    Snapshot {
        seq: u64,
        paused: bool,
        totals: QueueTotalsDto,
        jobs: Vec<JobDto>,
        /// Providers rate limited right now.
        #[serde(default)]
        provider_pauses: Vec<ProviderPauseDto>,
    },
    Job {
        seq: u64,
        job: JobDto,
    },
    ProductCreated {
        seq: u64,
        product: ProductDto,
    },
    Paused {
        seq: u64,
        paused: bool,
    },
    ProviderPaused {
        seq: u64,
        pause: ProviderPauseDto,
    },
}

/// A provider that answered 429: nothing is sent to it before `until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderPauseDto {
    pub provider: String,
    /// "Replicate: rate limited".
    pub reason: String,
    pub until: DateTime<Utc>,
}

#[cfg(feature = "ssr")]
impl From<factory::providers::limits::Pause> for ProviderPauseDto {
    fn from(p: factory::providers::limits::Pause) -> Self {
        Self {
            provider: p.provider,
            reason: p.reason,
            until: p.until,
        }
    }
}

impl LiveMessage {
    pub fn seq(&self) -> u64 {
        match self {
            LiveMessage::Snapshot { seq, .. }
            | LiveMessage::Job { seq, .. }
            | LiveMessage::ProductCreated { seq, .. }
            | LiveMessage::Paused { seq, .. }
            | LiveMessage::ProviderPaused { seq, .. } => *seq,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<factory::jobs::Job> for JobDto {
    fn from(job: factory::jobs::Job) -> Self {
        let eta = match job.state() {
            factory::jobs::JobState::Running => job.submit_started_at.and_then(|since| {
                let elapsed = (chrono::Utc::now() - since).num_milliseconds() as f64 / 1000.0;
                eta_secs(job.progress, elapsed)
            }),
            _ => None,
        };
        let prompt = job
            .input
            .get("prompt")
            .and_then(|p| p.as_str())
            .unwrap_or_default()
            .to_string();
        Self {
            state: job.state().into(),
            id: job.id,
            batch_id: job.batch_id,
            project_id: job.project_id,
            item_index: job.item_index,
            provider: job.provider,
            model: job.model,
            prompt,
            seed: job.seed,
            priority: job.priority,
            progress: job.progress,
            provider_status: job.provider_status,
            error: job.error,
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            possibly_duplicated: job.possibly_duplicated,
            cancel_requested: job.cancel_requested,
            run_after: job.run_after,
            updated_at: job.updated_at,
            eta_secs: eta,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<factory::jobs::queue::QueueTotals> for QueueTotalsDto {
    fn from(t: factory::jobs::queue::QueueTotals) -> Self {
        Self {
            queued: t.queued,
            running: t.submitting + t.running + t.downloading,
            retry_wait: t.retry_wait,
            succeeded: t.succeeded,
            failed: t.failed,
            canceled: t.canceled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_follows_the_rate_so_far_once_there_is_one() {
        assert_eq!(eta_secs(Some(0.25), 30.0), Some(90));
        assert_eq!(eta_secs(Some(0.5), 60.0), Some(60));
        assert_eq!(eta_secs(Some(0.01), 5.0), None, "too early to tell");
        assert_eq!(eta_secs(Some(1.0), 5.0), None);
        assert_eq!(eta_secs(None, 5.0), None);
    }
}
