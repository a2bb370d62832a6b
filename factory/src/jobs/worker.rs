//! The worker: claims jobs while there is capacity and carries each through its states.
//!
//! One dispatcher task claims jobs as long as a global slot (`max_concurrent`) and a slot for the
//! job's provider (`provider_concurrency`) are free, and runs each job in a task of its own. It
//! wakes when work is queued in this process, when PostgreSQL delivers a `NOTIFY` on
//! [`super::WORK_CHANNEL`] (work queued by any process sharing the database), and polls the
//! table every `idle_poll` as a fallback (retries coming due, a lost notification).
//!
//! A job task renews its lease at every step and between polls; a renewal that fails means the
//! job is no longer ours and the task stops at once. Cancellation requested by a person is
//! noticed at the same points. Any database error ends the task without writing anything else:
//! the lease then expires and the job is claimed again, which is what makes crashes harmless.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinSet;

use super::claim::{claim, renew_lease, LeaseStatus};
use super::transitions::{self, backoff, Failure};
use super::Job;
use crate::db::{self, Pool};
use crate::events::EventBus;
use crate::media::png::{embed_metadata, ImageMetadata};
use crate::media::{ImageFormat, MediaStore};
use crate::products::NewProduct;
use crate::providers::{
    CancelOutcome, ErrorKind, Output, PollStatus, Provider, ProviderError, Providers, RequestRef,
    Submitted,
};

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Names this worker's leases (host, process and a random part).
    pub worker_id: String,
    /// Jobs in flight at once, over all providers.
    pub max_concurrent: usize,
    /// Jobs in flight at once per provider; providers not listed get `default_concurrency`.
    pub provider_concurrency: HashMap<String, usize>,
    pub default_concurrency: usize,
    pub lease: Duration,
    /// How often an idle dispatcher looks for work it was not woken for.
    pub idle_poll: Duration,
    /// First and longest pause between status polls of a remote request.
    pub status_poll: (Duration, Duration),
    /// Retry backoff: first delay and cap.
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// Status polls that may fail in a row (network) before the job goes to `retry_wait`.
    pub poll_failures_allowed: u32,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            worker_id: default_worker_id(),
            max_concurrent: 8,
            provider_concurrency: HashMap::from([(
                crate::providers::local::ID.to_string(),
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )]),
            default_concurrency: 4,
            lease: Duration::from_secs(30),
            idle_poll: Duration::from_secs(1),
            status_poll: (Duration::from_millis(500), Duration::from_secs(5)),
            retry_base: Duration::from_secs(2),
            retry_cap: Duration::from_secs(300),
            poll_failures_allowed: 5,
        }
    }
}

pub fn default_worker_id() -> String {
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "host".into());
    format!(
        "{host}:{}:{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

/// What a job task needs.
struct Context {
    pool: Pool,
    providers: Providers,
    media: MediaStore,
    events: EventBus,
    config: WorkerConfig,
}

/// A running worker. Dropping it does not stop it; call [`WorkerHandle::shut_down`].
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    dispatcher: tokio::task::JoinHandle<()>,
}

impl WorkerHandle {
    /// Stops claiming, lets jobs in flight finish for up to `grace`, then gives their leases
    /// back so the next start resumes them at once instead of waiting for the leases to expire.
    pub async fn shut_down(self, grace: Duration) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(grace + Duration::from_secs(1), self.dispatcher)
            .await
            .is_err()
        {
            tracing::warn!("the worker did not stop in time");
        }
    }
}

/// Starts the dispatcher. `wake` is notified whenever this process queues work.
pub fn start(
    pool: Pool,
    providers: Providers,
    media: MediaStore,
    events: EventBus,
    wake: Arc<Notify>,
    config: WorkerConfig,
    grace: Duration,
) -> WorkerHandle {
    let (stop, stopped) = watch::channel(false);
    let context = Arc::new(Context {
        pool,
        providers,
        media,
        events,
        config,
    });
    let dispatcher = tokio::spawn(dispatch(context, wake, stopped, grace));
    WorkerHandle { stop, dispatcher }
}

