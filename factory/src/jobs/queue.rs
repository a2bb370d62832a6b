//! What a person does to the queue: cancel, retry, move to the front, pause and resume, look.

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use super::{Job, JobError, JobId, JobState};
use crate::schema::{jobs, queue_settings};

pub async fn get(conn: &mut AsyncPgConnection, id: JobId) -> Result<Job, JobError> {
    jobs::table
        .find(id)
        .select(Job::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(JobError::NotFound(id))
}

/// What a cancel did.
#[derive(Debug, Clone, PartialEq)]
pub enum Canceled {
    /// Nothing of it was at a provider: it is cancelled now.
    Now(Job),
    /// It is (or was) at a provider: a worker cancels it there, then marks it cancelled.
    Requested(Job),
}

/// Cancels a job in any unfinished state.
///
/// A waiting job that never reached a provider is cancelled on the spot. One that has a
/// provider request (waiting to retry its polling, say) is still running there and still
/// billed: it is marked for a worker to claim at once, paused queue or not, cancel at the
/// provider and then record. A job in flight is marked, and its worker notices within a lease
/// renewal.
pub async fn cancel(conn: &mut AsyncPgConnection, id: JobId) -> Result<Canceled, JobError> {
    let now: Vec<Job> = sql_query(
        "UPDATE jobs SET state = 'canceled', finished_at = now(), updated_at = now()
         WHERE id = $1 AND state IN ('queued', 'retry_wait') AND provider_request_id IS NULL
         RETURNING *",
    )
    .bind::<BigInt, _>(id)
    .load(conn)
    .await?;
    if let Some(job) = now.into_iter().next() {
        return Ok(Canceled::Now(job));
    }
    let requested: Vec<Job> = sql_query(
        "UPDATE jobs SET cancel_requested = true,
                run_after = CASE WHEN state IN ('queued', 'retry_wait') THEN now() ELSE run_after END,
                updated_at = now()
         WHERE id = $1 AND state IN ('queued', 'retry_wait', 'submitting', 'running', 'downloading')
         RETURNING *",
    )
    .bind::<BigInt, _>(id)
    .load(conn)
    .await?;
    if let Some(job) = requested.into_iter().next() {
        if job.state().is_waiting() {
            super::notify_work(conn).await?;
        }
        return Ok(Canceled::Requested(job));
    }
    let job = get(conn, id).await?;
    Err(JobError::WrongState {
        id,
        state: job.state(),
        action: "cancelling",
        allowed: "unfinished",
    })
}

/// What a retry sets. A job that failed while its request was alive at the provider (its
/// polling kept failing) keeps the request id, so the retry polls it again instead of paying for
/// a new one; any other starts a new submission.
const RETRY_SET: &str = "state = 'queued', attempts = 0, error = NULL, run_after = now(),
    provider_request_id = CASE WHEN state = 'failed' THEN provider_request_id END,
    submit_started_at = CASE WHEN state = 'failed' AND provider_request_id IS NOT NULL
                             THEN submit_started_at END,
    provider_status = NULL, progress = NULL, cancel_requested = false,
    finished_at = NULL, updated_at = now()";

/// Queues a failed or cancelled job again with fresh attempts (see [`RETRY_SET`]).
pub async fn retry(conn: &mut AsyncPgConnection, id: JobId) -> Result<Job, JobError> {
    let rows: Vec<Job> = sql_query(format!(
        "UPDATE jobs SET {RETRY_SET} WHERE id = $1 AND state IN ('failed', 'canceled') RETURNING *"
    ))
    .bind::<BigInt, _>(id)
    .load(conn)
    .await?;
    match rows.into_iter().next() {
        Some(job) => {
            super::notify_work(conn).await?;
            Ok(job)
        }
        None => Err(wrong_state(conn, id, "retrying", "failed or cancelled").await),
    }
}

/// Queues every failed job of a batch again; returns them (none when nothing failed).
pub async fn retry_failed_in_batch(
    conn: &mut AsyncPgConnection,
    batch_id: i64,
) -> QueryResult<Vec<Job>> {
    let rows: Vec<Job> = sql_query(format!(
        "UPDATE jobs SET {RETRY_SET} WHERE batch_id = $1 AND state = 'failed' RETURNING *"
    ))
    .bind::<BigInt, _>(batch_id)
    .load(conn)
    .await?;
    if !rows.is_empty() {
        super::notify_work(conn).await?;
    }
    Ok(rows)
}

/// Cancels every unfinished job of a batch, each as [`cancel`] would: those that never reached
/// a provider at once, the others by a request a worker carries out. Returns the jobs changed.
pub async fn cancel_batch(conn: &mut AsyncPgConnection, batch_id: i64) -> QueryResult<Vec<Job>> {
    let mut changed: Vec<Job> = sql_query(
        "UPDATE jobs SET state = 'canceled', finished_at = now(), updated_at = now()
         WHERE batch_id = $1 AND state IN ('queued', 'retry_wait')
           AND provider_request_id IS NULL
         RETURNING *",
    )
    .bind::<BigInt, _>(batch_id)
    .load(conn)
    .await?;
    // Whatever a worker claimed in between is caught here.
    let requested: Vec<Job> = sql_query(
        "UPDATE jobs SET cancel_requested = true,
                run_after = CASE WHEN state IN ('queued', 'retry_wait') THEN now() ELSE run_after END,
                updated_at = now()
         WHERE batch_id = $1 AND NOT cancel_requested
           AND state IN ('queued', 'retry_wait', 'submitting', 'running', 'downloading')
         RETURNING *",
    )
    .bind::<BigInt, _>(batch_id)
    .load(conn)
    .await?;
    if requested.iter().any(|j| j.state().is_waiting()) {
        super::notify_work(conn).await?;
    }
    changed.extend(requested);
    Ok(changed)
}

/// Puts a waiting job ahead of every other.
pub async fn move_to_front(conn: &mut AsyncPgConnection, id: JobId) -> Result<Job, JobError> {
    let rows: Vec<Job> = sql_query(
        "UPDATE jobs SET priority = (SELECT coalesce(max(priority), 0) + 1 FROM jobs), updated_at = now()
         WHERE id = $1 AND state IN ('queued', 'retry_wait') RETURNING *",
    )
    .bind::<BigInt, _>(id)
    .load(conn)
    .await?;
    match rows.into_iter().next() {
        Some(job) => Ok(job),
        None => Err(wrong_state(conn, id, "moving to the front", "waiting").await),
    }
}

async fn wrong_state(
    conn: &mut AsyncPgConnection,
    id: JobId,
    action: &'static str,
    allowed: &'static str,
) -> JobError {
    match get(conn, id).await {
        Ok(job) => JobError::WrongState {
            id,
            state: job.state(),
            action,
            allowed,
        },
        Err(e) => e,
    }
}

/// Pausing stops new claims (in every process sharing the database); jobs already running
/// finish. It survives restarts.
pub async fn set_paused(conn: &mut AsyncPgConnection, paused: bool) -> QueryResult<()> {
    diesel::update(queue_settings::table)
        .set(queue_settings::paused.eq(paused))
        .execute(conn)
        .await?;
    if !paused {
        super::notify_work(conn).await?;
    }
    Ok(())
}

pub async fn is_paused(conn: &mut AsyncPgConnection) -> QueryResult<bool> {
    queue_settings::table
        .select(queue_settings::paused)
        .first(conn)
        .await
}

/// How many jobs are in each state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueTotals {
    pub queued: i64,
    pub submitting: i64,
    pub running: i64,
    pub downloading: i64,
    pub retry_wait: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub canceled: i64,
}

