//! The fal.ai adapter against the stand-in fal queue server, over real HTTP on a local port.

use std::sync::Arc;
use std::time::Duration;

use factory::batches::{LaunchRequest, SeedChoice};
use factory::jobs::JobState;
use factory::media::ImageFormat;
use factory::products;
use factory::providers::fal::{FalConfig, FalProvider};
use factory::providers::{
    CancelOutcome, ErrorKind, GenerationRequest, Output, PollStatus, Provider, RequestRef,
    Submitted,
};
use factory::secret::Secret;
use factory::testing::fal_standin::{FalStandIn, StandInOptions};
use serde_json::json;

use crate::queue::{self, setup_with_providers};

const MODEL: &str = "fal-ai/flux/schnell";

fn provider(standin: &FalStandIn, key: &str) -> FalProvider {
    FalProvider::new(FalConfig {
        key: Secret::new(key).unwrap(),
        base_url: Some(standin.base_url()),
        timeout: None,
    })
    .unwrap()
}

fn request(seed: i64) -> GenerationRequest {
    GenerationRequest {
        model: MODEL.into(),
        prompt: "a lighthouse".into(),
        negative_prompt: String::new(),
        seed,
        params: json!({"image_size": "square", "num_inference_steps": 4})
            .as_object()
            .unwrap()
            .clone(),
        networks: Vec::new(),
        input_image: None,
        scene: None,
        made_from: None,
    }
}

async fn submit(fal: &FalProvider, seed: i64) -> String {
    match fal.submit(&request(seed)).await.unwrap() {
        Submitted::Queued { request_id } => request_id,
        Submitted::Finished(_) => panic!("fal always queues"),
    }
}

/// Polls until the request leaves the queue; returns every status seen.
async fn poll_to_end(fal: &FalProvider, id: &str) -> (Vec<String>, PollStatus) {
    let mut seen = Vec::new();
    let done = factory::testing::eventually(Duration::from_secs(10), async || {
        let status = fal
            .poll(RequestRef {
                model: MODEL,
                request_id: id,
            })
            .await
            .unwrap();
        match status {
            PollStatus::Queued { .. } => seen.push("queued".to_string()),
            PollStatus::Running { message, .. } => {
                seen.push(format!("running: {}", message.unwrap_or_default()))
            }
            done => return Some(done),
        }
        None
    })
    .await;
    (seen, done)
}

#[tokio::test]
async fn a_request_is_queued_polled_through_its_states_and_its_png_downloaded() {
    let standin = FalStandIn::start(StandInOptions::default()).await;
    let fal = provider(&standin, &StandInOptions::default().key);
    let id = submit(&fal, 7).await;
    let (seen, done) = poll_to_end(&fal, &id).await;
    assert_eq!(seen.first().map(String::as_str), Some("queued"));
    assert!(
        seen.iter().any(|s| s == "running: denoising"),
        "the last log line is shown while running: {seen:?}"
    );
    let PollStatus::Completed(outputs) = done else {
        panic!("{done:?}")
    };
    assert_eq!(outputs.len(), 1);
    let Output::Url { url, declared_mime } = &outputs[0] else {
        panic!("fal returns URLs")
    };
    assert!(url.starts_with(&standin.base_url()));
    assert_eq!(declared_mime.as_deref(), Some("image/png"));
    let bytes = fal.fetch(&outputs[0]).await.unwrap();
    assert_eq!(ImageFormat::sniff(&bytes), Some(ImageFormat::Png));
    assert_eq!(standin.submissions_per_seed()[&7], 1);
}

#[tokio::test]
async fn a_wrong_key_is_unauthorized_and_the_key_never_appears_in_the_error() {
    let standin = FalStandIn::start(StandInOptions::default()).await;
    let fal = provider(&standin, "wrong-id:wrong-secret");
    let error = fal.submit(&request(1)).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Unauthorized);
    assert!(!error.retryable());
    let text = format!("{error} {error:?}");
    assert!(text.contains("fal.ai") && text.contains("401"), "{text}");
    assert!(
        text.contains("No user found for Key ID and Secret"),
        "{text}"
    );
    assert!(!text.contains("wrong-secret"), "{text}");
}

