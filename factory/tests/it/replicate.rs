//! The Replicate adapter against the stand-in Replicate API, over real HTTP on a local port.

use std::sync::Arc;
use std::time::Duration;

use factory::events::EventKind;
use factory::jobs::JobState;
use factory::media::ImageFormat;
use factory::products;
use factory::providers::limits::{Gate, Limited, RateLimits};
use factory::providers::replicate::{ReplicateConfig, ReplicateProvider};
use factory::providers::{
    CancelOutcome, ErrorKind, GenerationRequest, Output, PollStatus, Provider, RequestRef,
    Submitted,
};
use factory::secret::Secret;
use factory::testing::eventually;
use factory::testing::replicate_standin::{ReplicateStandIn, ReplicateStandInOptions};
use factory::testing::standin::StandIn;
use serde_json::json;

use crate::queue::{self, setup_with_providers};

const MODEL: &str = "black-forest-labs/flux-schnell";

fn provider(standin: &ReplicateStandIn, token: &str) -> ReplicateProvider {
    ReplicateProvider::new(ReplicateConfig {
        token: Secret::new(token).unwrap(),
        base_url: Some(standin.api_url()),
        timeout: None,
    })
    .unwrap()
}

fn token() -> String {
    ReplicateStandInOptions::default().token
}

fn request(model: &str, seed: i64) -> GenerationRequest {
    GenerationRequest {
        model: model.into(),
        prompt: "a lighthouse".into(),
        negative_prompt: String::new(),
        seed,
        params: json!({"aspect_ratio": "1:1", "num_inference_steps": 4})
            .as_object()
            .unwrap()
            .clone(),
        networks: Vec::new(),
        input_image: None,
        scene: None,
        made_from: None,
    }
}

async fn submit(replicate: &ReplicateProvider, model: &str, seed: i64) -> String {
    match replicate.submit(&request(model, seed)).await.unwrap() {
        Submitted::Queued { request_id } => request_id,
        Submitted::Finished(_) => panic!("Replicate always queues"),
    }
}

fn at(id: &str) -> RequestRef<'_> {
    RequestRef {
        model: MODEL,
        request_id: id,
    }
}

/// Polls until the prediction is done; returns every status seen on the way.
async fn poll_to_end(replicate: &ReplicateProvider, id: &str) -> (Vec<String>, PollStatus) {
    let mut seen = Vec::new();
    let done = eventually(Duration::from_secs(10), async || {
        match replicate.poll(at(id)).await.unwrap() {
            PollStatus::Queued { .. } => seen.push("starting".to_string()),
            PollStatus::Running { progress, message } => seen.push(format!(
                "processing {:?} {}",
                progress,
                message.unwrap_or_default()
            )),
            done => return Some(done),
        }
        None
    })
    .await;
    (seen, done)
}

#[tokio::test]
async fn a_prediction_starts_processes_with_progress_from_its_log_and_its_output_is_downloaded() {
    let standin = ReplicateStandIn::start(ReplicateStandInOptions {
        run_time: Duration::from_millis(400),
        ..ReplicateStandInOptions::default()
    })
    .await;
    let replicate = provider(&standin, &token());
    let id = submit(&replicate, MODEL, 7).await;
    let (seen, done) = poll_to_end(&replicate, &id).await;
    assert_eq!(seen.first().map(String::as_str), Some("starting"));
    assert!(
        seen.iter().any(|s| s.starts_with("processing Some(")),
        "the log's progress bar is the progress: {seen:?}"
    );
    let (PollStatus::Completed(outputs) | PollStatus::CompletedWithCost(outputs, _)) = done else {
        panic!("{done:?}")
    };
    assert_eq!(outputs.len(), 1);
    let bytes = replicate.fetch(&outputs[0]).await.unwrap();
    assert_eq!(ImageFormat::sniff(&bytes), Some(ImageFormat::Png));
    assert_eq!(standin.submissions_per_seed()[&7], 1);
    let created: Vec<String> = standin
        .requests()
        .into_iter()
        .map(|(_, r)| r)
        .filter(|r| r.starts_with("POST"))
        .collect();
    assert_eq!(
        created,
        ["POST /v1/models/black-forest-labs/flux-schnell/predictions 201"],
        "an official model is run by its model path"
    );
}

