//! What a worker records about a job it holds. Each function is one statement guarded by the
//! worker's [`Lease`] (the token of its claim) and returns the updated row, or `None` when the
//! lease was lost (a later claim took over, or the job was cancelled meanwhile): the caller then
//! stops.

use std::time::Duration;

use diesel::sql_types::{BigInt, Bool, Double, Float, Nullable, Text};
use diesel::{sql_query, QueryResult};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::{Job, Lease};
use crate::products::{self, NewProduct, Product};

/// Runs an `UPDATE ... RETURNING *` that matches at most one job.
async fn one<'q, Q>(query: Q, conn: &mut AsyncPgConnection) -> QueryResult<Option<Job>>
where
    Q: diesel_async::methods::LoadQuery<'q, AsyncPgConnection, Job> + Send + 'q,
{
    let rows: Vec<Job> = query.load(conn).await?;
    Ok(rows.into_iter().next())
}

/// `UPDATE jobs SET <set>, updated_at = now() WHERE <the lease is current> AND <when>`: the
/// shape of every transition that needs nothing bound but the lease. Both fragments are
/// constants from this module, never input.
async fn guarded(
    conn: &mut AsyncPgConnection,
    lease: Lease,
    set: &'static str,
    when: &'static str,
) -> QueryResult<Option<Job>> {
    one(
        sql_query(format!(
            "UPDATE jobs SET {set}, updated_at = now()
             WHERE id = $1 AND lease_token = $2 AND {when} RETURNING *"
        ))
        .bind::<BigInt, _>(lease.job)
        .bind::<BigInt, _>(lease.token),
        conn,
    )
    .await
}

/// Notes that a submission is about to be sent. Committed before the provider is called, so
/// that a crash between sending and recording the request id is visible afterwards.
pub async fn begin_submit(conn: &mut AsyncPgConnection, lease: Lease) -> QueryResult<Option<Job>> {
    guarded(
        conn,
        lease,
        "submit_started_at = now()",
        "state = 'submitting'",
    )
    .await
}

/// Commits the provider's request id: from here on the job is only ever polled.
pub async fn record_request_id(
    conn: &mut AsyncPgConnection,
    lease: Lease,
    request_id: &str,
) -> QueryResult<Option<Job>> {
    one(
        sql_query(
            "UPDATE jobs SET provider_request_id = $3, state = 'running', provider_status = 'queued',
                    updated_at = now()
             WHERE id = $1 AND lease_token = $2 AND state = 'submitting' RETURNING *",
        )
        .bind::<BigInt, _>(lease.job)
        .bind::<BigInt, _>(lease.token)
        .bind::<Text, _>(request_id.to_string()),
        conn,
    )
    .await
}

pub async fn record_progress(
    conn: &mut AsyncPgConnection,
    lease: Lease,
    status: Option<&str>,
    progress: Option<f32>,
) -> QueryResult<Option<Job>> {
    one(
        sql_query(
            "UPDATE jobs SET provider_status = coalesce($3, provider_status),
                    progress = coalesce($4, progress), updated_at = now()
             WHERE id = $1 AND lease_token = $2 AND state = 'running' RETURNING *",
        )
        .bind::<BigInt, _>(lease.job)
        .bind::<BigInt, _>(lease.token)
        .bind::<Nullable<Text>, _>(status.map(str::to_string))
        .bind::<Nullable<Float>, _>(progress.map(|p| p.clamp(0.0, 1.0))),
        conn,
    )
    .await
}

/// Progress of work done in this process (a render): the job shows as running while it lasts.
/// It has no request id, so after a crash it is run again from the start, which costs nothing.
pub async fn record_local_progress(
    conn: &mut AsyncPgConnection,
    lease: Lease,
    status: &str,
    progress: Option<f32>,
) -> QueryResult<Option<Job>> {
    one(
        sql_query(
            "UPDATE jobs SET state = 'running', provider_status = $3,
                    progress = coalesce($4, progress), updated_at = now()
             WHERE id = $1 AND lease_token = $2 AND state IN ('submitting', 'running')
               AND provider_request_id IS NULL RETURNING *",
        )
        .bind::<BigInt, _>(lease.job)
        .bind::<BigInt, _>(lease.token)
        .bind::<Text, _>(status.to_string())
        .bind::<Nullable<Float>, _>(progress.map(|p| p.clamp(0.0, 1.0))),
        conn,
    )
    .await
}

pub async fn begin_download(
    conn: &mut AsyncPgConnection,
    lease: Lease,
) -> QueryResult<Option<Job>> {
    guarded(
        conn,
        lease,
        "state = 'downloading'",
        "state IN ('submitting', 'running')",
    )
    .await
}

