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
    /// It had not started: it is cancelled now.
    Now(Job),
    /// A worker holds it: the worker cancels it at the provider and then marks it.
    Requested(Job),
}

/// Cancels a job in any unfinished state.
pub async fn cancel(conn: &mut AsyncPgConnection, id: JobId) -> Result<Canceled, JobError> {
    let now: Vec<Job> = sql_query(
        "UPDATE jobs SET state = 'canceled', finished_at = now(), updated_at = now()
         WHERE id = $1 AND state IN ('queued', 'retry_wait') RETURNING *",
    )
    .bind::<BigInt, _>(id)
    .load(conn)
    .await?;
    if let Some(job) = now.into_iter().next() {
        return Ok(Canceled::Now(job));
    }
    let requested: Vec<Job> = sql_query(
        "UPDATE jobs SET cancel_requested = true, updated_at = now()
         WHERE id = $1 AND state IN ('submitting', 'running', 'downloading') RETURNING *",
    )
    .bind::<BigInt, _>(id)
    .load(conn)
    .await?;
    if let Some(job) = requested.into_iter().next() {
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

/// Queues a failed or cancelled job again, as a fresh submission with fresh attempts.
pub async fn retry(conn: &mut AsyncPgConnection, id: JobId) -> Result<Job, JobError> {
    let rows: Vec<Job> = sql_query(
        "UPDATE jobs SET state = 'queued', attempts = 0, error = NULL, run_after = now(),
                provider_request_id = NULL, submit_started_at = NULL, provider_status = NULL,
                progress = NULL, cancel_requested = false, finished_at = NULL, updated_at = now()
         WHERE id = $1 AND state IN ('failed', 'canceled') RETURNING *",
    )
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

/// Makes every in-flight lease claimable now. Only for a database no other live process uses
/// (the managed cluster, whose data dir this process has locked): after a crash, its jobs then
/// resume at once instead of after the lease time, which matters because providers delete
/// results within the hour. Returns how many jobs were released.
pub async fn release_orphaned_leases(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    sql_query(
        "UPDATE jobs SET lease_expires_at = now() - interval '1 second'
         WHERE state IN ('submitting', 'running', 'downloading') AND lease_expires_at > now()",
    )
    .execute(conn)
    .await
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

/// For the Queue page: every unfinished job (front of the queue first), then the most recently
/// finished ones.
pub async fn list_recent(
    conn: &mut AsyncPgConnection,
    finished_limit: i64,
) -> QueryResult<Vec<Job>> {
    let mut active: Vec<Job> = jobs::table
        .filter(jobs::state.eq_any([
            "queued",
            "submitting",
            "running",
            "downloading",
            "retry_wait",
        ]))
        .order((jobs::priority.desc(), jobs::id.asc()))
        .select(Job::as_select())
        .load(conn)
        .await?;
    let finished: Vec<Job> = jobs::table
        .filter(jobs::state.eq_any(["succeeded", "failed", "canceled"]))
        .order(jobs::updated_at.desc())
        .limit(finished_limit)
        .select(Job::as_select())
        .load(conn)
        .await?;
    active.extend(finished);
    Ok(active)
}
