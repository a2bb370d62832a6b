//! The job queue against a real database: launches, the worker, every transition, crashes.
//!
//! [`states`] walks a job through its states as people and the worker move it; [`recovery`]
//! covers crashes and other processes; [`trust`] the guarantees that keep a paid request from
//! being made twice or running for ever (lease tokens, unknown submission outcomes, the attempt
//! limit, cancelling at the provider).

mod board;
mod recovery;
mod states;
mod trust;

use std::sync::Arc;
use std::time::Duration;

use diesel::sql_query;
use diesel_async::RunQueryDsl;
use factory::batches::{LaunchRequest, SeedChoice};
use factory::jobs::claim::claim_next;
use factory::jobs::queue;
use factory::jobs::worker::{WorkerConfig, WorkerHandle};
use factory::jobs::Job;
use factory::projects::{self, Description, ProjectName};
use factory::providers::{Provider, Providers};
use factory::testing::standin::StandIn;
use factory::testing::{eventually, TestDb};
use factory::{Engine, EngineSettings};
use serde_json::json;

use crate::scripted::{self, Scripted};

pub(crate) struct Setup {
    pub db: TestDb,
    pub engine: Engine,
    scripted: Arc<Scripted>,
    pub project: i64,
    _files: tempfile::TempDir,
}

impl Setup {
    /// The scripted provider, to give it answers.
    pub(crate) fn scripted(&self) -> &Scripted {
        &self.scripted
    }
}

/// The same set-up with the pictures in a new bucket on the test S3 server.
pub(crate) async fn in_bucket(mut setup: Setup) -> Setup {
    let media = factory::testing::s3::media_store(setup._files.path()).await;
    setup.engine = setup.engine.with_media(media);
    setup
}

/// Runs blocking media-store work (a bucket's requests block) off the test's runtime.
pub(crate) async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(work).await.unwrap()
}

async fn setup_with(max_attempts: i32) -> Setup {
    setup_with_providers(max_attempts, Vec::new()).await
}

/// The offline generator, the scripted provider and `extra`.
pub(crate) async fn setup_with_providers(
    max_attempts: i32,
    extra: Vec<Arc<dyn Provider>>,
) -> Setup {
    let db = TestDb::new().await;
    let files = tempfile::tempdir().unwrap();
    let scripted = Arc::new(Scripted::new());
    let providers = Providers::builtin();
    providers.add(scripted.clone());
    for provider in extra {
        providers.add(provider);
    }
    let mut settings = EngineSettings::new(files.path());
    settings.max_attempts = max_attempts;
    settings.max_items = 20;
    let engine = Engine::new(db.pool(), providers, settings);
    let name = ProjectName::parse("Tests").unwrap();
    let project = projects::create(&mut *db.conn().await, &name, &Description::default())
        .await
        .unwrap()
        .id;
    Setup {
        db,
        engine,
        scripted,
        project,
        _files: files,
    }
}

async fn setup() -> Setup {
    setup_with(5).await
}

pub(crate) fn fast_worker() -> WorkerConfig {
    WorkerConfig {
        idle_poll: Duration::from_millis(50),
        status_poll: (Duration::from_millis(5), Duration::from_millis(20)),
        retry_base: Duration::from_millis(20),
        retry_cap: Duration::from_millis(100),
        ..WorkerConfig::default()
    }
}

pub(crate) fn start(setup: &Setup) -> WorkerHandle {
    start_with(setup, fast_worker())
}

pub(crate) fn start_with(setup: &Setup, config: WorkerConfig) -> WorkerHandle {
    setup.engine.start_worker(config, Duration::from_secs(2))
}

pub(crate) fn request(
    setup: &Setup,
    provider: &str,
    model: &str,
    prompt: &str,
    count: u32,
) -> LaunchRequest {
    let params = if provider == "local" {
        json!({"width": 128, "height": 96})
    } else {
        json!({})
    };
    LaunchRequest {
        project_id: setup.project,
        provider: provider.into(),
        model: model.into(),
        prompt: prompt.into(),
        negative_prompt: String::new(),
        params: params.as_object().unwrap().clone(),
        count,
        seed: SeedChoice::Derived(Some(1000)),
        mode: factory::prompt::Mode::Combinatorial,
        confirmed: false,
        networks: Vec::new(),
        input_image: None,
        made_from: None,
    }
}

/// Queues `count` images of `prompt` on the scripted provider (model `m`).
async fn launch(setup: &Setup, prompt: &str, count: u32) -> (factory::batches::Batch, Vec<Job>) {
    setup
        .engine
        .launch(&request(setup, scripted::ID, "m", prompt, count))
        .await
        .unwrap()
}