/// Stores the products and marks the job succeeded, atomically. Products already stored for
/// this job (a download retried after a crash) are not stored again.
pub async fn complete(
    conn: &mut AsyncPgConnection,
    lease: Lease,
    rows: Vec<NewProduct>,
) -> QueryResult<Option<(Job, Vec<Product>)>> {
    conn.transaction(async move |conn| {
        let done = one(
            sql_query(
                "UPDATE jobs SET state = 'succeeded', progress = 1, error = NULL, finished_at = now(),
                        lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
                 WHERE id = $1 AND lease_token = $2 AND state = 'downloading' RETURNING *",
            )
            .bind::<BigInt, _>(lease.job)
            .bind::<BigInt, _>(lease.token),
            conn,
        )
        .await?;
        let Some(done) = done else {
            return Ok(None);
        };
        let inserted = products::insert_new(conn, &rows).await?;
        Ok(Some((done, inserted)))
    })
    .await
}

/// How a failed attempt ends.
#[derive(Debug, Clone)]
pub struct Failure {
    pub message: String,
    pub retryable: bool,
    /// When to try again, if retryable and attempts remain.
    pub retry_in: Duration,
    /// Keep the provider request id: the failure was in talking to the provider about a request
    /// that still exists there (so retrying polls it again rather than paying for a new one).
    pub keep_request: bool,
    /// A submission was sent and its outcome is unknown (a timeout, a broken connection, a 5xx
    /// from a proxy, an unreadable answer): the provider may hold the request, so submitting
    /// again may pay twice. The job is flagged before it is retried.
    pub possibly_duplicated: bool,
}

/// Schedules a retry (attempts remain and the failure is retryable) or fails the job for good,
/// with the message the person will read.
pub async fn fail_or_retry(
    conn: &mut AsyncPgConnection,
    lease: Lease,
    failure: &Failure,
) -> QueryResult<Option<Job>> {
    one(
        sql_query(
            "UPDATE jobs SET
                state = CASE WHEN $4 AND attempts < max_attempts THEN 'retry_wait' ELSE 'failed' END,
                run_after = now() + make_interval(secs => $5),
                provider_request_id = CASE WHEN $6 THEN provider_request_id ELSE NULL END,
                submit_started_at = CASE WHEN $6 THEN submit_started_at ELSE NULL END,
                possibly_duplicated = possibly_duplicated OR $7,
                error = $3,
                finished_at = CASE WHEN $4 AND attempts < max_attempts THEN NULL ELSE now() END,
                lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
             WHERE id = $1 AND lease_token = $2 AND state IN ('submitting', 'running', 'downloading')
             RETURNING *",
        )
        .bind::<BigInt, _>(lease.job)
        .bind::<BigInt, _>(lease.token)
        .bind::<Text, _>(failure.message.clone())
        .bind::<Bool, _>(failure.retryable)
        .bind::<Double, _>(failure.retry_in.as_secs_f64())
        .bind::<Bool, _>(failure.keep_request)
        .bind::<Bool, _>(failure.possibly_duplicated),
        conn,
    )
    .await
}

/// Finishes a cancellation the worker carried out (after telling the provider, if needed).
pub async fn mark_canceled(conn: &mut AsyncPgConnection, lease: Lease) -> QueryResult<Option<Job>> {
    guarded(
        conn,
        lease,
        "state = 'canceled', finished_at = now(), lease_owner = NULL, lease_expires_at = NULL",
        "state IN ('submitting', 'running', 'downloading')",
    )
    .await
}

/// Exponential backoff with jitter and a cap: attempt 1 waits about `base`, each later attempt
/// about twice as long, never more than `cap`. "Equal jitter": half fixed, half random, so
/// retries spread out but never come back at once.
pub fn backoff(attempt: i32, base: Duration, cap: Duration, jitter: f64) -> Duration {
    let exponent = (attempt.max(1) - 1).min(30) as u32;
    let full = base.saturating_mul(1u32 << exponent.min(20)).min(cap);
    full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_each_attempt_within_jitter_and_stops_at_the_cap() {
        let base = Duration::from_secs(2);
        let cap = Duration::from_secs(60);
        assert_eq!(backoff(1, base, cap, 1.0), Duration::from_secs(2));
        assert_eq!(backoff(1, base, cap, 0.0), Duration::from_secs(1));
        assert_eq!(backoff(3, base, cap, 1.0), Duration::from_secs(8));
        assert_eq!(backoff(10, base, cap, 1.0), cap);
        assert_eq!(backoff(1000, base, cap, 0.0), cap / 2);
    }
}