async fn dispatch(
    ctx: Arc<Context>,
    wake: Arc<Notify>,
    mut stopped: watch::Receiver<bool>,
    grace: Duration,
) {
    let global = Arc::new(Semaphore::new(ctx.config.max_concurrent.max(1)));
    let per_provider: HashMap<String, Arc<Semaphore>> = ctx
        .providers
        .ids()
        .into_iter()
        .map(|id| {
            let n = ctx
                .config
                .provider_concurrency
                .get(&id)
                .copied()
                .unwrap_or(ctx.config.default_concurrency);
            (id, Arc::new(Semaphore::new(n.max(1))))
        })
        .collect();
    let remote: Vec<String> = ctx
        .providers
        .infos()
        .into_iter()
        .filter(|i| i.remote_queue)
        .map(|i| i.id.clone())
        .collect();
    let freed = Arc::new(Notify::new());
    let mut running = JoinSet::new();
    let listener = tokio::spawn(listen_for_work(
        ctx.pool.clone(),
        wake.clone(),
        stopped.clone(),
    ));
    tracing::info!(worker = %ctx.config.worker_id, "worker started");

    while !*stopped.borrow() {
        while running.try_join_next().is_some() {}
        let mut claimed_any = false;
        for (provider, slots) in &per_provider {
            let free = global.available_permits().min(slots.available_permits());
            if free == 0 {
                continue;
            }
            let claimed = match db::get_conn(&ctx.pool).await {
                Ok(mut conn) => claim(
                    &mut conn,
                    &ctx.config.worker_id,
                    ctx.config.lease,
                    std::slice::from_ref(provider),
                    &remote,
                    free as i64,
                )
                .await
                .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            let jobs = match claimed {
                Ok(jobs) => jobs,
                Err(e) => {
                    tracing::warn!("could not claim jobs: {e}");
                    continue;
                }
            };
            claimed_any |= !jobs.is_empty();
            for job in jobs {
                // This task is the only one taking permits, and `free` were free.
                let permits = (
                    global
                        .clone()
                        .try_acquire_owned()
                        .expect("a free global slot"),
                    slots
                        .clone()
                        .try_acquire_owned()
                        .expect("a free provider slot"),
                );
                let (ctx, freed) = (ctx.clone(), freed.clone());
                running.spawn(async move {
                    run_job(&ctx, job).await;
                    drop(permits);
                    freed.notify_one();
                });
            }
        }
        if !claimed_any {
            tokio::select! {
                _ = wake.notified() => {}
                _ = freed.notified() => {}
                _ = tokio::time::sleep(ctx.config.idle_poll) => {}
                _ = stopped.changed() => {}
            }
        }
    }

    listener.abort();
    // Shutting down: let work in flight finish for a while, then hand back the leases.
    let _ = tokio::time::timeout(grace, async {
        while running.join_next().await.is_some() {}
    })
    .await;
    running.abort_all();
    if let Ok(mut conn) = db::get_conn(&ctx.pool).await {
        use diesel_async::RunQueryDsl;
        let released = diesel::sql_query(
            "UPDATE jobs SET lease_expires_at = now() - interval '1 second'
             WHERE lease_owner = $1 AND state IN ('submitting', 'running', 'downloading')",
        )
        .bind::<diesel::sql_types::Text, _>(&ctx.config.worker_id)
        .execute(&mut conn)
        .await;
        if let Ok(n) = released {
            if n > 0 {
                tracing::info!(jobs = n, "handed back unfinished jobs for the next start");
            }
        }
    }
    tracing::info!(worker = %ctx.config.worker_id, "worker stopped");
}

/// Wakes the dispatcher whenever any process announces work. Uses a connection of its own
/// (taken out of the pool) and reconnects with backoff when it drops.
async fn listen_for_work(pool: Pool, wake: Arc<Notify>, mut stopped: watch::Receiver<bool>) {
    use diesel_async::RunQueryDsl;
    use futures::StreamExt;
    let mut pause = Duration::from_secs(1);
    while !*stopped.borrow() {
        if let Ok(pooled) = db::get_conn(&pool).await {
            let mut conn = diesel_async::pooled_connection::deadpool::Object::take(pooled);
            let listening = diesel::sql_query(format!("LISTEN {}", super::WORK_CHANNEL))
                .execute(&mut conn)
                .await;
            if listening.is_ok() {
                pause = Duration::from_secs(1);
                let mut notifications = std::pin::pin!(conn.notifications_stream());
                loop {
                    tokio::select! {
                        notification = notifications.next() => match notification {
                            Some(Ok(_)) => wake.notify_one(),
                            _ => break,
                        },
                        _ = stopped.changed() => return,
                    }
                }
            }
        }
        tracing::debug!("the work listener lost its connection; reconnecting in {pause:?}");
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stopped.changed() => return,
        }
        pause = (pause * 2).min(Duration::from_secs(30));
    }
}

