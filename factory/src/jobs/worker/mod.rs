//! The worker: claims jobs while there is capacity and carries each through its states.
//!
//! One dispatcher task claims jobs as long as a global slot (`max_concurrent`) and a slot for the
//! job's provider (`provider_concurrency`) are free, and runs each job in a task of its own. A
//! hosted provider's cap holds across every process on the database ([`claim_capped`]); the
//! offline generator's is per process (it is this machine's CPUs). It
//! wakes when work is queued in this process, when PostgreSQL delivers a `NOTIFY` on
//! [`super::WORK_CHANNEL`] (work queued by any process sharing the database), and polls the
//! table every `idle_poll` as a fallback (retries coming due, a lost notification).
//!
//! Each job task runs beside one lease ticker ([`lease`]) for its whole life: the ticker renews
//! the claim's lease, passes on cancel requests, and ends the task the moment the lease cannot
//! be kept. The dispatcher never claims a job one of its tasks still runs. Any database error
//! ends a task without writing anything else: the lease then expires and the job is claimed
//! again, which is what makes crashes harmless. [`task`] is what one job's task does.

mod lease;
mod task;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinSet;

use super::claim::{claim, claim_capped, hand_back_leases, Claimer};
use super::{Job, JobId};
use crate::db::{self, Pool};
use crate::events::EventBus;
use crate::media::MediaStore;
use crate::providers::limits;
use crate::providers::Providers;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Names this worker's leases (host, process and a random part).
    pub worker_id: String,
    /// Jobs in flight at once, over all providers.
    pub max_concurrent: usize,
    /// Jobs in flight at once per provider; providers not listed get `default_concurrency`.
    pub provider_concurrency: HashMap<String, usize>,
    pub default_concurrency: usize,
    /// How long a claim holds a job without renewal. The ticker renews it several times per
    /// lease, so only a worker that stopped (crashed, hung, cut off from the database) loses it.
    pub lease: Duration,
    /// How often an idle dispatcher looks for work it was not woken for.
    pub idle_poll: Duration,
    /// First and longest pause between status polls of a remote request.
    pub status_poll: (Duration, Duration),
    /// Retry backoff: first delay and cap.
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// The longest wait a provider's `Retry-After` may impose (it could ask for any).
    pub retry_after_cap: Duration,
    /// Status polls that may fail in a row (network) before the job goes to `retry_wait`.
    pub poll_failures_allowed: u32,
}

/// Default for [`WorkerConfig::retry_after_cap`]: ten minutes.
pub const DEFAULT_RETRY_AFTER_CAP: Duration = Duration::from_secs(600);
/// Default for [`WorkerConfig::lease`].
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

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
            lease: DEFAULT_LEASE,
            idle_poll: Duration::from_secs(1),
            status_poll: (Duration::from_millis(500), Duration::from_secs(5)),
            retry_base: Duration::from_secs(2),
            retry_cap: Duration::from_secs(300),
            retry_after_cap: DEFAULT_RETRY_AFTER_CAP,
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

/// The dispatcher's state: capacity, and the jobs its tasks are running.
struct Dispatcher {
    ctx: Arc<Context>,
    global: Arc<Semaphore>,
    per_provider: HashMap<String, Slots>,
    remote: Vec<String>,
    /// Whether any provider holds rate limits (only those can be paused).
    gated: bool,
    /// The provider set the slots were made for.
    providers_version: Option<u64>,
    running: Arc<Mutex<HashSet<JobId>>>,
    tasks: JoinSet<()>,
    /// Notified whenever a task ends and frees its slots.
    freed: Arc<Notify>,
}

/// A provider's slots: a semaphore whose size follows the cap in force.
struct Slots {
    semaphore: Arc<Semaphore>,
    size: usize,
}

impl Slots {
    fn new(size: usize) -> Self {
        let size = size.max(1);
        Self {
            semaphore: Arc::new(Semaphore::new(size)),
            size,
        }
    }

    /// Grows at once; shrinks by the permits free now, and by the rest as running jobs end and
    /// give theirs back (a job in flight is never stopped for a lower cap).
    fn resize(&mut self, cap: usize) {
        let cap = cap.max(1);
        if cap > self.size {
            self.semaphore.add_permits(cap - self.size);
            self.size = cap;
        } else if cap < self.size {
            self.size -= self.semaphore.forget_permits(self.size - cap);
        }
    }
}

fn configured_cap(config: &WorkerConfig, provider: &str) -> usize {
    config
        .provider_concurrency
        .get(provider)
        .copied()
        .unwrap_or(config.default_concurrency)
}

