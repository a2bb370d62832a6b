//! Moves runs forward: starts each step whose inputs are ready, and settles steps whose work
//! has ended.
//!
//! Every move is one guarded statement (or one transaction ending in one), in the manner of the
//! job queue: a provider step's batch is queued in the same transaction that moves the step
//! from `waiting` to `queued`, so a crash or a second process can never queue it twice; a step
//! on this machine is claimed under a lease (a bumped token and an expiry) and completed only by
//! the holder of that token, in the transaction that stores its picture. Any process may drive
//! any run at any time: it is woken by job events and by a timer, and after a crash the next
//! start carries on from the rows.

use std::sync::Arc;
use std::time::Duration;

use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text};
use diesel::{sql_query, QueryableByName};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use tokio::sync::Notify;

use super::graph::{Graph, StepKind};
use super::keys::StepKey;
use super::runs::{self, item_seeds, launch_request, Run, RunError, RunState, RunStep, StepState};
use super::store;
use crate::batches::{self, ItemLimits, LaunchError};
use crate::db::Pool;
use crate::events::{EventBus, EventKind};
use crate::jobs::Job;
use crate::media::MediaStore;

mod here;

use crate::products::Product;
use crate::providers::Providers;
use here::run_here;

/// How often every active run is looked at even without an event.
const TICK: Duration = Duration::from_secs(2);

/// What the driver needs besides a connection.
#[derive(Clone)]
pub struct Context {
    pub providers: Providers,
    pub media: MediaStore,
    pub limits: ItemLimits,
    pub max_attempts: i32,
}

/// What one pass changed, for the caller to publish.
#[derive(Debug, Default)]
pub struct Advanced {
    /// Jobs queued for provider steps.
    pub jobs: Vec<Job>,
    /// Pictures made on this machine.
    pub products: Vec<Product>,
    /// The run ended in this pass.
    pub finished: Option<Run>,
}

/// Moves run `run_id` as far as it can go now: until no step can start or settle.
pub async fn advance(
    conn: &mut AsyncPgConnection,
    ctx: &Context,
    run_id: i64,
) -> Result<Advanced, RunError> {
    let mut out = Advanced::default();
    let run = runs::get(conn, run_id).await?;
    if run.state() != RunState::Running {
        return Ok(out);
    }
    let graph = store::version(conn, run.pipeline_id, Some(run.version))
        .await?
        .graph;
    loop {
        let steps = runs::steps(conn, run_id).await?;
        let mut changed = false;
        for step in &steps {
            changed |= match step.state() {
                StepState::Waiting | StepState::Running => {
                    move_ready(conn, ctx, &run, &graph, &steps, step, &mut out).await?
                }
                StepState::Queued => settle(conn, step).await?,
                _ => false,
            };
        }
        if !changed {
            break;
        }
    }
    out.finished = runs::finish(conn, run_id).await?;
    Ok(out)
}

/// Blocks, answers from the cache, queues or runs one unfinished step, if it can move.
async fn move_ready(
    conn: &mut AsyncPgConnection,
    ctx: &Context,
    run: &Run,
    graph: &Graph,
    steps: &[RunStep],
    step: &RunStep,
    out: &mut Advanced,
) -> Result<bool, RunError> {
    let deps: Vec<&RunStep> = step
        .depends_on
        .iter()
        .map(|&d| &steps[d as usize])
        .collect();
    if let Some(stopped) = deps.iter().find(|d| d.state().stops_dependants()) {
        let why = format!(
            "Not run: it takes the outputs of “{}”, which {}.",
            stopped.name,
            match stopped.state() {
                StepState::Failed => "failed",
                StepState::Canceled => "was cancelled",
                _ => "did not run",
            }
        );
        return end(conn, step, "blocked", &why, "state = 'waiting'").await;
    }
    if !deps.iter().all(|d| d.state().has_outputs()) {
        return Ok(false);
    }
    let kind = &graph.steps[step.step_index as usize].kind;
    if step.state() == StepState::Waiting && !step.forced {
        let key = StepKey::parse(&step.key).expect("keys are checked on insert");
        if let Some(products) = store::cached(conn, std::slice::from_ref(&key))
            .await?
            .remove(&key)
        {
            return answer_from_cache(conn, step, &products).await;
        }
    }
    let inputs: Vec<i64> = deps
        .iter()
        .flat_map(|d| d.product_ids.iter().copied())
        .collect();
    if kind.on_provider() {
        if step.state() != StepState::Waiting {
            return Ok(false);
        }
        queue(
            conn,
            ctx,
            run,
            step,
            kind,
            <[i64]>::first(&inputs).copied(),
            out,
        )
        .await
    } else {
        run_here(conn, ctx, run, step, kind, &inputs, out).await
    }
}

