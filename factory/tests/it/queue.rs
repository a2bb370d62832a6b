//! The job queue against a real database: launches, the worker, every transition, crashes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::sql_query;
use diesel_async::RunQueryDsl;
use factory::batches::{LaunchError, LaunchRequest, SeedChoice};
use factory::events::EventKind;
use factory::jobs::claim::claim_next;
use factory::jobs::queue::{self, Canceled};
use factory::jobs::transitions::{self, Failure};
use factory::jobs::worker::{WorkerConfig, WorkerHandle};
use factory::jobs::{Job, JobState};
use factory::media::png::{read_text, ART_FACTORY_KEY, PARAMETERS_KEY};
use factory::media::THUMB_SIZES;
use factory::products;
use factory::projects::{self, Description, ProjectName};
use factory::providers::{Provider, Providers};
use factory::testing::TestDb;
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
    let mut providers = Providers::builtin();
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

fn fast_worker() -> WorkerConfig {
    WorkerConfig {
        idle_poll: Duration::from_millis(50),
        status_poll: (Duration::from_millis(5), Duration::from_millis(20)),
        retry_base: Duration::from_millis(20),
        retry_cap: Duration::from_millis(100),
        ..WorkerConfig::default()
    }
}

pub(crate) fn start(setup: &Setup) -> WorkerHandle {
    setup
        .engine
        .start_worker(fast_worker(), Duration::from_secs(2))
}

fn request(setup: &Setup, provider: &str, model: &str, prompt: &str, count: u32) -> LaunchRequest {
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
    }
}

/// Launches `prompt` on the scripted provider with a worker running, and returns the jobs once
/// all are finished.
async fn run_scripted(setup: &Setup, prompt: &str) -> Vec<Job> {
    let worker = start(setup);
    let (batch, _) = setup
        .engine
        .launch(&request(setup, scripted::ID, "m", prompt, 1))
        .await
        .unwrap();
    let done = wait_until_finished(setup, batch.id).await;
    worker.shut_down(Duration::from_secs(1)).await;
    done
}

/// Polls the batch until every job is in a terminal state (or fails the test after 30 s).
pub(crate) async fn wait_until_finished(setup: &Setup, batch: i64) -> Vec<Job> {
    wait_for_jobs(setup, batch, |jobs| {
        jobs.iter().all(|j| j.state().is_terminal())
    })
    .await
}

async fn wait_for_jobs(setup: &Setup, batch: i64, done: impl Fn(&[Job]) -> bool) -> Vec<Job> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let jobs = queue::list_for_batch(&mut *setup.db.conn().await, batch)
            .await
            .unwrap();
        if done(&jobs) {
            return jobs;
        }
        assert!(Instant::now() < deadline, "timed out; jobs: {jobs:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn expire_lease(setup: &Setup, job: i64) {
    sql_query("UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1")
        .bind::<diesel::sql_types::BigInt, _>(job)
        .execute(&mut *setup.db.conn().await)
        .await
        .unwrap();
}

fn all() -> Vec<String> {
    vec!["local".into(), scripted::ID.into()]
}