#[tokio::test]
async fn a_model_pinned_by_version_is_run_through_the_predictions_endpoint() {
    let standin = ReplicateStandIn::start(ReplicateStandInOptions::default()).await;
    let replicate = provider(&standin, &token());
    let id = submit(&replicate, "someone/sdxl-variant:5a6b7c8d9e", 3).await;
    let (_, done) = poll_to_end(&replicate, &id).await;
    assert!(
        matches!(
            done,
            PollStatus::Completed(_) | PollStatus::CompletedWithCost(..)
        ),
        "{done:?}"
    );
    assert!(standin
        .requests()
        .iter()
        .any(|(_, r)| r == "POST /v1/predictions 201"));
    let error = replicate
        .submit(&request("../../etc/passwd", 1))
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidInput);
    assert!(error.message.contains("owner/name"), "{error}");
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized_and_the_token_never_appears_in_the_error() {
    let standin = ReplicateStandIn::start(ReplicateStandInOptions::default()).await;
    let replicate = provider(&standin, "r8_wrong_token_secretvalue");
    let error = replicate.submit(&request(MODEL, 1)).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Unauthorized);
    assert!(!error.retryable());
    let text = format!("{error} {error:?}");
    assert!(
        text.contains("Replicate") && text.contains("401") && text.contains("authentication"),
        "{text}"
    );
    assert!(!text.contains("secretvalue"), "{text}");
}

#[tokio::test]
async fn a_validation_error_names_the_field_and_a_throttled_creation_waits_for_the_reset() {
    let standin = ReplicateStandIn::start(ReplicateStandInOptions {
        throttle_first_submissions: 1,
        ..ReplicateStandInOptions::default()
    })
    .await;
    let replicate = provider(&standin, &token());
    let mut bad = request(MODEL, 2);
    bad.params.insert("num_inference_steps".into(), json!(9));
    let error = replicate.submit(&bad).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidInput);
    assert!(
        error
            .message
            .contains("num_inference_steps: Must be less than or equal to 4"),
        "{error}"
    );
    assert!(!error.maybe_accepted, "a 4xx is a refusal");

    let throttled = replicate.submit(&request(MODEL, 3)).await.unwrap_err();
    assert_eq!(throttled.kind, ErrorKind::RateLimited);
    assert!(throttled.retryable());
    assert_eq!(throttled.retry_after, Some(Duration::from_secs(1)));
    assert!(!throttled.maybe_accepted);
}

#[tokio::test]
async fn cancel_is_requested_while_running_too_late_once_done_and_unknown_ids_are_not_found() {
    let slow = ReplicateStandIn::start(ReplicateStandInOptions {
        start_time: Duration::from_secs(30),
        ..ReplicateStandInOptions::default()
    })
    .await;
    let replicate = provider(&slow, &token());
    let waiting = submit(&replicate, MODEL, 1).await;
    assert_eq!(
        replicate.cancel(at(&waiting)).await.unwrap(),
        CancelOutcome::Requested
    );
    assert_eq!(slow.canceled(), 1);
    assert!(matches!(
        replicate.poll(at(&waiting)).await.unwrap(),
        PollStatus::Canceled
    ));
    assert_eq!(
        replicate.cancel(at("rpunknown0000")).await.unwrap(),
        CancelOutcome::NotFound
    );

    let quick = ReplicateStandIn::start(ReplicateStandInOptions::default()).await;
    let replicate = provider(&quick, &token());
    let done = submit(&replicate, MODEL, 2).await;
    poll_to_end(&replicate, &done).await;
    assert_eq!(
        replicate.cancel(at(&done)).await.unwrap(),
        CancelOutcome::AlreadyFinished
    );
}

#[tokio::test]
async fn an_expired_prediction_is_not_found_and_odd_ids_or_hosts_are_refused() {
    let standin = ReplicateStandIn::start(ReplicateStandInOptions::default()).await;
    let replicate = provider(&standin, &token());
    let id = submit(&replicate, MODEL, 3).await;
    standin.expire(&id);
    let error = replicate.poll(at(&id)).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::NotFound);
    let error = replicate.poll(at("../../v1/account")).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::NotFound);
    let elsewhere = Output::Url {
        url: "https://169.254.169.254/latest/meta-data".into(),
        declared_mime: None,
    };
    let error = replicate.fetch(&elsewhere).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::BadOutput);
    assert!(error.message.contains("169.254.169.254"), "{error}");
}

