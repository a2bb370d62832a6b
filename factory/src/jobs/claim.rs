//! Taking work: claim the next job under a lease, keep the lease while working.

use std::time::Duration;

use diesel::sql_types::{Array, BigInt, Bool, Double, Text};
use diesel::{sql_query, QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{Job, JobId};

/// Claims the next job for one of `providers`, or `None` when nothing is runnable.
///
/// Runnable means: waiting and due (`queued`, or `retry_wait` past its `run_after`), or in flight
/// under an expired lease (its worker died). Expired ones go first, because a provider deletes
/// finished results within the hour and recovery must fetch them promptly. `FOR UPDATE SKIP
/// LOCKED` lets any number of workers and processes claim at once without blocking each other.
///
/// A claimed job with a committed request id resumes as `running` (it is polled, never
/// submitted again). Without one it is (re)submitted; if it was caught after a submission
/// started at a provider with a remote queue, it may exist there twice and is flagged
/// `possibly_duplicated` for the person to see.
pub async fn claim_next(
    conn: &mut AsyncPgConnection,
    worker: &str,
    lease: Duration,
    providers: &[String],
    remote_providers: &[String],
) -> QueryResult<Option<Job>> {
    let claimed = claim(conn, worker, lease, providers, remote_providers, 1).await?;
    Ok(claimed.into_iter().next())
}

/// [`claim_next`] for up to `limit` jobs in one statement (a worker with free capacity for a
/// provider fills it in one round trip), in queue order.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    worker: &str,
    lease: Duration,
    providers: &[String],
    remote_providers: &[String],
    limit: i64,
) -> QueryResult<Vec<Job>> {
    let mut claimed: Vec<Job> = sql_query(
        "UPDATE jobs SET
            state = CASE WHEN provider_request_id IS NULL THEN 'submitting' ELSE 'running' END,
            attempts = CASE WHEN provider_request_id IS NULL THEN attempts + 1 ELSE attempts END,
            possibly_duplicated = possibly_duplicated OR (
                state = 'submitting' AND provider_request_id IS NULL
                AND submit_started_at IS NOT NULL AND provider = ANY($4)),
            submit_started_at = CASE WHEN provider_request_id IS NULL THEN NULL ELSE submit_started_at END,
            lease_owner = $1,
            lease_expires_at = now() + make_interval(secs => $2),
            started_at = coalesce(started_at, now()),
            error = CASE WHEN state IN ('submitting', 'running', 'downloading') THEN error ELSE NULL END,
            updated_at = now()
        WHERE id IN (
            SELECT id FROM jobs
            WHERE provider = ANY($3)
              AND (
                (state IN ('queued', 'retry_wait') AND run_after <= now()
                    AND NOT (SELECT paused FROM queue_settings))
                OR (state IN ('submitting', 'running', 'downloading') AND lease_expires_at < now())
              )
            ORDER BY (state IN ('submitting', 'running', 'downloading')) DESC, priority DESC, id
            LIMIT $5
            FOR UPDATE SKIP LOCKED
        )
        RETURNING *",
    )
    .bind::<Text, _>(worker)
    .bind::<Double, _>(lease.as_secs_f64())
    .bind::<Array<Text>, _>(providers)
    .bind::<Array<Text>, _>(remote_providers)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?;
    // RETURNING does not keep the subquery's order.
    claimed.sort_by_key(|j| {
        (
            !j.state().is_in_flight(),
            std::cmp::Reverse(j.priority),
            j.id,
        )
    });
    Ok(claimed)
}

/// What a lease renewal learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseStatus {
    Held {
        cancel_requested: bool,
    },
    /// Another worker holds the job now (we stalled past the lease), or it was finished or
    /// cancelled: stop working on it.
    Lost,
}

/// Extends the lease, and reports whether someone asked to cancel the job.
pub async fn renew_lease(
    conn: &mut AsyncPgConnection,
    job: JobId,
    worker: &str,
    lease: Duration,
) -> QueryResult<LeaseStatus> {
    #[derive(QueryableByName)]
    struct Renewed {
        #[diesel(sql_type = Bool)]
        cancel_requested: bool,
    }
    let rows: Vec<Renewed> = sql_query(
        "UPDATE jobs SET lease_expires_at = now() + make_interval(secs => $3)
         WHERE id = $1 AND lease_owner = $2
           AND state IN ('submitting', 'running', 'downloading')
         RETURNING cancel_requested",
    )
    .bind::<BigInt, _>(job)
    .bind::<Text, _>(worker)
    .bind::<Double, _>(lease.as_secs_f64())
    .load(conn)
    .await?;
    Ok(match rows.into_iter().next() {
        Some(row) => LeaseStatus::Held {
            cancel_requested: row.cancel_requested,
        },
        None => LeaseStatus::Lost,
    })
}