/// Why a job task stopped early.
enum Stop {
    /// The job reached a state that is recorded; nothing more to do.
    Done,
    /// The lease is gone or the database failed: leave everything as it is.
    Abandon(String),
}

async fn run_job(ctx: &Context, job: Job) {
    let id = job.id;
    match drive(ctx, job).await {
        Ok(()) | Err(Stop::Done) => {}
        Err(Stop::Abandon(why)) => {
            tracing::warn!(job = id, "left the job for a later claim: {why}")
        }
    }
}

/// A database result inside a job task: errors abandon the job, a missing row means the lease
/// was lost.
fn held(result: diesel::QueryResult<Option<Job>>) -> Result<Job, Stop> {
    match result {
        Ok(Some(job)) => Ok(job),
        Ok(None) => Err(Stop::Abandon("the lease was lost".into())),
        Err(e) => Err(Stop::Abandon(e.to_string())),
    }
}

async fn conn(ctx: &Context) -> Result<db::PooledConnection, Stop> {
    db::get_conn(&ctx.pool)
        .await
        .map_err(|e| Stop::Abandon(e.to_string()))
}

/// Runs one lease-guarded transition and publishes the job's new state.
async fn record(
    ctx: &Context,
    transition: impl AsyncFnOnce(
        &mut diesel_async::AsyncPgConnection,
    ) -> diesel::QueryResult<Option<Job>>,
) -> Result<Job, Stop> {
    let mut conn = conn(ctx).await?;
    let job = held(transition(&mut conn).await)?;
    ctx.events.publish(job.event());
    Ok(job)
}

async fn drive(ctx: &Context, job: Job) -> Result<(), Stop> {
    ctx.events.publish(job.event());
    let Some(provider) = ctx.providers.get(&job.provider).cloned() else {
        let error = ProviderError::new(
            &job.provider,
            ErrorKind::InvalidInput,
            "this provider is not set up in this app",
        );
        return Err(fail(ctx, &job, &error, false).await);
    };
    if job.cancel_requested {
        return Err(cancel(ctx, provider.as_ref(), &job).await);
    }
    let request = match job.request() {
        Ok(request) => request,
        Err(e) => {
            let error = ProviderError::new(
                &provider.info().name,
                ErrorKind::InvalidInput,
                format!("stored input is unreadable: {e}"),
            );
            return Err(fail(ctx, &job, &error, false).await);
        }
    };

    let (job, outputs) = match job.provider_request_id.clone() {
        Some(request_id) => poll_until_done(ctx, provider.as_ref(), job, &request_id).await?,
        None => {
            // Marking the submission as started only matters where a copy could be left at the
            // provider by a crash (the possibly-duplicated flag).
            let job = if provider.info().remote_queue {
                held(
                    transitions::begin_submit(
                        &mut *conn(ctx).await?,
                        job.id,
                        &ctx.config.worker_id,
                    )
                    .await,
                )?
            } else {
                job
            };
            match provider.submit(&request).await {
                Ok(Submitted::Finished(outputs)) => (job, outputs),
                Ok(Submitted::Queued { request_id }) => {
                    let worker = &ctx.config.worker_id;
                    let job = record(ctx, async |c| {
                        transitions::record_request_id(c, job.id, worker, &request_id).await
                    })
                    .await?;
                    poll_until_done(ctx, provider.as_ref(), job, &request_id).await?
                }
                Err(e) => return Err(fail(ctx, &job, &e, false).await),
            }
        }
    };
    download(ctx, provider.as_ref(), job, &request, outputs).await
}