#[tokio::test]
async fn a_validation_error_names_the_field_and_an_overloaded_fal_is_retryable() {
    let options = StandInOptions {
        refuse_first_submissions: 1,
        ..StandInOptions::default()
    };
    let standin = FalStandIn::start(options.clone()).await;
    let fal = provider(&standin, &options.key);

    let busy = fal.submit(&request(1)).await.unwrap_err();
    assert_eq!(busy.kind, ErrorKind::Unavailable);
    assert!(busy.retryable());
    assert!(busy.message.contains("runner_scheduling_failure"), "{busy}");

    let mut bad = request(2);
    bad.params.insert("num_inference_steps".into(), json!(40));
    let error = fal.submit(&bad).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidInput);
    assert!(
        error
            .message
            .contains("num_inference_steps: Input should be less than or equal to 12"),
        "{error}"
    );
}

fn at(id: &str) -> RequestRef<'_> {
    RequestRef {
        model: MODEL,
        request_id: id,
    }
}

#[tokio::test]
async fn cancel_is_requested_while_waiting_too_late_once_done_and_unknown_ids_are_not_found() {
    let options = StandInOptions {
        queue_time: Duration::from_secs(30),
        ..StandInOptions::default()
    };
    let standin = FalStandIn::start(options.clone()).await;
    let fal = provider(&standin, &options.key);
    let waiting = submit(&fal, 1).await;
    assert_eq!(
        fal.cancel(at(&waiting)).await.unwrap(),
        CancelOutcome::Requested
    );
    assert_eq!(standin.canceled(), 1);
    match fal.poll(at(&waiting)).await.unwrap() {
        PollStatus::Failed(e) => assert!(e.message.contains("cancelled"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        fal.cancel(at("0000-unknown")).await.unwrap(),
        CancelOutcome::NotFound
    );

    let quick = FalStandIn::start(StandInOptions::default()).await;
    let fal = provider(&quick, &options.key);
    let done = submit(&fal, 2).await;
    poll_to_end(&fal, &done).await;
    assert_eq!(
        fal.cancel(at(&done)).await.unwrap(),
        CancelOutcome::AlreadyFinished
    );
}

#[tokio::test]
async fn an_expired_request_is_not_found_and_odd_ids_never_reach_a_url() {
    let standin = FalStandIn::start(StandInOptions::default()).await;
    let fal = provider(&standin, &StandInOptions::default().key);
    let id = submit(&fal, 3).await;
    standin.expire(&id);
    let error = fal
        .poll(RequestRef {
            model: MODEL,
            request_id: &id,
        })
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::NotFound);
    let error = fal
        .poll(RequestRef {
            model: MODEL,
            request_id: "../../etc",
        })
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn outputs_from_other_hosts_or_of_the_wrong_type_are_refused() {
    let standin = FalStandIn::start(StandInOptions::default()).await;
    let fal = provider(&standin, &StandInOptions::default().key);
    let elsewhere = Output::Url {
        url: "https://169.254.169.254/latest/meta-data".into(),
        declared_mime: None,
    };
    let error = fal.fetch(&elsewhere).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::BadOutput);
    assert!(error.message.contains("169.254.169.254"), "{error}");

    let id = submit(&fal, 4).await;
    poll_to_end(&fal, &id).await;
    let claims_jpeg = Output::Url {
        url: format!("{}/files/{id}.png", standin.base_url()),
        declared_mime: Some("image/jpeg".into()),
    };
    let error = fal.fetch(&claims_jpeg).await.unwrap_err();
    assert!(error.message.contains("claims to be image/jpeg"), "{error}");
}

#[tokio::test]
async fn the_engine_runs_a_batch_through_fal_once_per_job_and_stores_every_image() {
    let options = StandInOptions {
        refuse_first_submissions: 2,
        ..StandInOptions::default()
    };
    let standin = FalStandIn::start(options.clone()).await;
    let fal: Arc<dyn Provider> = Arc::new(provider(&standin, &options.key));
    let setup = setup_with_providers(5, vec![fal]).await;
    let (batch, jobs) = queue::run_batch(
        &setup,
        "fal",
        MODEL,
        "a harbour",
        json!({"image_size": "square"}),
        6,
    )
    .await;

    assert!(
        jobs.iter().all(|j| j.state() == JobState::Succeeded),
        "{jobs:#?}"
    );
    assert!(jobs.iter().all(|j| j.provider_request_id.is_some()));
    let submissions = standin.submissions_per_seed();
    for job in &jobs {
        assert_eq!(submissions.get(&job.seed), Some(&1), "job {}", job.id);
    }
    let stored = products::list_for_batch(&mut *setup.db.conn().await, batch)
        .await
        .unwrap();
    assert_eq!(stored.len(), 6);
    assert!(stored.iter().all(|p| p.mime == "image/png"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bucket_out_of_reach_delays_storing_without_paying_twice() {
    let options = StandInOptions::default();
    let standin = FalStandIn::start(options.clone()).await;
    let fal: Arc<dyn Provider> = Arc::new(provider(&standin, &options.key));
    let mut setup = setup_with_providers(50, vec![fal]).await;
    // The bucket does not exist yet: every write fails until it does.
    let name = factory::testing::s3::unused_name();
    let bucket = factory::testing::s3::settings(&name).open().unwrap();
    let data_dir = setup.engine.media().root().to_path_buf();
    setup.engine = setup
        .engine
        .with_media(factory::media::MediaStore::in_bucket(data_dir, bucket));
    let db = setup.db.url().to_string();
    let comes_back = tokio::spawn(async move {
        let mut conn =
            <diesel_async::AsyncPgConnection as diesel_async::AsyncConnection>::establish(&db)
                .await
                .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let jobs = factory::jobs::queue::list_for_batch(&mut conn, 1)
                .await
                .unwrap();
            let failed_to_store = jobs.iter().any(|j| {
                j.error
                    .as_deref()
                    .is_some_and(|e| e.contains("could not be stored"))
            });
            if failed_to_store {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no write failed: {jobs:#?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        factory::testing::s3::create(&name).await;
    });
    let (batch, jobs) = queue::run_batch(
        &setup,
        "fal",
        MODEL,
        "a harbour",
        json!({"image_size": "square"}),
        2,
    )
    .await;
    comes_back.await.unwrap();
    assert!(
        jobs.iter().all(|j| j.state() == JobState::Succeeded),
        "{jobs:#?}"
    );
    assert!(
        jobs.iter().any(|j| j.attempts > 1),
        "a write failed and was tried again: {jobs:#?}"
    );
    let submissions = standin.submissions_per_seed();
    for job in &jobs {
        assert_eq!(
            submissions.get(&job.seed),
            Some(&1),
            "job {}: fetched again, not paid for again",
            job.id
        );
    }
    let stored = products::list_for_batch(&mut *setup.db.conn().await, batch)
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
}

#[tokio::test]
async fn a_negative_prompt_is_refused_for_a_model_without_one() {
    let standin = FalStandIn::start(StandInOptions::default()).await;
    let fal: Arc<dyn Provider> = Arc::new(provider(&standin, &StandInOptions::default().key));
    let setup = setup_with_providers(5, vec![fal]).await;
    let launch = LaunchRequest {
        project_id: setup.project,
        provider: "fal".into(),
        model: MODEL.into(),
        prompt: "a harbour".into(),
        negative_prompt: "blurry".into(),
        params: Default::default(),
        count: 1,
        seed: SeedChoice::Random,
        mode: factory::prompt::Mode::Combinatorial,
        confirmed: false,
        networks: Vec::new(),
        input_image: None,
        made_from: None,
    };
    let error = setup.engine.launch(&launch).await.unwrap_err().to_string();
    assert!(error.contains("takes no negative prompt"), "{error}");
    assert!(standin.submissions_per_seed().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_pauses_fal_until_the_reset_and_nothing_is_sent_before_it() {
    use factory::providers::limits::{Gate, Limited, RateLimits};

    let reset = Duration::from_secs(2);
    let standin = FalStandIn::start(StandInOptions {
        throttle_first_submissions: 1,
        throttle_for: reset,
        ..StandInOptions::default()
    })
    .await;
    let gate = Gate::new(RateLimits::published("fal"), Duration::from_secs(600));
    let fal: Arc<dyn Provider> = Arc::new(Limited::new(
        Arc::new(provider(&standin, &StandInOptions::default().key)),
        Arc::new(gate),
    ));
    let setup = setup_with_providers(5, vec![fal]).await;
    let params = json!({"image_size": "square"});
    queue::run_through_throttling(&setup, &standin, MODEL, "a {a|b|c|d} bay", params, 4).await;
    queue::assert_quiet_until_reset("fal", &standin.requests(), reset);
}

/// The cap on jobs at once set on the Settings page (held by the provider's gate) applies to
/// the running worker's next claim: one at a time, then three, never more than the cap.
#[tokio::test(flavor = "multi_thread")]
async fn the_cap_on_jobs_at_once_follows_the_settings_while_the_worker_runs() {
    use factory::jobs::queue as jobs;
    use factory::providers::limits::{Gate, Limited, RateLimits};

    let standin = FalStandIn::start(StandInOptions {
        run_time: Duration::from_millis(400),
        ..StandInOptions::default()
    })
    .await;
    let one = RateLimits {
        concurrency: Some(1),
        ..RateLimits::published("fal")
    };
    let gate = Arc::new(Gate::new(one, Duration::from_secs(600)));
    let fal: Arc<dyn Provider> = Arc::new(Limited::new(
        Arc::new(provider(&standin, &StandInOptions::default().key)),
        gate.clone(),
    ));
    let setup = setup_with_providers(5, vec![fal]).await;
    let worker = queue::start(&setup);
    let launch = LaunchRequest {
        params: json!({"image_size": "square"})
            .as_object()
            .cloned()
            .unwrap(),
        ..queue::request(&setup, "fal", MODEL, "a {a|b|c|d|e|f|g|h} cove", 1)
    };
    let (batch, _) = setup.engine.launch(&launch).await.unwrap();
    let in_flight = |list: &[factory::jobs::Job]| {
        let busy = [
            JobState::Submitting,
            JobState::Running,
            JobState::Downloading,
        ];
        list.iter().filter(|j| busy.contains(&j.state())).count()
    };
    let (mut most_at_one, mut most_at_three, mut raised) = (0, 0, false);
    factory::testing::eventually(Duration::from_secs(30), async || {
        let list = jobs::list_for_batch(&mut *setup.db.conn().await, batch.id)
            .await
            .unwrap();
        let done = list.iter().filter(|j| j.state().is_terminal()).count();
        if raised {
            most_at_three = most_at_three.max(in_flight(&list));
        } else {
            most_at_one = most_at_one.max(in_flight(&list));
        }
        if done >= 2 && !raised {
            gate.set_limits(RateLimits {
                concurrency: Some(3),
                ..one
            });
            raised = true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        (done == list.len()).then_some(())
    })
    .await;
    worker.shut_down(Duration::from_secs(1)).await;
    println!("fal jobs in flight: at most {most_at_one} under a cap of 1, {most_at_three} under 3");
    assert_eq!(most_at_one, 1);
    assert!((2..=3).contains(&most_at_three), "{most_at_three}");
}

/// Two processes on one database (two engines, each with its own gate for fal, as two
/// `art-factory` processes have) hold fal's limits together: submissions never come faster
/// than the rate across both, and never more jobs are in flight than the cap.
#[tokio::test(flavor = "multi_thread")]
async fn two_processes_hold_the_rate_limit_and_the_cap_together() {
    use factory::providers::limits::{Gate, Limited, RateLimits};
    use factory::providers::Providers;

    let standin = FalStandIn::start(StandInOptions {
        run_time: Duration::from_millis(300),
        ..StandInOptions::default()
    })
    .await;
    // 120 a minute: one every half second, a burst of 2; at most 2 jobs in flight.
    let limits = RateLimits {
        submissions_per_minute: Some(120),
        calls_per_minute: None,
        concurrency: Some(2),
    };
    let shared_fal = |pool: &factory::db::Pool| -> Arc<dyn Provider> {
        let gate = Arc::new(Gate::new(limits, Duration::from_secs(600)));
        gate.share(pool.clone(), "fal");
        Arc::new(Limited::new(
            Arc::new(provider(&standin, &StandInOptions::default().key)),
            gate,
        ))
    };
    let setup = setup_with_providers(5, Vec::new()).await;
    let files = tempfile::tempdir().unwrap();
    let engine = || {
        let providers = Providers::builtin();
        providers.add(shared_fal(&setup.db.pool()));
        let mut settings = factory::EngineSettings::new(files.path());
        settings.max_items = 20;
        factory::Engine::new(setup.db.pool(), providers, settings)
    };
    let (first, second) = (engine(), engine());
    let config = || {
        let mut config = queue::fast_worker();
        config.provider_concurrency.insert("fal".into(), 2);
        config
    };
    let workers = [
        first.start_worker(config(), Duration::from_secs(1)),
        second.start_worker(config(), Duration::from_secs(1)),
    ];
    let launch = LaunchRequest {
        params: json!({"image_size": "square"})
            .as_object()
            .cloned()
            .unwrap(),
        ..queue::request(&setup, "fal", MODEL, "a {a|b|c|d|e|f|g|h|i|j|k|l} reef", 1)
    };
    let (batch, _) = first.launch(&launch).await.unwrap();
    let mut most_in_flight = 0;
    let jobs = factory::testing::eventually(Duration::from_secs(60), async || {
        let list = factory::jobs::queue::list_for_batch(&mut *setup.db.conn().await, batch.id)
            .await
            .unwrap();
        let busy = [
            JobState::Submitting,
            JobState::Running,
            JobState::Downloading,
        ];
        most_in_flight =
            most_in_flight.max(list.iter().filter(|j| busy.contains(&j.state())).count());
        tokio::time::sleep(Duration::from_millis(5)).await;
        list.iter().all(|j| j.state().is_terminal()).then_some(list)
    })
    .await;
    for worker in workers {
        worker.shut_down(Duration::from_secs(1)).await;
    }
    assert!(jobs.iter().all(|j| j.state() == JobState::Succeeded));
    assert_eq!(jobs.len(), 12);
    assert!(standin.submissions_per_seed().values().all(|n| *n == 1));

    // Submissions as fal saw them: in any window, at most the burst plus one per interval
    // (with 60 ms for the trip from the reservation to the stand-in).
    let times: Vec<std::time::Instant> = standin
        .requests()
        .into_iter()
        .filter(|(_, line)| line.starts_with("POST ") && line.ends_with(" 200"))
        .map(|(at, _)| at)
        .collect();
    assert_eq!(times.len(), 12);
    let mut worst = 0.0f64;
    for i in 0..times.len() {
        for j in i..times.len() {
            let window = (times[j] - times[i]).as_secs_f64() + 0.06;
            let allowed = 2.0 + (window / 0.5).floor();
            worst = worst.max((j - i + 1) as f64 - allowed);
        }
    }
    println!("two processes: at most {most_in_flight} fal jobs in flight (cap 2); submissions over the rate by at most {worst}");
    assert!(
        worst <= 0.0,
        "faster than 120 a minute across the two processes: {times:?}"
    );
    assert!(
        most_in_flight <= 2,
        "{most_in_flight} in flight under a cap of 2"
    );
    assert!(most_in_flight >= 1);
}