/// One guarded move to a final state with a message.
async fn end(
    conn: &mut AsyncPgConnection,
    step: &RunStep,
    state: &'static str,
    error: &str,
    when: &str,
) -> Result<bool, RunError> {
    let moved = sql_query(format!(
        "UPDATE pipeline_run_steps SET state = '{state}', error = $3, finished_at = now(),
                lease_expires_at = NULL
         WHERE run_id = $1 AND step_index = $2 AND {when}"
    ))
    .bind::<BigInt, _>(step.run_id)
    .bind::<Integer, _>(step.step_index)
    .bind::<Text, _>(error)
    .execute(conn)
    .await?;
    Ok(moved > 0)
}

async fn answer_from_cache(
    conn: &mut AsyncPgConnection,
    step: &RunStep,
    products: &[i64],
) -> Result<bool, RunError> {
    let moved = sql_query(
        "UPDATE pipeline_run_steps SET state = 'cached', product_ids = $3, finished_at = now()
         WHERE run_id = $1 AND step_index = $2 AND state = 'waiting'",
    )
    .bind::<BigInt, _>(step.run_id)
    .bind::<Integer, _>(step.step_index)
    .bind::<Array<BigInt>, _>(products)
    .execute(conn)
    .await?;
    Ok(moved > 0)
}