async fn poll_until_done(
    ctx: &Context,
    provider: &dyn Provider,
    mut job: Job,
    request_id: &str,
) -> Result<(Job, Vec<Output>), Stop> {
    let (first, longest) = ctx.config.status_poll;
    let mut pause = first;
    let mut failures = 0;
    loop {
        match renew(ctx, &job).await? {
            LeaseStatus::Lost => return Err(Stop::Abandon("the lease was lost".into())),
            LeaseStatus::Held {
                cancel_requested: true,
            } => return Err(cancel(ctx, provider, &job).await),
            LeaseStatus::Held { .. } => {}
        }
        let request = RequestRef {
            model: &job.model,
            request_id,
        };
        match provider.poll(request).await {
            Ok(PollStatus::Completed(outputs)) => return Ok((job, outputs)),
            Ok(PollStatus::Queued { position }) => {
                failures = 0;
                let status = match position {
                    Some(p) => format!("in the provider's queue (position {p})"),
                    None => "in the provider's queue".to_string(),
                };
                job = progress(ctx, job, Some(status), None).await?;
            }
            Ok(PollStatus::Running {
                progress: p,
                message,
            }) => {
                failures = 0;
                job = progress(
                    ctx,
                    job,
                    Some(message.unwrap_or_else(|| "generating".into())),
                    p,
                )
                .await?;
            }
            Ok(PollStatus::Failed(e)) => return Err(fail(ctx, &job, &e, false).await),
            Ok(PollStatus::Canceled) => return Err(finish_cancel(ctx, &job).await),
            Err(e) if e.retryable() && failures < ctx.config.poll_failures_allowed => {
                failures += 1;
                tracing::debug!(job = job.id, "status poll failed ({failures}): {e}");
            }
            // The request stays at the provider: keep its id, so the retry polls it again.
            Err(e) => return Err(fail(ctx, &job, &e, true).await),
        }
        tokio::time::sleep(pause).await;
        pause = (pause.mul_f32(1.5)).min(longest);
    }
}

async fn progress(
    ctx: &Context,
    job: Job,
    status: Option<String>,
    progress: Option<f32>,
) -> Result<Job, Stop> {
    let changed = status.as_deref() != job.provider_status.as_deref()
        || progress.is_some_and(|p| job.progress.is_none_or(|old| (p - old).abs() >= 0.01));
    if !changed {
        return Ok(job);
    }
    let worker = &ctx.config.worker_id;
    record(ctx, async |c| {
        transitions::record_progress(c, job.id, worker, status.as_deref(), progress).await
    })
    .await
}

