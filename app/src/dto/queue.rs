//! The Queue page on the wire: batches with their counts per state, a batch's jobs, and the
//! cursors that page through both. A cursor travels as a short token (`a.<priority>.<job>`,
//! `f.<batch>`, `j.<priority>.<item>`) and is checked when it comes back.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::JobDto;

/// Which batches a page lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum QueueSection {
    /// Still waiting or running, in the order they run.
    Active,
    /// Every job finished, newest first.
    Finished,
}

/// Which of a batch's jobs to show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum JobFilter {
    #[default]
    All,
    Waiting,
    Running,
    Succeeded,
    Failed,
    Canceled,
}

impl JobFilter {
    pub const ALL: [JobFilter; 6] = [
        JobFilter::All,
        JobFilter::Waiting,
        JobFilter::Running,
        JobFilter::Succeeded,
        JobFilter::Failed,
        JobFilter::Canceled,
    ];

    pub fn label(self) -> &'static str {
        match self {
            JobFilter::All => "All",
            JobFilter::Waiting => "Waiting",
            JobFilter::Running => "Running",
            JobFilter::Succeeded => "Done",
            JobFilter::Failed => "Failed",
            JobFilter::Canceled => "Cancelled",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JobFilter::All => "all",
            JobFilter::Waiting => "waiting",
            JobFilter::Running => "running",
            JobFilter::Succeeded => "succeeded",
            JobFilter::Failed => "failed",
            JobFilter::Canceled => "canceled",
        }
    }

    pub fn parse(text: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == text)
            .unwrap_or_default()
    }
}

/// How many of a batch's jobs are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StateCountsDto {
    pub queued: i64,
    pub running: i64,
    pub retry_wait: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub canceled: i64,
}

impl StateCountsDto {
    pub fn unfinished(&self) -> i64 {
        self.queued + self.running + self.retry_wait
    }

    pub fn total(&self) -> i64 {
        self.unfinished() + self.succeeded + self.failed + self.canceled
    }

    /// The non-zero counts in words: "3 waiting", "1 running", ...
    pub fn phrases(&self) -> Vec<(&'static str, String)> {
        [
            ("queued", self.queued, "waiting"),
            ("retry_wait", self.retry_wait, "to retry"),
            ("running", self.running, "running"),
            ("succeeded", self.succeeded, "done"),
            ("failed", self.failed, "failed"),
            ("canceled", self.canceled, "cancelled"),
        ]
        .into_iter()
        .filter(|(_, n, _)| *n > 0)
        .map(|(state, n, word)| (state, format!("{n} {word}")))
        .collect()
    }
}

/// A product's small picture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ThumbDto {
    pub product_id: i64,
    pub project_id: i64,
    pub hash: String,
}