/// Queues a provider step's batch and marks the step queued, in one transaction. A launch the
/// provider would refuse now (a model gone, a budget reached) fails the step with its reason.
async fn queue(
    conn: &mut AsyncPgConnection,
    ctx: &Context,
    run: &Run,
    step: &RunStep,
    kind: &StepKind,
    input: Option<i64>,
    out: &mut Advanced,
) -> Result<bool, RunError> {
    let seed = step.seed.unwrap_or_default();
    let request = launch_request(run.project_id, kind, seed, input).expect("a provider step");
    let seeds = item_seeds(kind, seed);
    let queued = conn
        .transaction(async |conn| {
            let launched = batches::launch_seeded(
                conn,
                &ctx.providers,
                ctx.limits,
                ctx.max_attempts,
                &request,
                &seeds,
            )
            .await;
            match launched {
                Ok((batch, jobs, _)) => {
                    let moved = sql_query(
                        "UPDATE pipeline_run_steps SET state = 'queued', batch_id = $3,
                                started_at = now()
                         WHERE run_id = $1 AND step_index = $2 AND state = 'waiting'",
                    )
                    .bind::<BigInt, _>(step.run_id)
                    .bind::<Integer, _>(step.step_index)
                    .bind::<BigInt, _>(batch.id)
                    .execute(conn)
                    .await?;
                    if moved == 0 {
                        return Err(RunError::Lost);
                    }
                    Ok(Some(jobs))
                }
                Err(LaunchError::Database(e)) => Err(RunError::Db(e)),
                Err(refused) => {
                    end(
                        conn,
                        step,
                        "failed",
                        &refused.to_string(),
                        "state = 'waiting'",
                    )
                    .await?;
                    Ok(None)
                }
            }
        })
        .await;
    match queued {
        Ok(jobs) => {
            out.jobs.extend(jobs.into_iter().flatten());
            Ok(true)
        }
        Err(RunError::Lost) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Settles a queued step once its batch's jobs have all ended: succeeded with their pictures
/// (and remembered in the cache), or failed with the first error.
async fn settle(conn: &mut AsyncPgConnection, step: &RunStep) -> Result<bool, RunError> {
    #[derive(QueryableByName)]
    struct Tally {
        #[diesel(sql_type = BigInt)]
        total: i64,
        #[diesel(sql_type = BigInt)]
        ok: i64,
        #[diesel(sql_type = BigInt)]
        bad: i64,
        #[diesel(sql_type = Nullable<Text>)]
        error: Option<String>,
    }
    let Some(batch_id) = step.batch_id else {
        return end(
            conn,
            step,
            "failed",
            "Its batch was deleted from the queue. Re-run from this step.",
            "state = 'queued'",
        )
        .await;
    };
    let tally: Tally = sql_query(
        "SELECT count(*) AS total, count(*) FILTER (WHERE state = 'succeeded') AS ok,
                count(*) FILTER (WHERE state IN ('failed', 'canceled')) AS bad,
                min(coalesce(error, 'cancelled in the queue'))
                    FILTER (WHERE state IN ('failed', 'canceled')) AS error
         FROM jobs WHERE batch_id = $1",
    )
    .bind::<BigInt, _>(batch_id)
    .get_result(conn)
    .await?;
    if tally.ok + tally.bad < tally.total {
        return Ok(false);
    }
    if tally.bad > 0 {
        let why = format!(
            "{} of {} pictures failed: {}",
            tally.bad,
            tally.total,
            tally.error.unwrap_or_default()
        );
        return end(conn, step, "failed", &why, "state = 'queued'").await;
    }
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let made: Vec<Id> = sql_query(
        "SELECT p.id FROM products p JOIN jobs j ON j.id = p.job_id
         WHERE j.batch_id = $1 AND p.deleted_at IS NULL ORDER BY j.item_index, p.output_index",
    )
    .bind::<BigInt, _>(batch_id)
    .load(conn)
    .await?;
    let ids: Vec<i64> = made.into_iter().map(|r| r.id).collect();
    if ids.is_empty() {
        let why = "Its pictures were deleted before the step finished. Re-run from this step.";
        return end(conn, step, "failed", why, "state = 'queued'").await;
    }
    succeed(conn, step, &ids, "state = 'queued'").await
}

/// Records a step's pictures and remembers them under its key, in one transaction.
async fn succeed(
    conn: &mut AsyncPgConnection,
    step: &RunStep,
    ids: &[i64],
    when: &str,
) -> Result<bool, RunError> {
    let key = StepKey::parse(&step.key).expect("keys are checked on insert");
    conn.transaction(async |conn| {
        let moved = sql_query(format!(
            "UPDATE pipeline_run_steps SET state = 'succeeded', product_ids = $3,
                    finished_at = now(), lease_expires_at = NULL, error = NULL
             WHERE run_id = $1 AND step_index = $2 AND {when}"
        ))
        .bind::<BigInt, _>(step.run_id)
        .bind::<Integer, _>(step.step_index)
        .bind::<Array<BigInt>, _>(ids)
        .execute(conn)
        .await?;
        if moved == 0 {
            return Err(RunError::Lost);
        }
        store::remember(conn, &key, ids).await?;
        Ok(())
    })
    .await
    .map(|()| true)
    .or_else(|e| match e {
        RunError::Lost => Ok(false),
        e => Err(e),
    })
}

/// Drives every active run in the background: at start (what a crash left), on every job that
/// ends, on [`Driver::kick`], and every couple of seconds.
pub fn start(pool: Pool, ctx: Context, events: EventBus, work: Arc<Notify>) -> Driver {
    let kick = Arc::new(Notify::new());
    let task = tokio::spawn(drive(pool, ctx, events, work, kick.clone()));
    Driver { kick, task }
}

pub struct Driver {
    kick: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Driver {
    /// Looks at the runs now (a run was started or re-run).
    pub fn kick(&self) {
        self.kick.notify_one();
    }

    /// Stops it; a step it was running on this machine is taken over when its lease ends.
    pub fn stop(&self) {
        self.task.abort();
    }
}

async fn drive(pool: Pool, ctx: Context, events: EventBus, work: Arc<Notify>, kick: Arc<Notify>) {
    let mut heard = events.subscribe();
    loop {
        if let Err(e) = drive_all(&pool, &ctx, &events, &work).await {
            tracing::warn!("pipeline runs could not be moved on: {e}");
        }
        tokio::select! {
            _ = kick.notified() => {}
            _ = tokio::time::sleep(TICK) => {}
            _ = job_ended(&mut heard) => {}
        }
    }
}

/// Waits for a job to reach a final state (or for events to have been missed).
async fn job_ended(heard: &mut tokio::sync::broadcast::Receiver<crate::events::Event>) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match heard.recv().await {
            Ok(event) => {
                if let EventKind::Job(job) = &event.kind {
                    if job.state().is_terminal() {
                        return;
                    }
                }
            }
            Err(RecvError::Lagged(_)) => return,
            Err(RecvError::Closed) => std::future::pending::<()>().await,
        }
    }
}

async fn drive_all(
    pool: &Pool,
    ctx: &Context,
    events: &EventBus,
    work: &Notify,
) -> Result<(), RunError> {
    let mut conn = crate::db::get_conn(pool).await?;
    for run_id in runs::active(&mut conn).await? {
        let advanced = advance(&mut conn, ctx, run_id).await?;
        if !advanced.jobs.is_empty() {
            work.notify_one();
        }
        for job in &advanced.jobs {
            events.publish(job.event());
        }
        for product in &advanced.products {
            events.publish(product.created_event());
        }
    }
    Ok(())
}
