//! Taking work and keeping it: claim jobs under a lease, renew the lease, hand it back.
//!
//! Every claim bumps the job's `lease_token`; the [`Lease`] it returns (job id and token) is
//! what every later statement of the worker must present, so a claim always supersedes the ones
//! before it, whoever made them.

use std::time::Duration;

use diesel::sql_types::{Array, BigInt, Bool, Double, Text};
use diesel::{sql_query, QueryResult, QueryableByName};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::{Job, JobId, Lease};

/// Who claims, for how long, and what.
#[derive(Debug, Clone, Copy)]
pub struct Claimer<'a> {
    /// Names the worker in `lease_owner` (for people reading the table, and the hand-back).
    pub worker: &'a str,
    pub lease: Duration,
    /// Providers to claim for.
    pub providers: &'a [String],
    /// Providers whose work lives in a remote queue (a submission caught by a crash may have
    /// reached them).
    pub remote_providers: &'a [String],
    /// Jobs this worker is still running: never claimed again by it, whatever their lease says.
    pub running: &'a [JobId],
}

/// Claims the next job for one of `providers`, or `None` when nothing is runnable.
pub async fn claim_next(
    conn: &mut AsyncPgConnection,
    worker: &str,
    lease: Duration,
    providers: &[String],
    remote_providers: &[String],
) -> QueryResult<Option<Job>> {
    let claimer = Claimer {
        worker,
        lease,
        providers,
        remote_providers,
        running: &[],
    };
    Ok(claim(conn, &claimer, 1).await?.into_iter().next())
}