/// Launches `prompt` on the scripted provider with a worker running, and returns the jobs once
/// all are finished.
pub(crate) async fn run_scripted(setup: &Setup, prompt: &str) -> Vec<Job> {
    let worker = start(setup);
    let (batch, _) = launch(setup, prompt, 1).await;
    let done = wait_until_finished(setup, batch.id).await;
    worker.shut_down(Duration::from_secs(1)).await;
    done
}

/// Launches `count` images of each combination of `prompt` on `provider`'s `model`, runs them
/// to the end with a worker, and returns the batch and its jobs.
pub(crate) async fn run_batch(
    setup: &Setup,
    provider: &str,
    model: &str,
    prompt: &str,
    params: serde_json::Value,
    count: u32,
) -> (i64, Vec<Job>) {
    let worker = start(setup);
    let launch = LaunchRequest {
        params: params.as_object().cloned().unwrap_or_default(),
        seed: SeedChoice::Derived(Some(500)),
        ..request(setup, provider, model, prompt, count)
    };
    let (batch, _) = setup.engine.launch(&launch).await.unwrap();
    let jobs = wait_until_finished(setup, batch.id).await;
    worker.shut_down(Duration::from_secs(1)).await;
    (batch.id, jobs)
}

/// Runs `prompt` on `standin`'s provider (`model`, `params`) with `concurrency` jobs in flight
/// and polls that keep going through failures, as they do over a real outage. Every job must
/// succeed after exactly one submission.
pub(crate) async fn run_through_throttling(
    setup: &Setup,
    standin: &dyn StandIn,
    model: &str,
    prompt: &str,
    params: serde_json::Value,
    concurrency: usize,
) -> Vec<Job> {
    let provider = standin.provider();
    let mut config = WorkerConfig {
        poll_failures_allowed: 1000,
        ..fast_worker()
    };
    config
        .provider_concurrency
        .insert(provider.into(), concurrency);
    let worker = start_with(setup, config);
    let launch = LaunchRequest {
        params: params.as_object().cloned().unwrap_or_default(),
        ..request(setup, provider, model, prompt, 1)
    };
    let (batch, _) = setup.engine.launch(&launch).await.unwrap();
    let jobs = wait_until_finished(setup, batch.id).await;
    worker.shut_down(Duration::from_secs(1)).await;
    assert!(
        jobs.iter()
            .all(|j| j.state() == factory::jobs::JobState::Succeeded),
        "{jobs:#?}"
    );
    let submissions = standin.submissions_per_seed();
    assert!(jobs.iter().all(|j| submissions.get(&j.seed) == Some(&1)));
    jobs
}

/// The stand-in's own log (`requests`): once it answered 429, nothing more arrived before the
/// announced `reset` but what was already on its way, and calls resumed after it.
pub(crate) fn assert_quiet_until_reset(
    provider: &str,
    requests: &[(std::time::Instant, String)],
    reset: Duration,
) {
    let (early, resumed) =
        factory::testing::standin::sent_before_reset(requests, reset, Duration::from_millis(300));
    println!(
        "{provider} 429 test: {} requests sent before the announced reset",
        early.len()
    );
    assert!(early.is_empty(), "sent before the reset: {early:?}");
    assert!(resumed, "calls resumed after the reset");
}

/// Polls the batch until every job is in a terminal state (or fails the test after 30 s).
pub(crate) async fn wait_until_finished(setup: &Setup, batch: i64) -> Vec<Job> {
    wait_for_jobs(setup, batch, |jobs| {
        jobs.iter().all(|j| j.state().is_terminal())
    })
    .await
}

async fn wait_for_jobs(setup: &Setup, batch: i64, done: impl Fn(&[Job]) -> bool) -> Vec<Job> {
    eventually(Duration::from_secs(30), async || {
        let jobs = queue::list_for_batch(&mut *setup.db.conn().await, batch)
            .await
            .unwrap();
        done(&jobs).then_some(jobs)
    })
    .await
}

async fn job(setup: &Setup, id: i64) -> Job {
    queue::get(&mut *setup.db.conn().await, id).await.unwrap()
}

async fn expire_lease(setup: &Setup, job: i64) {
    sql_query("UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1")
        .bind::<diesel::sql_types::BigInt, _>(job)
        .execute(&mut *setup.db.conn().await)
        .await
        .unwrap();
}

/// One claim, as a worker named `worker` would make it (30 s lease, every provider).
async fn claim_as(setup: &Setup, worker: &str) -> Option<Job> {
    claim_next(
        &mut *setup.db.conn().await,
        worker,
        Duration::from_secs(30),
        &all(),
        &remote(),
    )
    .await
    .unwrap()
}

fn all() -> Vec<String> {
    vec!["local".into(), scripted::ID.into(), "fal".into()]
}

fn remote() -> Vec<String> {
    vec![scripted::ID.into(), "fal".into()]
}
