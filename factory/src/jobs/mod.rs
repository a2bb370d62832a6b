//! The durable job queue: one row per generation.
//!
//! ```text
//! queued -> submitting -> running (request id committed) -> downloading -> succeeded
//!    \-> canceled    \-> retry_wait -> queued ...               \-> failed (after max attempts)
//! ```
//!
//! Every transition is one SQL statement, and every statement a worker makes is guarded by its
//! [`Lease`]: the fencing token the claim took (`lease_token`, bumped at every claim). A worker
//! that lost its lease (it stalled, another took over, or a second task of the same process
//! holds a newer claim) matches no row and stops, so it can never overwrite newer state. No
//! transaction is held open across a provider call.
//! [`queue`] holds what people do (cancel, retry, move to front, pause); [`claim`] and
//! [`transitions`] what workers do; [`worker`] runs them; [`board`] is how the Queue page pages
//! through it all.

pub mod board;
pub mod claim;
pub mod queue;
pub mod transitions;
pub mod worker;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::schema::jobs;

pub type JobId = i64;

/// The PostgreSQL channel that says "there is work": every process's worker listens on it.
pub const WORK_CHANNEL: &str = "art_factory_jobs";

/// Tells every listening worker (in any process) that jobs became runnable. Sent inside the
/// caller's transaction, PostgreSQL delivers it on commit.
pub async fn notify_work(conn: &mut diesel_async::AsyncPgConnection) -> diesel::QueryResult<()> {
    let notify = diesel::sql_query(format!("NOTIFY {WORK_CHANNEL}"));
    diesel_async::RunQueryDsl::execute(notify, conn)
        .await
        .map(|_| ())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
    pub const ALL: [JobState; 8] = [
        JobState::Queued,
        JobState::Submitting,
        JobState::Running,
        JobState::Downloading,
        JobState::RetryWait,
        JobState::Succeeded,
        JobState::Failed,
        JobState::Canceled,
    ];

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

    /// Waiting to be claimed.
    pub fn is_waiting(self) -> bool {
        matches!(self, JobState::Queued | JobState::RetryWait)
    }

    /// Held by a worker under a lease.
    pub fn is_in_flight(self) -> bool {
        matches!(
            self,
            JobState::Submitting | JobState::Running | JobState::Downloading
        )
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| format!("unknown job state “{s}”"))
    }
}

/// A job row.
#[derive(Debug, Clone, PartialEq, Queryable, QueryableByName, Selectable, Identifiable)]
#[diesel(table_name = jobs)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct Job {
    pub id: JobId,
    pub batch_id: i64,
    pub project_id: i64,
    pub item_index: i32,
    pub provider: String,
    pub model: String,
    pub input: serde_json::Value,
    pub bindings: serde_json::Value,
    pub seed: i64,
    state: String,
    pub priority: i64,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_after: DateTime<Utc>,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub submit_started_at: Option<DateTime<Utc>>,
    pub provider_request_id: Option<String>,
    pub possibly_duplicated: bool,
    pub provider_status: Option<String>,
    pub progress: Option<f32>,
    pub error: Option<String>,
    pub cancel_requested: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Bumped at every claim; see [`Lease`].
    pub lease_token: i64,
}

/// A worker's hold on one claimed job: the job and the token its claim took. Every write the
/// worker makes about the job presents it, and matches nothing once a later claim (by any
/// worker, in any process) has bumped the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lease {
    pub job: JobId,
    pub token: i64,
}

impl Job {
    pub fn state(&self) -> JobState {
        // The column has a CHECK constraint listing exactly these states.
        self.state.parse().expect("jobs.state holds a known state")
    }

    /// The request as stored at enqueue time.
    pub fn request(&self) -> Result<crate::providers::GenerationRequest, serde_json::Error> {
        serde_json::from_value(self.input.clone())
    }

    /// The lease this row was claimed with (meaningful on a row a claim returned).
    pub fn lease(&self) -> Lease {
        Lease {
            job: self.id,
            token: self.lease_token,
        }
    }

    pub fn event(&self) -> crate::events::EventKind {
        crate::events::EventKind::Job(Box::new(self.clone()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("There is no job {0}.")]
    NotFound(JobId),
    #[error("Job {id} is {state}; {action} is only possible for {allowed} jobs.")]
    WrongState {
        id: JobId,
        state: JobState,
        action: &'static str,
        allowed: &'static str,
    },
    #[error(transparent)]
    Database(#[from] crate::db::DbError),
}

impl From<diesel::result::Error> for JobError {
    fn from(e: diesel::result::Error) -> Self {
        JobError::Database(crate::db::DbError::Query(e))
    }
}