/// Claims up to `limit` jobs in one statement (a worker with free capacity for a provider fills
/// it in one round trip), in queue order.
///
/// Runnable means: waiting and due (`queued`, or `retry_wait` past its `run_after`, unless the
/// queue is paused), waiting with a cancel to carry out at the provider (paused or not), or in
/// flight under an expired lease (its worker died). Expired ones go first, because a provider
/// deletes finished results within the hour and recovery must fetch them promptly. `FOR UPDATE
/// SKIP LOCKED` lets any number of workers and processes claim at once without blocking each
/// other.
///
/// Every claim is an attempt and counts. A job whose attempts are used up is not run: the same
/// statement fails it with its last error (or says its last attempt was interrupted), and it is
/// returned in state `failed` for the caller to publish. A job with a committed request id
/// resumes as `running` (it is polled, never submitted again). Without one it is (re)submitted;
/// if it was caught after a submission started at a provider with a remote queue, it may exist
/// there twice and is flagged `possibly_duplicated` for the person to see.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    claimer: &Claimer<'_>,
    limit: i64,
) -> QueryResult<Vec<Job>> {
    let mut claimed: Vec<Job> = sql_query(
        "UPDATE jobs j SET
            state = CASE WHEN p.exhausted THEN 'failed'
                         WHEN j.provider_request_id IS NULL THEN 'submitting' ELSE 'running' END,
            attempts = CASE WHEN p.exhausted THEN j.attempts ELSE j.attempts + 1 END,
            possibly_duplicated = j.possibly_duplicated OR (
                j.state = 'submitting' AND j.provider_request_id IS NULL
                AND j.submit_started_at IS NOT NULL AND j.provider = ANY($4)),
            submit_started_at = CASE WHEN j.provider_request_id IS NULL THEN NULL
                                     ELSE j.submit_started_at END,
            lease_owner = CASE WHEN p.exhausted THEN NULL ELSE $1 END,
            lease_expires_at = CASE WHEN p.exhausted THEN NULL
                                    ELSE now() + make_interval(secs => $2) END,
            lease_token = j.lease_token + 1,
            started_at = coalesce(j.started_at, now()),
            finished_at = CASE WHEN p.exhausted THEN now() ELSE NULL END,
            error = CASE
                WHEN p.exhausted THEN coalesce(j.error, format(
                    'Gave up after %s attempts: the last one was interrupted before it finished '
                    '(the app stopped while it ran). Retry it to try again.', j.attempts))
                WHEN j.state IN ('submitting', 'running', 'downloading') THEN j.error
                ELSE NULL END,
            updated_at = now()
        FROM (
            SELECT id, (attempts >= max_attempts AND NOT cancel_requested) AS exhausted
            FROM jobs
            WHERE provider = ANY($3) AND id <> ALL($6)
              AND (
                (state IN ('queued', 'retry_wait') AND (cancel_requested OR (
                    run_after <= now() AND NOT (SELECT paused FROM queue_settings))))
                OR (state IN ('submitting', 'running', 'downloading') AND lease_expires_at < now())
              )
            ORDER BY (state IN ('submitting', 'running', 'downloading') OR cancel_requested) DESC,
                     priority DESC, id
            LIMIT $5
            FOR UPDATE SKIP LOCKED
        ) p
        WHERE j.id = p.id
        RETURNING j.*",
    )
    .bind::<Text, _>(claimer.worker)
    .bind::<Double, _>(claimer.lease.as_secs_f64())
    .bind::<Array<Text>, _>(claimer.providers)
    .bind::<Array<Text>, _>(claimer.remote_providers)
    .bind::<BigInt, _>(limit)
    .bind::<Array<BigInt>, _>(claimer.running)
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

#[derive(QueryableByName)]
struct InFlight {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// [`claim`] for one provider whose cap on jobs in flight holds across every process on this
/// database (a hosted provider's account limit): claims for the provider take turns on a
/// transaction-scoped advisory lock, and the count of its jobs in flight under a live lease is
/// read after the lock is held, so two processes claiming at once cannot both fill the cap.
/// Claims at most `cap` minus that count (and at most `limit`).
pub async fn claim_capped(
    conn: &mut AsyncPgConnection,
    claimer: &Claimer<'_>,
    cap: i64,
    limit: i64,
) -> QueryResult<Vec<Job>> {
    let [provider] = claimer.providers else {
        panic!("claim_capped claims for one provider");
    };
    conn.transaction(async |conn| {
        sql_query("SELECT pg_advisory_xact_lock(hashtext('art-factory:claim'), hashtext($1))")
            .bind::<Text, _>(provider)
            .execute(&mut *conn)
            .await?;
        let in_flight: InFlight = sql_query(
            "SELECT count(*) AS n FROM jobs
             WHERE provider = $1 AND state IN ('submitting', 'running', 'downloading')
               AND lease_expires_at >= now()",
        )
        .bind::<Text, _>(provider)
        .get_result(&mut *conn)
        .await?;
        let allowed = limit.min(cap - in_flight.n);
        if allowed <= 0 {
            return Ok(Vec::new());
        }
        claim(conn, claimer, allowed).await
    })
    .await
}

/// What a lease renewal learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseStatus {
    Held {
        cancel_requested: bool,
    },
    /// A later claim holds the job now (we stalled past the lease), or it was finished or
    /// cancelled: stop working on it.
    Lost,
}

/// Extends the lease, and reports whether someone asked to cancel the job.
pub async fn renew_lease(
    conn: &mut AsyncPgConnection,
    lease: Lease,
    duration: Duration,
) -> QueryResult<LeaseStatus> {
    #[derive(QueryableByName)]
    struct Renewed {
        #[diesel(sql_type = Bool)]
        cancel_requested: bool,
    }
    let rows: Vec<Renewed> = sql_query(
        "UPDATE jobs SET lease_expires_at = now() + make_interval(secs => $3)
         WHERE id = $1 AND lease_token = $2
           AND state IN ('submitting', 'running', 'downloading')
         RETURNING cancel_requested",
    )
    .bind::<BigInt, _>(lease.job)
    .bind::<BigInt, _>(lease.token)
    .bind::<Double, _>(duration.as_secs_f64())
    .load(conn)
    .await?;
    Ok(match rows.into_iter().next() {
        Some(row) => LeaseStatus::Held {
            cancel_requested: row.cancel_requested,
        },
        None => LeaseStatus::Lost,
    })
}

/// Makes the in-flight jobs `worker` still holds claimable at once (a clean shutdown), so the
/// next start resumes them instead of waiting for their leases to run out. Returns how many.
pub async fn hand_back_leases(conn: &mut AsyncPgConnection, worker: &str) -> QueryResult<usize> {
    sql_query(
        "UPDATE jobs SET lease_expires_at = now() - interval '1 second'
         WHERE lease_owner = $1 AND state IN ('submitting', 'running', 'downloading')",
    )
    .bind::<Text, _>(worker)
    .execute(conn)
    .await
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