#[tokio::test]
async fn the_engine_runs_a_batch_through_replicate_once_per_job_and_stores_every_image() {
    let standin = ReplicateStandIn::start(ReplicateStandInOptions {
        throttle_first_submissions: 2,
        ..ReplicateStandInOptions::default()
    })
    .await;
    let replicate: Arc<dyn Provider> = Arc::new(provider(&standin, &token()));
    let setup = setup_with_providers(5, vec![replicate]).await;
    let (batch, jobs) = queue::run_batch(
        &setup,
        "replicate",
        MODEL,
        "a {harbour|lighthouse|cliff}",
        json!({"aspect_ratio": "3:2"}),
        2,
    )
    .await;

    assert!(
        jobs.iter().all(|j| j.state() == JobState::Succeeded),
        "{jobs:#?}"
    );
    let submissions = standin.submissions_per_seed();
    for job in &jobs {
        assert_eq!(submissions.get(&job.seed), Some(&1), "job {}", job.id);
        assert!(!job.possibly_duplicated, "a 429 is a refusal, not a maybe");
    }
    let stored = products::list_for_batch(&mut *setup.db.conn().await, batch)
        .await
        .unwrap();
    assert_eq!(stored.len(), 6);
}

/// The Replicate adapter behind its rate limits, as the server sets it up.
fn limited(standin: &ReplicateStandIn) -> Arc<dyn Provider> {
    let gate = Gate::new(
        RateLimits::published(factory::providers::replicate::ID),
        Duration::from_secs(600),
    );
    Arc::new(Limited::new(
        Arc::new(provider(standin, &token())),
        Arc::new(gate),
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_pauses_every_call_to_the_provider_until_the_reset_it_announced() {
    let reset = Duration::from_secs(2);
    // Eight creations at once: four go through and their predictions are polled while the
    // fifth is throttled (and so is everything in the two seconds after it).
    let standin = ReplicateStandIn::start(ReplicateStandInOptions {
        throttle_after: 4,
        throttle_first_submissions: 1,
        throttle_for: reset,
        run_time: Duration::from_millis(1500),
        ..ReplicateStandInOptions::default()
    })
    .await;
    let setup = setup_with_providers(5, vec![limited(&standin)]).await;
    let mut events = setup.engine.events().subscribe();
    queue::run_through_throttling(
        &setup,
        &standin,
        MODEL,
        "a {a|b|c|d|e|f|g|h} bay",
        json!({}),
        8,
    )
    .await;
    queue::assert_quiet_until_reset("Replicate", &standin.requests(), reset);

    // Every process sharing the database learns of it (the row outlives the test's reset only
    // if the reset has not passed yet, so it is read from the event), and so does the person.
    let mut announced = None;
    while let Ok(event) = events.try_recv() {
        if let EventKind::ProviderPaused(pause) = event.kind {
            announced = Some(pause);
        }
    }
    let pause = announced.expect("the pause was announced");
    assert_eq!(pause.provider, "replicate");
    assert_eq!(pause.reason, "Replicate: rate limited");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pause_another_process_recorded_holds_this_one_until_the_reset() {
    let standin = ReplicateStandIn::start(ReplicateStandInOptions::default()).await;
    let setup = setup_with_providers(5, vec![limited(&standin)]).await;
    let started = std::time::Instant::now();
    factory::providers::limits::record_pause(
        &mut *setup.db.conn().await,
        "replicate",
        chrono::Utc::now() + chrono::Duration::seconds(2),
        "Replicate: rate limited",
    )
    .await
    .unwrap();
    let (_, jobs) = queue::run_batch(&setup, "replicate", MODEL, "a bay", json!({}), 2).await;
    assert!(jobs.iter().all(|j| j.state() == JobState::Succeeded));
    let first = standin.requests()[0].0;
    assert!(
        first >= started + Duration::from_millis(1800),
        "the first call waited for the reset: {:?}",
        first - started
    );
}

mod described_models {
    use factory::models::{self, ModelError};
    use factory::providers::Providers;
    use factory::testing::replicate_standin::{NEEDS_MASK, SDXL, SDXL_VERSION};
    use factory::testing::TestDb;

    use super::*;

    async fn setup() -> (TestDb, ReplicateStandIn, Providers) {
        let db = TestDb::new().await;
        let standin = ReplicateStandIn::start(ReplicateStandInOptions::default()).await;
        let providers = Providers::builtin();
        providers.add(Arc::new(provider(&standin, &token())));
        (db, standin, providers)
    }

    #[tokio::test]
    async fn any_model_by_reference_is_read_from_its_schema_pinned_and_kept() {
        let (db, standin, providers) = setup().await;
        let mut conn = db.conn().await;
        let info = models::describe(&mut conn, &providers, "replicate", SDXL)
            .await
            .unwrap();
        assert_eq!(
            info.id,
            format!("{SDXL}:{SDXL_VERSION}"),
            "pinned to the latest version"
        );
        assert!(info.negative_prompt);
        assert_eq!(info.image_input.as_deref(), Some("image"));
        assert!(info.params.iter().any(|p| p.name == "scheduler"));
        // Kept: described again (by reference or by pinned id) without asking Replicate.
        let asked = || {
            standin
                .requests()
                .iter()
                .filter(|(_, r)| r.starts_with("GET /v1/models/"))
                .count()
        };
        assert_eq!(asked(), 1);
        let again = models::describe(&mut conn, &providers, "replicate", SDXL)
            .await
            .unwrap();
        let pinned = models::describe(&mut conn, &providers, "replicate", &info.id)
            .await
            .unwrap();
        assert_eq!(
            (again.id.as_str(), pinned.id.as_str()),
            (info.id.as_str(), info.id.as_str())
        );
        assert_eq!(asked(), 1);
        assert_eq!(models::list(&mut conn, "replicate").await.unwrap().len(), 1);
        assert!(models::find(&mut conn, "replicate", &info.id)
            .await
            .unwrap()
            .is_some());
        // A listed model needs no call at all.
        let listed = models::describe(&mut conn, &providers, "replicate", MODEL)
            .await
            .unwrap();
        assert_eq!(listed.id, MODEL);
        assert_eq!(asked(), 1);
    }

    #[tokio::test]
    async fn a_launch_of_a_described_model_is_checked_against_its_schema_and_runs_pinned() {
        let (db, standin, providers) = setup().await;
        let mut conn = db.conn().await;
        let info = models::describe(&mut conn, &providers, "replicate", SDXL)
            .await
            .unwrap();
        let project = factory::projects::create(
            &mut conn,
            &factory::projects::ProjectName::parse("Described").unwrap(),
            &factory::projects::Description::parse("").unwrap(),
        )
        .await
        .unwrap();
        let mut request = factory::batches::LaunchRequest {
            project_id: project.id,
            provider: "replicate".into(),
            model: info.id.clone(),
            prompt: "a lighthouse".into(),
            negative_prompt: "fog".into(),
            params: json!({"scheduler": "NOPE"}).as_object().unwrap().clone(),
            count: 1,
            mode: factory::prompt::Mode::Combinatorial,
            seed: factory::batches::SeedChoice::Fixed(7),
            confirmed: false,
            networks: Vec::new(),
            input_image: None,
            made_from: None,
        };
        let limits = factory::batches::ItemLimits {
            cap: 100,
            confirm_above: 50,
        };
        let refused = factory::batches::launch(&mut conn, &providers, limits, 3, &request)
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("DDIM"),
            "names the allowed values: {refused}"
        );
        request.params = json!({"scheduler": "DDIM", "width": 768})
            .as_object()
            .unwrap()
            .clone();
        let (_, jobs) = factory::batches::launch(&mut conn, &providers, limits, 3, &request)
            .await
            .unwrap();
        let replicate = provider(&standin, &token());
        let sent = replicate.submit(&jobs[0].request().unwrap()).await.unwrap();
        assert!(matches!(sent, Submitted::Queued { .. }));
        assert!(
            standin
                .requests()
                .iter()
                .any(|(_, r)| r == "POST /v1/predictions 201"),
            "a pinned model goes through /predictions with its version: {:?}",
            standin.requests()
        );
    }

    #[tokio::test]
    async fn a_reference_that_cannot_be_used_says_why_and_keeps_nothing() {
        let (db, _standin, providers) = setup().await;
        let mut conn = db.conn().await;
        for (reference, says) in [
            ("nobody/nothing", "has no model “nobody/nothing”"),
            (&format!("{SDXL}:ffff0000"), "has no version “ffff0000”"),
            ("not a reference", "not a Replicate model reference"),
            ("../etc:passwd", "not a Replicate model reference"),
            (NEEDS_MASK, "required input `mask` is free text"),
        ] {
            let error = models::describe(&mut conn, &providers, "replicate", reference)
                .await
                .unwrap_err();
            assert!(matches!(error, ModelError::Provider(_)), "{error:?}");
            assert!(error.to_string().contains(says), "{reference}: {error}");
        }
        let empty = models::describe(&mut conn, &providers, "replicate", "  ")
            .await
            .unwrap_err();
        assert!(matches!(empty, ModelError::Empty));
        let local = models::describe(&mut conn, &providers, "local", SDXL)
            .await
            .unwrap_err();
        assert!(
            local
                .to_string()
                .contains("offers only the models it lists"),
            "{local}"
        );
        assert!(models::list(&mut conn, "replicate")
            .await
            .unwrap()
            .is_empty());
    }
}