async fn dispatch(
    ctx: Arc<Context>,
    wake: Arc<Notify>,
    mut stopped: watch::Receiver<bool>,
    grace: Duration,
) {
    let mut dispatcher = Dispatcher::new(ctx.clone());
    let listener = tokio::spawn(listen_for_work(
        ctx.pool.clone(),
        wake.clone(),
        stopped.clone(),
    ));
    tracing::info!(worker = %ctx.config.worker_id, "worker started");

    while !*stopped.borrow() {
        while dispatcher.tasks.try_join_next().is_some() {}
        if !dispatcher.claim_round().await {
            tokio::select! {
                _ = wake.notified() => {}
                _ = dispatcher.freed.notified() => {}
                _ = tokio::time::sleep(ctx.config.idle_poll) => {}
                _ = stopped.changed() => {}
            }
        }
    }

    listener.abort();
    dispatcher.shut_down(grace).await;
    tracing::info!(worker = %ctx.config.worker_id, "worker stopped");
}

impl Dispatcher {
    fn new(ctx: Arc<Context>) -> Self {
        let mut dispatcher = Self {
            global: Arc::new(Semaphore::new(ctx.config.max_concurrent.max(1))),
            per_provider: HashMap::new(),
            remote: Vec::new(),
            gated: false,
            providers_version: None,
            running: Arc::default(),
            tasks: JoinSet::new(),
            freed: Arc::new(Notify::new()),
            ctx,
        };
        dispatcher.follow_providers();
        dispatcher
    }

    /// Brings the slots in line with the providers set up right now (a key set on the Settings
    /// page adds one while the app runs). A provider that stays keeps its slots, and so the
    /// permits its running tasks hold.
    fn follow_providers(&mut self) {
        let providers = &self.ctx.providers;
        let version = providers.version();
        if self.providers_version == Some(version) {
            return;
        }
        let infos = providers.infos();
        let config = &self.ctx.config;
        self.per_provider
            .retain(|id, _| infos.iter().any(|i| &i.id == id));
        for info in &infos {
            self.per_provider
                .entry(info.id.clone())
                .or_insert_with(|| Slots::new(configured_cap(config, &info.id)));
        }
        self.remote = infos
            .iter()
            .filter(|i| i.remote_queue)
            .map(|i| i.id.clone())
            .collect();
        self.gated = infos
            .iter()
            .any(|i| providers.get(&i.id).is_some_and(|p| p.gate().is_some()));
        self.providers_version = Some(version);
    }

    /// The cap on a provider's jobs in flight in force now: set on the Settings page (its gate
    /// holds it), else configured, else the default. Read every round, so a change applies to
    /// the next claim.
    fn cap(&self, provider: &str) -> usize {
        self.ctx
            .providers
            .get(provider)
            .and_then(|p| p.gate().and_then(|g| g.limits().concurrency))
            .map(|n| n as usize)
            .unwrap_or_else(|| configured_cap(&self.ctx.config, provider))
    }