impl ThumbDto {
    pub fn url(&self) -> String {
        format!("/media/{}/{}-256.webp", self.project_id, self.hash)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BatchSummaryDto {
    pub id: i64,
    pub project_id: i64,
    pub project_name: String,
    pub provider: String,
    pub model: String,
    pub template: String,
    pub created_at: DateTime<Utc>,
    pub counts: StateCountsDto,
    /// 0..=1: finished jobs whole, running ones by their provider's progress.
    pub progress: f32,
    pub thumbs: Vec<ThumbDto>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BatchPageDto {
    pub batches: Vec<BatchSummaryDto>,
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct QueueJobDto {
    pub job: JobDto,
    pub thumb: Option<ThumbDto>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobPageDto {
    pub jobs: Vec<QueueJobDto>,
    pub next: Option<String>,
}

#[cfg(any(feature = "ssr", test))]
/// Reads the numbers of a cursor token: `prefix` then `count` integers, dot-separated.
fn cursor_numbers(token: &str, prefix: &str, count: usize) -> Result<Vec<i64>, String> {
    let bad = || format!("“{token}” is not a page of this list; reload the Queue page.");
    let mut parts = token.split('.');
    if parts.next() != Some(prefix) {
        return Err(bad());
    }
    let numbers: Vec<i64> = parts
        .map(|p| p.parse::<i64>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    if numbers.len() != count {
        return Err(bad());
    }
    Ok(numbers)
}

#[cfg(feature = "ssr")]
mod convert {
    use super::*;
    use factory::jobs::board::{self, BatchCursor, JobCursor, Section};
    use factory::jobs::JobState;

    impl From<QueueSection> for Section {
        fn from(s: QueueSection) -> Self {
            match s {
                QueueSection::Active => Section::Active,
                QueueSection::Finished => Section::Finished,
            }
        }
    }

    impl JobFilter {
        pub fn states(self) -> Vec<JobState> {
            match self {
                JobFilter::All => Vec::new(),
                JobFilter::Waiting => vec![JobState::Queued, JobState::RetryWait],
                JobFilter::Running => vec![
                    JobState::Submitting,
                    JobState::Running,
                    JobState::Downloading,
                ],
                JobFilter::Succeeded => vec![JobState::Succeeded],
                JobFilter::Failed => vec![JobState::Failed],
                JobFilter::Canceled => vec![JobState::Canceled],
            }
        }
    }

    pub fn batch_cursor_token(cursor: BatchCursor) -> String {
        match cursor {
            BatchCursor::Active {
                priority,
                first_job,
            } => format!("a.{priority}.{first_job}"),
            BatchCursor::Finished { batch } => format!("f.{batch}"),
        }
    }

    /// The cursor a token names, for `section`'s order.
    pub fn parse_batch_cursor(section: QueueSection, token: &str) -> Result<BatchCursor, String> {
        match section {
            QueueSection::Active => {
                let n = cursor_numbers(token, "a", 2)?;
                Ok(BatchCursor::Active {
                    priority: n[0],
                    first_job: n[1],
                })
            }
            QueueSection::Finished => {
                let n = cursor_numbers(token, "f", 1)?;
                Ok(BatchCursor::Finished { batch: n[0] })
            }
        }
    }

    pub fn parse_job_cursor(token: &str) -> Result<JobCursor, String> {
        let n = cursor_numbers(token, "j", 2)?;
        let item_index = i32::try_from(n[1])
            .map_err(|_| format!("“{token}” is not a page of this list; reload the Queue page."))?;
        Ok(JobCursor {
            priority: n[0],
            item_index,
        })
    }

    impl From<board::Thumb> for ThumbDto {
        fn from(t: board::Thumb) -> Self {
            Self {
                product_id: t.product_id,
                project_id: t.project_id,
                hash: t.hash,
            }
        }
    }

    impl From<board::BatchSummary> for BatchSummaryDto {
        fn from(b: board::BatchSummary) -> Self {
            let c = b.counts;
            Self {
                progress: b.progress(),
                id: b.id,
                project_id: b.project_id,
                project_name: b.project_name,
                provider: b.provider,
                model: b.model,
                template: b.template,
                created_at: b.created_at,
                counts: StateCountsDto {
                    queued: c.queued,
                    running: c.running,
                    retry_wait: c.retry_wait,
                    succeeded: c.succeeded,
                    failed: c.failed,
                    canceled: c.canceled,
                },
                thumbs: b.thumbs.into_iter().map(Into::into).collect(),
            }
        }
    }

    impl From<board::BatchPage> for BatchPageDto {
        fn from(p: board::BatchPage) -> Self {
            Self {
                batches: p.batches.into_iter().map(Into::into).collect(),
                next: p.next.map(batch_cursor_token),
            }
        }
    }

    impl From<board::JobPage> for JobPageDto {
        fn from(p: board::JobPage) -> Self {
            Self {
                jobs: p
                    .jobs
                    .into_iter()
                    .map(|r| QueueJobDto {
                        job: r.job.into(),
                        thumb: r.thumb.map(Into::into),
                    })
                    .collect(),
                next: p.next.map(|c| format!("j.{}.{}", c.priority, c.item_index)),
            }
        }
    }
}

#[cfg(feature = "ssr")]
pub use convert::{parse_batch_cursor, parse_job_cursor};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_tokens_are_checked() {
        assert_eq!(cursor_numbers("a.3.17", "a", 2), Ok(vec![3, 17]));
        assert_eq!(cursor_numbers("a.-1.17", "a", 2), Ok(vec![-1, 17]));
        for bad in [
            "",
            "a",
            "a.3",
            "f.3.4",
            "a.x.1",
            "a.1.2.3",
            "a.1.99999999999999999999",
        ] {
            assert!(cursor_numbers(bad, "a", 2).is_err(), "{bad}");
        }
    }

    #[test]
    fn counts_read_as_words_without_zeros() {
        let counts = StateCountsDto {
            queued: 3,
            failed: 1,
            ..Default::default()
        };
        let words: Vec<String> = counts.phrases().into_iter().map(|(_, w)| w).collect();
        assert_eq!(words, vec!["3 waiting", "1 failed"]);
        assert_eq!(counts.total(), 4);
    }
}