impl QueueTotals {
    pub fn active(&self) -> i64 {
        self.queued + self.submitting + self.running + self.downloading + self.retry_wait
    }
}

pub async fn totals(conn: &mut AsyncPgConnection) -> QueryResult<QueueTotals> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        state: String,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let rows: Vec<Row> = sql_query("SELECT state, count(*) AS n FROM jobs GROUP BY state")
        .load(conn)
        .await?;
    let mut totals = QueueTotals::default();
    for row in rows {
        let slot = match row.state.parse::<JobState>() {
            Ok(JobState::Queued) => &mut totals.queued,
            Ok(JobState::Submitting) => &mut totals.submitting,
            Ok(JobState::Running) => &mut totals.running,
            Ok(JobState::Downloading) => &mut totals.downloading,
            Ok(JobState::RetryWait) => &mut totals.retry_wait,
            Ok(JobState::Succeeded) => &mut totals.succeeded,
            Ok(JobState::Failed) => &mut totals.failed,
            Ok(JobState::Canceled) => &mut totals.canceled,
            Err(_) => continue,
        };
        *slot = row.n;
    }
    Ok(totals)
}

/// The jobs of one batch, in item order.
pub async fn list_for_batch(conn: &mut AsyncPgConnection, batch_id: i64) -> QueryResult<Vec<Job>> {
    jobs::table
        .filter(jobs::batch_id.eq(batch_id))
        .order(jobs::item_index.asc())
        .select(Job::as_select())
        .load(conn)
        .await
}

/// What a live client starts from: every job in flight, the front of the queue (`waiting`
/// jobs in the order they run) and the most recently finished (`finished`). Bounded whatever
/// the queue's length; the Queue page pages through the rest ([`super::board`]).
pub async fn list_live(
    conn: &mut AsyncPgConnection,
    waiting: i64,
    finished: i64,
) -> QueryResult<Vec<Job>> {
    let mut jobs: Vec<Job> = jobs::table
        .filter(jobs::state.eq_any(["submitting", "running", "downloading"]))
        .order(jobs::id.asc())
        .select(Job::as_select())
        .load(conn)
        .await?;
    jobs.extend(
        jobs::table
            .filter(jobs::state.eq_any(["queued", "retry_wait"]))
            .order((jobs::priority.desc(), jobs::id.asc()))
            .limit(waiting)
            .select(Job::as_select())
            .load::<Job>(conn)
            .await?,
    );
    jobs.extend(
        jobs::table
            .filter(jobs::state.eq_any(["succeeded", "failed", "canceled"]))
            .order(jobs::updated_at.desc())
            .limit(finished)
            .select(Job::as_select())
            .load::<Job>(conn)
            .await?,
    );
    Ok(jobs)
}