    /// Applies the pauses other processes recorded (a provider that answered them 429) to this
    /// process's gates, so that no task here calls it before the reset either. Without a
    /// gated provider there is nothing to pause, and no query to make on every round.
    async fn sync_pauses(&self) {
        if !self.gated {
            return;
        }
        let loaded = match db::get_conn(&self.ctx.pool).await {
            Ok(mut conn) => limits::load_pauses(&mut conn)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match loaded {
            Ok(pauses) => {
                for (provider, pause) in pauses {
                    if let Some(gate) = self
                        .ctx
                        .providers
                        .get(&provider)
                        .and_then(|p| p.gate().cloned())
                    {
                        gate.pause_until(pause.until);
                    }
                }
            }
            Err(e) => tracing::warn!("could not read provider pauses: {e}"),
        }
    }

    /// Whether a provider is paused (rate limited) in this process.
    fn paused(&self, provider: &str) -> bool {
        self.ctx
            .providers
            .get(provider)
            .and_then(|p| p.gate().cloned())
            .is_some_and(|gate| gate.paused_until().is_some())
    }

    /// Claims for every provider with free capacity that is not paused; returns whether
    /// anything was claimed.
    async fn claim_round(&mut self) -> bool {
        self.follow_providers();
        self.sync_pauses().await;
        let mut claimed_any = false;
        let ids: Vec<String> = self.per_provider.keys().cloned().collect();
        for id in ids {
            let cap = self.cap(&id);
            if let Some(slots) = self.per_provider.get_mut(&id) {
                slots.resize(cap);
            }
        }
        let providers: Vec<(String, Arc<Semaphore>)> = self
            .per_provider
            .iter()
            .map(|(id, slots)| (id.clone(), slots.semaphore.clone()))
            .collect();
        for (provider, slots) in providers {
            let free = self
                .global
                .available_permits()
                .min(slots.available_permits());
            if free == 0 || self.paused(&provider) {
                continue;
            }
            let jobs = match self.claim(&provider, free).await {
                Ok(jobs) => jobs,
                Err(e) => {
                    tracing::warn!("could not claim jobs: {e}");
                    continue;
                }
            };
            claimed_any |= !jobs.is_empty();
            for job in jobs {
                if job.state().is_terminal() {
                    // Out of attempts: the claim failed it; nothing to run.
                    tracing::info!(
                        job = job.id,
                        "gave up: {}",
                        job.error.as_deref().unwrap_or("")
                    );
                    self.ctx.events.publish(job.event());
                    continue;
                }
                self.spawn(job, &slots);
            }
        }
        claimed_any
    }

    async fn claim(&self, provider: &str, free: usize) -> Result<Vec<Job>, String> {
        let running: Vec<JobId> = self.running.lock().unwrap().iter().copied().collect();
        let providers = [provider.to_string()];
        let claimer = Claimer {
            worker: &self.ctx.config.worker_id,
            lease: self.ctx.config.lease,
            providers: &providers,
            remote_providers: &self.remote,
            running: &running,
        };
        let mut conn = db::get_conn(&self.ctx.pool)
            .await
            .map_err(|e| e.to_string())?;
        // A hosted provider's cap is its account's: it holds across every process. The offline
        // generator's is this machine's CPUs: per process.
        let claimed = match self.hosted(provider) {
            true => claim_capped(&mut conn, &claimer, self.cap(provider) as i64, free as i64).await,
            false => claim(&mut conn, &claimer, free as i64).await,
        };
        claimed.map_err(|e| e.to_string())
    }

    /// Whether the provider is a hosted one (behind rate limits).
    fn hosted(&self, provider: &str) -> bool {
        self.ctx
            .providers
            .get(provider)
            .is_some_and(|p| p.gate().is_some())
    }

    fn spawn(&mut self, job: Job, slots: &Arc<Semaphore>) {
        // This task is the only one taking permits, and enough were free.
        let permits = (
            self.global
                .clone()
                .try_acquire_owned()
                .expect("a free global slot"),
            slots
                .clone()
                .try_acquire_owned()
                .expect("a free provider slot"),
        );
        let running = RunningEntry::add(&self.running, job.id);
        let (ctx, freed) = (self.ctx.clone(), self.freed.clone());
        self.tasks.spawn(async move {
            task::run(&ctx, job).await;
            drop((permits, running));
            freed.notify_one();
        });
    }

    /// Lets work in flight finish for `grace`, then stops it and hands its leases back.
    async fn shut_down(mut self, grace: Duration) {
        let _ = tokio::time::timeout(grace, async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
        if let Ok(mut conn) = db::get_conn(&self.ctx.pool).await {
            if let Ok(n @ 1..) = hand_back_leases(&mut conn, &self.ctx.config.worker_id).await {
                tracing::info!(jobs = n, "handed back unfinished jobs for the next start");
            }
        }
    }
}

/// A job in the dispatcher's running set for as long as this value lives.
struct RunningEntry {
    set: Arc<Mutex<HashSet<JobId>>>,
    job: JobId,
}

impl RunningEntry {
    fn add(set: &Arc<Mutex<HashSet<JobId>>>, job: JobId) -> Self {
        set.lock().unwrap().insert(job);
        Self {
            set: set.clone(),
            job,
        }
    }
}

impl Drop for RunningEntry {
    fn drop(&mut self) {
        self.set.lock().unwrap().remove(&self.job);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_shrink_as_running_jobs_give_their_permits_back() {
        let mut slots = Slots::new(4);
        let held: Vec<_> = (0..3)
            .map(|_| slots.semaphore.clone().try_acquire_owned().unwrap())
            .collect();
        slots.resize(1);
        // One free permit could be forgotten at once; the three held ones still run.
        assert_eq!(slots.semaphore.available_permits(), 0);
        drop(held);
        slots.resize(1);
        assert_eq!((slots.size, slots.semaphore.available_permits()), (1, 1));
        slots.resize(5);
        assert_eq!((slots.size, slots.semaphore.available_permits()), (5, 5));
    }
}