fn remote() -> Vec<String> {
    vec![scripted::ID.into()]
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_on_the_offline_generator_stores_one_png_per_job_with_metadata_and_thumbnails() {
    let setup = setup().await;
    let worker = start(&setup);
    let (batch, jobs) = setup
        .engine
        .launch(&request(&setup, "local", "aurora", "a lighthouse", 3))
        .await
        .unwrap();
    for job in &jobs {
        let bindings = serde_json::from_value(job.bindings.clone()).unwrap();
        assert_eq!(job.seed, factory::prompt::derive_seed(1000, &bindings));
    }
    assert_eq!(
        jobs.iter()
            .map(|j| j.seed)
            .collect::<std::collections::HashSet<_>>()
            .len(),
        3,
        "each image of the same prompt has its own seed"
    );

    let done = wait_until_finished(&setup, batch.id).await;
    assert!(
        done.iter()
            .all(|j| j.state() == JobState::Succeeded && j.attempts == 1),
        "{done:#?}"
    );
    let stored = products::list_for_batch(&mut *setup.db.conn().await, batch.id)
        .await
        .unwrap();
    assert_eq!(stored.len(), 3, "exactly one product per job");
    for product in &stored {
        assert_eq!(
            (product.width, product.height, product.mime.as_str()),
            (Some(128), Some(96), "image/png")
        );
        let bytes = std::fs::read(setup.engine.media().root().join(&product.path)).unwrap();
        let parameters = read_text(&bytes, PARAMETERS_KEY).unwrap();
        assert!(parameters.starts_with("a lighthouse\n"), "{parameters}");
        assert!(parameters.contains(&format!("Seed: {}", product.seed.unwrap())));
        let record: serde_json::Value =
            serde_json::from_str(&read_text(&bytes, ART_FACTORY_KEY).unwrap()).unwrap();
        assert_eq!(record["provider"], "local");
        assert_eq!(record["model"], "aurora");
        for size in THUMB_SIZES {
            assert!(setup
                .engine
                .media()
                .thumb_path(setup.project, &product.content_hash, size)
                .unwrap()
                .exists());
        }
        assert!(product.thumbhash.is_some());
    }
    let hashes: std::collections::HashSet<_> = stored.iter().map(|p| &p.content_hash).collect();
    assert_eq!(hashes.len(), 3, "different seeds give different images");
    worker.shut_down(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn events_carry_increasing_sequence_numbers_and_every_job_reaches_succeeded_once() {
    let setup = setup().await;
    let mut events = setup.engine.events().subscribe();
    let worker = start(&setup);
    let (batch, jobs) = setup
        .engine
        .launch(&request(&setup, scripted::ID, "m", "ok", 4))
        .await
        .unwrap();
    wait_until_finished(&setup, batch.id).await;
    worker.shut_down(Duration::from_secs(1)).await;

    let mut last_seq = 0;
    let mut succeeded = std::collections::HashMap::new();
    let mut products_created = 0;
    let mut saw_progress = false;
    while let Ok(event) = events.try_recv() {
        assert!(event.seq > last_seq, "sequence numbers increase");
        last_seq = event.seq;
        match event.kind {
            EventKind::Job(job) if job.state() == JobState::Succeeded => {
                *succeeded.entry(job.id).or_insert(0) += 1
            }
            EventKind::Job(job) if job.state() == JobState::Running && job.progress > Some(0.0) => {
                saw_progress = true
            }
            EventKind::ProductCreated(_) => products_created += 1,
            _ => {}
        }
    }
    assert_eq!(succeeded.len(), jobs.len());
    assert!(succeeded.values().all(|n| *n == 1), "{succeeded:?}");
    assert_eq!(products_created, 4);
    assert!(
        saw_progress,
        "progress reported by the provider reaches the events"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_launches_are_refused_field_by_field_and_queue_nothing() {
    let setup = setup().await;
    let cases: Vec<(LaunchRequest, &str, &str)> = vec![
        (
            request(&setup, "local", "aurora", "   ", 1),
            "prompt",
            "Write a prompt first.",
        ),
        (
            request(&setup, "local", "aurora", &"x".repeat(4001), 1),
            "prompt",
            "at most 4000",
        ),
        (
            request(&setup, "local", "aurora", "ok", 0),
            "count",
            "between 1 and 20",
        ),
        (
            request(&setup, "local", "aurora", "ok", 21),
            "count",
            "between 1 and 20",
        ),
        (
            request(&setup, "nope", "aurora", "ok", 1),
            "provider",
            "no provider “nope”",
        ),
        (
            request(&setup, "local", "cubism", "ok", 1),
            "model",
            "no model “cubism”",
        ),
        (
            LaunchRequest {
                params: json!({"width": 4096, "height": "tall"})
                    .as_object()
                    .unwrap()
                    .clone(),
                ..request(&setup, "local", "aurora", "ok", 1)
            },
            "params.width",
            "between 64 and 2048",
        ),
        (
            LaunchRequest {
                seed: SeedChoice::Fixed(-1),
                ..request(&setup, "local", "aurora", "ok", 1)
            },
            "seed",
            "0 to 4294967295",
        ),
    ];
    for (launch, field, message) in cases {
        match setup.engine.launch(&launch).await {
            Err(LaunchError::Invalid(errors)) => {
                let error = errors
                    .iter()
                    .find(|e| e.field == field)
                    .unwrap_or_else(|| panic!("no {field} error in {errors:?}"));
                assert!(
                    error.message.contains(message),
                    "{field}: {}",
                    error.message
                );
            }
            other => panic!("{field}: expected a field error, got {other:?}"),
        }
    }
    let totals = queue::totals(&mut *setup.db.conn().await).await.unwrap();
    assert_eq!(totals.active(), 0, "nothing was queued");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_archived_project_cannot_be_generated_into() {
    let setup = setup().await;
    projects::set_archived(&mut *setup.db.conn().await, setup.project, true)
        .await
        .unwrap();
    let err = setup
        .engine
        .launch(&request(&setup, "local", "aurora", "x", 1))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("archived"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_remote_job_is_submitted_once_and_polled_to_completion_with_its_request_id_kept() {
    let setup = setup().await;
    let done = run_scripted(&setup, "ok").await;
    assert_eq!(done[0].state(), JobState::Succeeded);
    assert_eq!(done[0].provider_request_id.as_deref(), Some("req-1"));
    assert_eq!(setup.scripted.submissions("ok"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn retryable_failures_back_off_and_then_succeed() {
    let setup = setup().await;
    let done = run_scripted(&setup, "flaky:2").await;
    assert_eq!(done[0].state(), JobState::Succeeded);
    assert_eq!(done[0].attempts, 3);
    assert_eq!(setup.scripted.submissions("flaky:2"), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_waits_in_the_database_until_its_time_so_backoff_survives_a_restart() {
    let setup = setup().await;
    let (batch, _) = setup
        .engine
        .launch(&request(&setup, scripted::ID, "m", "ok", 1))
        .await
        .unwrap();
    let mut conn = setup.db.conn().await;
    let job = claim_next(&mut conn, "w1", Duration::from_secs(30), &all(), &remote())
        .await
        .unwrap()
        .unwrap();
    let failure = Failure {
        message: "Scripted: overloaded".into(),
        retryable: true,
        retry_in: Duration::from_secs(600),
        keep_request: false,
    };
    let waiting = transitions::fail_or_retry(&mut conn, job.id, "w1", &failure)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(waiting.state(), JobState::RetryWait);
    assert_eq!(waiting.error.as_deref(), Some("Scripted: overloaded"));
    let wait = waiting.run_after - waiting.updated_at;
    assert!(
        (599..=601).contains(&wait.num_seconds()),
        "run_after is now + 600 s: {wait}"
    );
    // A "restarted" worker (a new id, nothing in memory) does not take it early...
    assert!(
        claim_next(&mut conn, "w2", Duration::from_secs(30), &all(), &remote())
            .await
            .unwrap()
            .is_none()
    );
    // ...and takes it once due, as attempt 2.
    sql_query("UPDATE jobs SET run_after = now() WHERE batch_id = $1")
        .bind::<diesel::sql_types::BigInt, _>(batch.id)
        .execute(&mut conn)
        .await
        .unwrap();
    let again = claim_next(&mut conn, "w2", Duration::from_secs(30), &all(), &remote())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (again.id, again.attempts, again.state()),
        (job.id, 2, JobState::Submitting)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn after_the_last_attempt_a_job_fails_with_the_last_error_and_can_be_retried_by_hand() {
    let setup = setup_with(3).await;
    let worker = start(&setup);
    let (batch, _) = setup
        .engine
        .launch(&request(&setup, scripted::ID, "m", "flaky:3", 1))
        .await
        .unwrap();
    let failed = wait_until_finished(&setup, batch.id).await;
    assert_eq!(failed[0].state(), JobState::Failed);
    assert_eq!(failed[0].attempts, 3);
    assert_eq!(
        failed[0].error.as_deref(),
        Some("Scripted: overloaded (try 3)")
    );

    setup.engine.retry_job(failed[0].id).await.unwrap();
    let done = wait_until_finished(&setup, batch.id).await;
    worker.shut_down(Duration::from_secs(1)).await;
    assert_eq!(done[0].state(), JobState::Succeeded);
    assert_eq!(done[0].error, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failure_that_cannot_succeed_on_retry_fails_at_once_with_the_providers_message() {
    let setup = setup().await;
    let done = run_scripted(&setup, "refused").await;
    assert_eq!(done[0].state(), JobState::Failed);
    assert_eq!(done[0].attempts, 1);
    assert_eq!(
        done[0].error.as_deref(),
        Some("Scripted: the prompt was refused by the content filter")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_works_while_queued_while_waiting_to_retry_and_while_running_at_the_provider() {
    let setup = setup().await;
    let mut conn = setup.db.conn().await;

    // Queued: cancelled on the spot.
    let (_, queued) = setup
        .engine
        .launch(&request(&setup, scripted::ID, "m", "ok", 1))
        .await
        .unwrap();
    assert!(
        matches!(setup.engine.cancel_job(queued[0].id).await.unwrap(), Canceled::Now(ref j) if j.state() == JobState::Canceled)
    );

    // Waiting to retry: cancelled on the spot.
    let (_, retrying) = setup
        .engine
        .launch(&request(&setup, scripted::ID, "m", "ok", 1))
        .await
        .unwrap();
    let claimed = claim_next(&mut conn, "w1", Duration::from_secs(30), &all(), &remote())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, retrying[0].id);
    let failure = Failure {
        message: "x".into(),
        retryable: true,
        retry_in: Duration::from_secs(60),
        keep_request: false,
    };
    transitions::fail_or_retry(&mut conn, claimed.id, "w1", &failure)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        setup.engine.cancel_job(claimed.id).await.unwrap(),
        Canceled::Now(_)
    ));

    // Running at the provider: the worker cancels it there, then records it.
    let worker = start(&setup);
    let (batch, _) = setup
        .engine
        .launch(&request(&setup, scripted::ID, "m", "hang", 1))
        .await
        .unwrap();
    let running = wait_for_jobs(&setup, batch.id, |jobs| {
        jobs[0].provider_request_id.is_some()
    })
    .await;
    assert!(matches!(
        setup.engine.cancel_job(running[0].id).await.unwrap(),
        Canceled::Requested(_)
    ));
    let done = wait_until_finished(&setup, batch.id).await;
    worker.shut_down(Duration::from_secs(1)).await;
    assert_eq!(done[0].state(), JobState::Canceled);
    assert_eq!(
        setup.scripted.cancels(),
        [running[0].provider_request_id.clone().unwrap()]
    );

    // Finished: nothing to cancel, and it says so.
    let err = setup.engine.cancel_job(done[0].id).await.unwrap_err();
    assert!(err.to_string().contains("canceled"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn pausing_the_queue_stops_claims_until_it_is_resumed() {
    let setup = setup().await;
    setup.engine.set_queue_paused(true).await.unwrap();
    setup
        .engine
        .launch(&request(&setup, scripted::ID, "m", "ok", 2))
        .await
        .unwrap();
    let mut conn = setup.db.conn().await;
    assert!(queue::is_paused(&mut conn).await.unwrap());
    assert!(
        claim_next(&mut conn, "w", Duration::from_secs(30), &all(), &remote())
            .await
            .unwrap()
            .is_none()
    );
    setup.engine.set_queue_paused(false).await.unwrap();
    assert!(
        claim_next(&mut conn, "w", Duration::from_secs(30), &all(), &remote())
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_moved_to_the_front_is_claimed_next() {
    let setup = setup().await;
    let (_, first) = setup
        .engine
        .launch(&request(&setup, scripted::ID, "m", "ok", 3))
        .await
        .unwrap();
    let (_, later) = setup
        .engine
        .launch(&request(&setup, scripted::ID, "m", "ok", 3))
        .await
        .unwrap();
    let last = later.last().unwrap().id;
    setup.engine.move_job_to_front(last).await.unwrap();
    let mut conn = setup.db.conn().await;
    let claimed = claim_next(&mut conn, "w", Duration::from_secs(30), &all(), &remote())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, last);
    let next = claim_next(&mut conn, "w", Duration::from_secs(30), &all(), &remote())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next.id, first[0].id, "then the queue goes on in order");
    let err = setup
        .engine
        .move_job_to_front(claimed.id)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("waiting"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_whose_worker_died_after_committing_its_request_id_resumes_polling_and_is_not_resubmitted(
) {
    let setup = setup().await;
    let (batch, _) = setup
        .engine
        .launch(&request(&setup, scripted::ID, "m", "ok", 1))
        .await
        .unwrap();
    let mut conn = setup.db.conn().await;
    let job = claim_next(
        &mut conn,
        "dead",
        Duration::from_secs(30),
        &all(),
        &remote(),
    )
    .await
    .unwrap()
    .unwrap();
    transitions::begin_submit(&mut conn, job.id, "dead")
        .await
        .unwrap()
        .unwrap();
    transitions::record_request_id(&mut conn, job.id, "dead", "req-77")
        .await
        .unwrap()
        .unwrap();
    expire_lease(&setup, job.id).await;

    let resumed = claim_next(
        &mut conn,
        "alive",
        Duration::from_secs(30),
        &all(),
        &remote(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(resumed.state(), JobState::Running, "resumes polling");
    assert_eq!(resumed.provider_request_id.as_deref(), Some("req-77"));
    assert_eq!(resumed.attempts, 1, "not a new attempt");
    assert!(!resumed.possibly_duplicated);

    // The dead worker's late writes are refused.
    assert!(transitions::begin_download(&mut conn, job.id, "dead")
        .await
        .unwrap()
        .is_none());
    let _ = batch;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_caught_between_sending_and_recording_its_request_id_is_flagged_as_possibly_duplicated(
) {
    let setup = setup().await;
    setup
        .engine
        .launch(&request(&setup, scripted::ID, "m", "ok", 1))
        .await
        .unwrap();
    setup
        .engine
        .launch(&request(&setup, "local", "aurora", "ok", 1))
        .await
        .unwrap();
    let mut conn = setup.db.conn().await;
    for provider in [scripted::ID, "local"] {
        let only = [provider.to_string()];
        let job = claim_next(&mut conn, "dead", Duration::from_secs(30), &only, &remote())
            .await
            .unwrap()
            .unwrap();
        transitions::begin_submit(&mut conn, job.id, "dead")
            .await
            .unwrap()
            .unwrap();
        expire_lease(&setup, job.id).await;
    }
    let mut flagged = std::collections::HashMap::new();
    for _ in 0..2 {
        let job = claim_next(
            &mut conn,
            "alive",
            Duration::from_secs(30),
            &all(),
            &remote(),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(
            job.state(),
            JobState::Submitting,
            "submitted again: there is no request id to poll"
        );
        assert_eq!(job.attempts, 2);
        flagged.insert(job.provider.clone(), job.possibly_duplicated);
    }
    assert!(
        flagged[scripted::ID],
        "a remote queue may now hold it twice: flagged"
    );
    assert!(
        !flagged["local"],
        "the offline generator has no remote copy"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn completing_a_job_twice_stores_its_products_once() {
    let setup = setup().await;
    let worker = start(&setup);
    let (batch, _) = setup
        .engine
        .launch(&request(&setup, "local", "aurora", "once", 1))
        .await
        .unwrap();
    let done = wait_until_finished(&setup, batch.id).await;
    worker.shut_down(Duration::from_secs(1)).await;
    let mut conn = setup.db.conn().await;
    let existing = products::list_for_batch(&mut conn, batch.id).await.unwrap();
    // Replay the completion as a recovered worker would after a crash mid-download.
    sql_query("UPDATE jobs SET state = 'downloading', lease_owner = 'again' WHERE id = $1")
        .bind::<diesel::sql_types::BigInt, _>(done[0].id)
        .execute(&mut conn)
        .await
        .unwrap();
    let p = &existing[0];
    let replay = factory::products::NewProduct {
        project_id: p.project_id,
        content_hash: p.content_hash.clone(),
        path: p.path.clone(),
        mime: p.mime.clone(),
        width: p.width,
        height: p.height,
        bytes: p.bytes,
        prompt: p.prompt.clone(),
        negative_prompt: p.negative_prompt.clone(),
        params: p.params.clone(),
        provider: p.provider.clone(),
        model: p.model.clone(),
        seed: p.seed,
        job_id: p.job_id,
        batch_id: p.batch_id,
        output_index: 0,
        bindings: p.bindings.clone(),
        thumbhash: p.thumbhash.clone(),
    };
    let (job, inserted) = transitions::complete(&mut conn, done[0].id, "again", vec![replay])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.state(), JobState::Succeeded);
    assert!(inserted.is_empty());
    assert_eq!(
        products::list_for_batch(&mut conn, batch.id)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_project_with_generations_cannot_be_deleted_and_says_why() {
    let setup = setup().await;
    setup
        .engine
        .launch(&request(&setup, "local", "aurora", "keep me", 2))
        .await
        .unwrap();
    let err = projects::delete(&mut *setup.db.conn().await, setup.project)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            factory::projects::ProjectError::NotEmpty { items: 1, .. }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("archive the project instead"),
        "{err}"
    );
    assert!(projects::get(&mut *setup.db.conn().await, setup.project)
        .await
        .is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn work_queued_by_another_process_wakes_this_worker_through_notify() {
    let setup = setup().await;
    // A second engine on the same database stands for another process: its own wake-up, its
    // own worker, which would otherwise look for work only once an hour.
    let files = tempfile::tempdir().unwrap();
    let other = Engine::new(
        setup.db.pool(),
        Providers::builtin(),
        EngineSettings::new(files.path()),
    );
    let sleepy = WorkerConfig {
        idle_poll: Duration::from_secs(3600),
        ..fast_worker()
    };
    let worker = other.start_worker(sleepy, Duration::from_secs(1));
    // Let the worker reach its first idle wait and start listening.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let listening: Vec<Listening> = sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE 'LISTEN art_factory_jobs%'",
        )
        .load(&mut *setup.db.conn().await)
        .await
        .unwrap();
        if listening[0].n > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the worker never listened");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (batch, _) = setup
        .engine
        .launch(&request(&setup, "local", "aurora", "from elsewhere", 2))
        .await
        .unwrap();
    let done = wait_until_finished(&setup, batch.id).await;
    worker.shut_down(Duration::from_secs(1)).await;
    assert!(done.iter().all(|j| j.state() == JobState::Succeeded));
}

#[derive(diesel::QueryableByName)]
struct Listening {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[tokio::test(flavor = "multi_thread")]
async fn after_a_crash_the_sole_user_of_the_database_releases_every_lease_at_once() {
    let setup = setup().await;
    setup
        .engine
        .launch(&request(&setup, scripted::ID, "m", "ok", 2))
        .await
        .unwrap();
    let mut conn = setup.db.conn().await;
    let held = factory::jobs::claim::claim(
        &mut conn,
        "crashed",
        Duration::from_secs(30),
        &all(),
        &remote(),
        2,
    )
    .await
    .unwrap();
    assert_eq!(held.len(), 2);
    // Their leases run for 30 s: nobody else may take them yet.
    assert!(claim_next(
        &mut conn,
        "restarted",
        Duration::from_secs(30),
        &all(),
        &remote()
    )
    .await
    .unwrap()
    .is_none());

    assert_eq!(queue::release_orphaned_leases(&mut conn).await.unwrap(), 2);
    let resumed = factory::jobs::claim::claim(
        &mut conn,
        "restarted",
        Duration::from_secs(30),
        &all(),
        &remote(),
        5,
    )
    .await
    .unwrap();
    assert_eq!(
        resumed.iter().map(|j| j.id).collect::<Vec<_>>(),
        held.iter().map(|j| j.id).collect::<Vec<_>>()
    );
    assert!(resumed
        .iter()
        .all(|j| j.lease_owner.as_deref() == Some("restarted")));
}