async fn download(
    ctx: &Context,
    provider: &dyn Provider,
    job: Job,
    request: &crate::providers::GenerationRequest,
    outputs: Vec<Output>,
) -> Result<(), Stop> {
    let worker = &ctx.config.worker_id;
    let job = record(ctx, async |c| {
        transitions::begin_download(c, job.id, worker).await
    })
    .await?;
    // The transition also confirmed the lease; its row says whether a cancel came in meanwhile.
    if job.cancel_requested {
        return Err(cancel(ctx, provider, &job).await);
    }
    let mut rows = Vec::with_capacity(outputs.len());
    for (index, output) in outputs.iter().enumerate() {
        let bytes = match provider.fetch(output).await {
            Ok(bytes) => bytes,
            Err(e) => return Err(fail(ctx, &job, &e, job.provider_request_id.is_some()).await),
        };
        let media = ctx.media.clone();
        let meta = metadata(&job, request);
        let project = job.project_id;
        let stored = tokio::task::spawn_blocking(move || {
            let bytes = match ImageFormat::sniff(&bytes) {
                Some(ImageFormat::Png) => {
                    embed_metadata(&bytes, &meta).map_err(|e| e.to_string())?
                }
                _ => bytes,
            };
            media.put(project, &bytes).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| Stop::Abandon(e.to_string()))?;
        let stored = match stored {
            Ok(stored) => stored,
            Err(why) => {
                let error = ProviderError::new(
                    &provider.info().name,
                    ErrorKind::BadOutput,
                    format!("the result was refused: {why}"),
                );
                return Err(fail(ctx, &job, &error, false).await);
            }
        };
        rows.push(NewProduct {
            project_id: job.project_id,
            content_hash: stored.hash,
            path: stored.rel_path,
            mime: stored.format.mime().to_string(),
            width: Some(stored.width as i32),
            height: Some(stored.height as i32),
            bytes: stored.bytes as i64,
            prompt: request.prompt.clone(),
            negative_prompt: request.negative_prompt.clone(),
            params: Value::Object(request.params.clone()),
            provider: Some(job.provider.clone()),
            model: Some(job.model.clone()),
            seed: Some(job.seed),
            job_id: Some(job.id),
            batch_id: Some(job.batch_id),
            output_index: index as i32,
            bindings: job.bindings.clone(),
            thumbhash: Some(stored.thumbhash),
        });
    }
    let (job, products) =
        match transitions::complete(&mut *conn(ctx).await?, job.id, &ctx.config.worker_id, rows)
            .await
        {
            Ok(Some(done)) => done,
            Ok(None) => return Err(Stop::Abandon("the lease was lost before completing".into())),
            Err(e) => return Err(Stop::Abandon(e.to_string())),
        };
    for product in &products {
        ctx.events.publish(product.created_event());
    }
    ctx.events.publish(job.event());
    Ok(())
}

fn metadata(job: &Job, request: &crate::providers::GenerationRequest) -> ImageMetadata {
    let side = |name: &str| {
        request
            .params
            .get(name)
            .and_then(Value::as_u64)
            .unwrap_or(0) as u32
    };
    ImageMetadata {
        prompt: request.prompt.clone(),
        negative_prompt: request.negative_prompt.clone(),
        provider: job.provider.clone(),
        model: job.model.clone(),
        seed: job.seed,
        width: side("width"),
        height: side("height"),
        params: request.params.clone(),
        bindings: job.bindings.as_object().cloned().unwrap_or_default(),
    }
}

async fn renew(ctx: &Context, job: &Job) -> Result<LeaseStatus, Stop> {
    renew_lease(
        &mut *conn(ctx).await?,
        job.id,
        &ctx.config.worker_id,
        ctx.config.lease,
    )
    .await
    .map_err(|e| Stop::Abandon(e.to_string()))
}

/// Records a failed attempt: a retry later (retryable, attempts left) or a final failure.
async fn fail(ctx: &Context, job: &Job, error: &ProviderError, keep_request: bool) -> Stop {
    let delay = error.retry_after.unwrap_or_else(|| {
        backoff(
            job.attempts,
            ctx.config.retry_base,
            ctx.config.retry_cap,
            rand::random::<f64>(),
        )
    });
    let failure = Failure {
        message: error.to_string(),
        retryable: error.retryable(),
        retry_in: delay,
        keep_request,
    };
    let worker = &ctx.config.worker_id;
    match record(ctx, async |c| {
        transitions::fail_or_retry(c, job.id, worker, &failure).await
    })
    .await
    {
        Ok(job) => {
            tracing::info!(job = job.id, state = %job.state(), "{}", failure.message);
            Stop::Done
        }
        Err(stop) => stop,
    }
}

/// Cancels at the provider (when the job reached one), then records it.
async fn cancel(ctx: &Context, provider: &dyn Provider, job: &Job) -> Stop {
    if let Some(request_id) = &job.provider_request_id {
        let request = RequestRef {
            model: &job.model,
            request_id,
        };
        match provider.cancel(request).await {
            Ok(CancelOutcome::Requested | CancelOutcome::NotFound) => {}
            Ok(CancelOutcome::AlreadyFinished) => {
                tracing::info!(
                    job = job.id,
                    "cancelled after the provider had finished; its result is discarded"
                )
            }
            Err(e) => tracing::warn!(job = job.id, "the provider did not confirm the cancel: {e}"),
        }
    }
    finish_cancel(ctx, job).await
}

async fn finish_cancel(ctx: &Context, job: &Job) -> Stop {
    let worker = &ctx.config.worker_id;
    match record(ctx, async |c| {
        transitions::mark_canceled(c, job.id, worker).await
    })
    .await
    {
        Ok(_) => Stop::Done,
        Err(stop) => stop,
    }
}
