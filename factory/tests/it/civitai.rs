//! The Civitai adapter and catalog against the stand-in Civitai, over real HTTP on a local port.

use std::sync::Arc;
use std::time::Duration;

use factory::jobs::JobState;
use factory::media::ImageFormat;
use factory::products;
use factory::providers::civitai::catalog::{Catalog, ModelKind, SearchQuery, Sort};
use factory::providers::civitai::{CivitaiConfig, CivitaiProvider};
use factory::providers::limits::{Gate, Limited, RateLimits};
use factory::providers::{
    CancelOutcome, ErrorKind, GenerationRequest, Network, Output, PollStatus, Provider, RequestRef,
    Submitted,
};
use factory::secret::Secret;
use factory::testing::civitai_standin::{CivitaiStandIn, CivitaiStandInOptions};
use factory::testing::eventually;
use factory::testing::standin::StandIn;
use serde_json::json;

use crate::queue::{self, setup_with_providers};

const MODEL: &str = "urn:air:sdxl:checkpoint:civitai:101055@128078";
const LORA: &str = "urn:air:sdxl:lora:civitai:122359@135867";

fn catalog(standin: &CivitaiStandIn) -> Catalog {
    Catalog::new(Some(&standin.catalog_url()), None).unwrap()
}

fn provider(standin: &CivitaiStandIn, token: &str) -> CivitaiProvider {
    CivitaiProvider::new(CivitaiConfig {
        token: Secret::new(token).unwrap(),
        base_url: Some(standin.api_url()),
        catalog: catalog(standin),
        timeout: None,
    })
    .unwrap()
}

fn token() -> String {
    CivitaiStandInOptions::default().token
}

fn request(seed: i64) -> GenerationRequest {
    GenerationRequest {
        model: MODEL.into(),
        prompt: "a lighthouse".into(),
        negative_prompt: "fog".into(),
        seed,
        params: json!({"steps": 20, "width": 1024, "height": 1024})
            .as_object()
            .unwrap()
            .clone(),
        networks: vec![Network {
            id: LORA.into(),
            strength: 0.8,
        }],
        input_image: None,
        scene: None,
        made_from: None,
    }
}

async fn submit(civitai: &CivitaiProvider, seed: i64) -> String {
    match civitai.submit(&request(seed)).await.unwrap() {
        Submitted::Queued { request_id } => request_id,
        Submitted::Finished(_) => panic!("Civitai always queues"),
    }
}

fn at(id: &str) -> RequestRef<'_> {
    RequestRef {
        model: MODEL,
        request_id: id,
    }
}

async fn poll_to_end(civitai: &CivitaiProvider, id: &str) -> (Vec<String>, PollStatus) {
    let mut seen = Vec::new();
    let done = eventually(Duration::from_secs(10), async || {
        match civitai.poll(at(id)).await.unwrap() {
            PollStatus::Queued { .. } => seen.push("queued".to_string()),
            PollStatus::Running { .. } => seen.push("running".to_string()),
            done => return Some(done),
        }
        None
    })
    .await;
    (seen, done)
}

#[tokio::test]
async fn a_job_waits_runs_and_its_blob_is_downloaded_with_its_loras_sent_as_networks() {
    let standin = CivitaiStandIn::start(CivitaiStandInOptions {
        run_time: Duration::from_millis(300),
        ..CivitaiStandInOptions::default()
    })
    .await;
    let civitai = provider(&standin, &token());
    let id = submit(&civitai, 7).await;
    let (seen, done) = poll_to_end(&civitai, &id).await;
    assert_eq!(seen.first().map(String::as_str), Some("queued"));
    assert!(seen.iter().any(|s| s == "running"), "{seen:?}");
    let (PollStatus::Completed(outputs) | PollStatus::CompletedWithCost(outputs, _)) = done else {
        panic!("{done:?}")
    };
    let bytes = civitai.fetch(&outputs[0]).await.unwrap();
    assert_eq!(ImageFormat::sniff(&bytes), Some(ImageFormat::Png));
    let sent = &standin.bodies()[0];
    assert_eq!(sent["model"], MODEL);
    assert_eq!(sent["baseModel"], "SDXL");
    assert_eq!(sent["params"]["negativePrompt"], "fog");
    assert_eq!(sent["additionalNetworks"][LORA]["strength"], 0.8);
    assert!(standin
        .requests()
        .iter()
        .any(|(_, r)| r == "POST /v1/consumer/jobs 200"));
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized_and_never_appears_in_the_error() {
    let standin = CivitaiStandIn::start(CivitaiStandInOptions::default()).await;
    let civitai = provider(&standin, "civitai_wrong_secretvalue");
    let error = civitai.submit(&request(1)).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Unauthorized);
    let text = format!("{error} {error:?}");
    assert!(text.contains("Civitai") && text.contains("401"), "{text}");
    assert!(!text.contains("secretvalue"), "{text}");
    let error = civitai.verify_key().await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Unauthorized);
    provider(&standin, &token()).verify_key().await.unwrap();
}

#[tokio::test]
async fn out_of_buzz_and_validation_errors_are_final_and_name_the_cause() {
    let broke = CivitaiStandIn::start(CivitaiStandInOptions {
        out_of_credit: true,
        ..CivitaiStandInOptions::default()
    })
    .await;
    let error = provider(&broke, &token())
        .submit(&request(1))
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Unauthorized);
    assert!(!error.retryable());
    assert!(error.message.contains("out of Buzz"), "{error}");

    let standin = CivitaiStandIn::start(CivitaiStandInOptions::default()).await;
    let civitai = provider(&standin, &token());
    let mut bad = request(2);
    bad.params.insert("steps".into(), json!(500));
    let error = civitai.submit(&bad).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidInput);
    assert!(!error.retryable() && !error.maybe_accepted);
    assert!(
        error
            .message
            .contains("params.steps: The field steps must be between 1 and 150."),
        "{error}"
    );
    let mut odd = request(3);
    odd.model = "sdxl-base".into();
    let error = civitai.submit(&odd).await.unwrap_err();
    assert!(error.message.contains("is not an AIR"), "{error}");
}

#[tokio::test]
async fn cancel_deletes_a_waiting_job_and_unknown_or_expired_jobs_are_not_found() {
    let slow = CivitaiStandIn::start(CivitaiStandInOptions {
        queue_time: Duration::from_secs(30),
        ..CivitaiStandInOptions::default()
    })
    .await;
    let civitai = provider(&slow, &token());
    let waiting = submit(&civitai, 1).await;
    assert_eq!(
        civitai.cancel(at(&waiting)).await.unwrap(),
        CancelOutcome::Requested
    );
    assert_eq!(slow.canceled(), 1);
    assert!(matches!(
        civitai.poll(at(&waiting)).await.unwrap(),
        PollStatus::Canceled
    ));
    assert_eq!(
        civitai
            .cancel(at("00000000-0000-0000-0000-00000000dead"))
            .await
            .unwrap(),
        CancelOutcome::NotFound
    );
    let expired = submit(&civitai, 2).await;
    slow.expire(&expired);
    assert_eq!(
        civitai.poll(at(&expired)).await.unwrap_err().kind,
        ErrorKind::NotFound
    );
    let error = civitai.poll(at("../../api/v1/models")).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::NotFound);
    let elsewhere = Output::Url {
        url: "https://169.254.169.254/latest/meta-data".into(),
        declared_mime: None,
    };
    assert_eq!(
        civitai.fetch(&elsewhere).await.unwrap_err().kind,
        ErrorKind::BadOutput
    );
}

#[tokio::test]
async fn the_catalog_is_searched_by_kind_and_base_model_page_by_page() {
    let standin = CivitaiStandIn::start(CivitaiStandInOptions::default()).await;
    let catalog = catalog(&standin);
    let query = SearchQuery {
        text: String::new(),
        kind: ModelKind::Checkpoint,
        base_model: None,
        sort: Sort::HighestRated,
        cursor: None,
    };
    let page = catalog.search(&query).await.unwrap();
    assert_eq!(page.models.len(), 3, "{page:?}");
    assert!(page.models.iter().all(|m| m.kind == ModelKind::Checkpoint));
    assert!(page.next_cursor.is_none());
    let version = &page.models[0].versions[0];
    assert!(version
        .air
        .as_deref()
        .is_some_and(|a| a.starts_with("urn:air:")));
    assert!(
        version
            .preview_url
            .as_deref()
            .is_some_and(|u| u.ends_with(".png")),
        "a still image, not the video: {version:?}"
    );
    let loras = catalog
        .search(&SearchQuery {
            text: "detail".into(),
            kind: ModelKind::Lora,
            base_model: Some("SDXL 1.0".into()),
            ..query.clone()
        })
        .await
        .unwrap();
    let names: Vec<&str> = loras.models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["Detail Tweaker XL"]);
    assert_eq!(loras.models[0].versions[0].trained_words, ["detailed"]);
    let found = catalog.version(128713).await.unwrap();
    assert_eq!(found.model_name, "DreamShaper");
    assert_eq!(
        found.air.as_deref(),
        Some("urn:air:sd1:checkpoint:civitai:4384@128713")
    );
    assert_eq!(
        catalog.version(99).await.unwrap_err().kind,
        ErrorKind::NotFound
    );

    // Any checkpoint by AIR becomes a model the form offers.
    let civitai = provider(&standin, &token());
    let described = civitai
        .describe_model("urn:air:sdxl:checkpoint:civitai:133005@357609")
        .await
        .unwrap();
    assert_eq!(described.name, "Juggernaut XL — v9");
    assert!(described.networks && described.negative_prompt);
    let error = civitai.describe_model(LORA).await.unwrap_err();
    assert!(error.message.contains("is a lora"), "{error}");
    let error = civitai
        .describe_model("urn:air:sdxl:checkpoint:civitai:1")
        .await
        .unwrap_err();
    assert!(error.message.contains("names no version"), "{error}");
}

#[tokio::test]
async fn a_launch_with_loras_is_checked_then_runs_once_per_job_and_stores_every_image() {
    let standin = CivitaiStandIn::start(CivitaiStandInOptions {
        throttle_first_submissions: 1,
        ..CivitaiStandInOptions::default()
    })
    .await;
    let civitai: Arc<dyn Provider> = Arc::new(provider(&standin, &token()));
    let setup = setup_with_providers(5, vec![civitai]).await;
    let mut launch = factory::batches::LaunchRequest {
        params: json!({"steps": 20}).as_object().unwrap().clone(),
        networks: vec![Network {
            id: LORA.into(),
            strength: 3.0,
        }],
        ..queue::request(&setup, "civitai", MODEL, "a {harbour|lighthouse}", 1)
    };
    let refused = setup.engine.launch(&launch).await.unwrap_err().to_string();
    assert!(
        refused.contains("strength must be between -1 and 2; got 3"),
        "{refused}"
    );
    launch.networks[0].strength = 0.6;
    let worker = queue::start_with(&setup, queue::fast_worker());
    let (batch, _) = setup.engine.launch(&launch).await.unwrap();
    let jobs = queue::wait_until_finished(&setup, batch.id).await;
    worker.shut_down(Duration::from_secs(1)).await;
    assert!(
        jobs.iter().all(|j| j.state() == JobState::Succeeded),
        "{jobs:#?}"
    );
    let submissions = standin.submissions_per_seed();
    assert!(jobs.iter().all(|j| submissions.get(&j.seed) == Some(&1)));
    let stored = products::list_for_batch(&mut *setup.db.conn().await, batch.id)
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert!(standin
        .bodies()
        .iter()
        .all(|b| b["additionalNetworks"][LORA]["strength"] == 0.6));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_pauses_civitai_until_the_reset_and_nothing_is_sent_before_it() {
    let reset = Duration::from_secs(2);
    let standin = CivitaiStandIn::start(CivitaiStandInOptions {
        throttle_first_submissions: 1,
        throttle_for: reset,
        ..CivitaiStandInOptions::default()
    })
    .await;
    let gate = Gate::new(RateLimits::default(), Duration::from_secs(600));
    let limited: Arc<dyn Provider> = Arc::new(Limited::new(
        Arc::new(provider(&standin, &token())),
        Arc::new(gate),
    ));
    let setup = setup_with_providers(5, vec![limited]).await;
    queue::run_through_throttling(&setup, &standin, MODEL, "a {a|b|c|d} bay", json!({}), 4).await;
    queue::assert_quiet_until_reset("Civitai", &standin.requests(), reset);
}

#[tokio::test]
async fn picks_are_remembered_per_project_newest_first_and_checked() {
    use factory::picks::{self, Pick};
    let setup = setup_with_providers(5, Vec::new()).await;
    let mut conn = setup.db.conn().await;
    let pick = |air: &str, kind: ModelKind| Pick {
        provider: "civitai".into(),
        air: air.into(),
        kind,
        name: "Detail Tweaker XL — v1.0".into(),
        base_model: "SDXL 1.0".into(),
        preview_url: Some("https://image.civitai.com/x/1.jpeg".into()),
        trained_words: vec!["detailed".into()],
    };
    picks::remember(&mut conn, setup.project, &pick(LORA, ModelKind::Lora))
        .await
        .unwrap();
    picks::remember(
        &mut conn,
        setup.project,
        &pick(MODEL, ModelKind::Checkpoint),
    )
    .await
    .unwrap();
    let airs = |list: Vec<Pick>| list.into_iter().map(|p| p.air).collect::<Vec<_>>();
    assert_eq!(
        airs(picks::list(&mut conn, setup.project).await.unwrap()),
        [MODEL, LORA]
    );
    // Picking again moves it up; the list holds each model once.
    picks::remember(&mut conn, setup.project, &pick(LORA, ModelKind::Lora))
        .await
        .unwrap();
    let listed = picks::list(&mut conn, setup.project).await.unwrap();
    assert_eq!(listed[0].trained_words, ["detailed"]);
    assert_eq!(airs(listed), [LORA, MODEL]);
    let wrong = picks::remember(&mut conn, setup.project, &pick(MODEL, ModelKind::Lora))
        .await
        .unwrap_err();
    assert!(
        wrong.to_string().contains("is a checkpoint, not a lora"),
        "{wrong}"
    );
    let broken = picks::remember(&mut conn, setup.project, &pick("sdxl", ModelKind::Lora))
        .await
        .unwrap_err();
    assert!(broken.to_string().contains("is not an AIR"), "{broken}");
    for n in 1..=60 {
        let air = format!("urn:air:sdxl:lora:civitai:{n}@{n}");
        picks::remember(&mut conn, setup.project, &pick(&air, ModelKind::Lora))
            .await
            .unwrap();
    }
    assert_eq!(
        picks::list(&mut conn, setup.project).await.unwrap().len(),
        50
    );
}

#[tokio::test]
async fn a_launch_is_priced_its_reported_cost_kept_and_a_launch_past_the_budget_refused() {
    use factory::costs::{self, Budget};
    let standin = CivitaiStandIn::start(CivitaiStandInOptions::default()).await;
    let civitai: Arc<dyn Provider> = Arc::new(provider(&standin, &token()));
    let setup = setup_with_providers(5, vec![civitai]).await;
    let mut conn = setup.db.conn().await;
    costs::set_budget(
        &mut conn,
        setup.project,
        Budget {
            total_micros: None,
            month_micros: Some(10_000),
        },
    )
    .await
    .unwrap();
    let worker = queue::start_with(&setup, queue::fast_worker());
    let launch = factory::batches::LaunchRequest {
        params: json!({"steps": 20}).as_object().unwrap().clone(),
        ..queue::request(&setup, "civitai", MODEL, "a {harbour|lighthouse}", 1)
    };
    let (batch, _) = setup.engine.launch(&launch).await.unwrap();
    queue::wait_until_finished(&setup, batch.id).await;
    worker.shut_down(Duration::from_secs(1)).await;
    // Civitai reported 1.2 Buzz a job: $0.0012, below the $0.004 estimate.
    let spent = costs::spending(&mut conn, setup.project).await.unwrap();
    assert_eq!(spent.total_micros, 2 * 1200);
    assert_eq!(spent.month_micros, 2 * 1200);
    let bigger = factory::batches::LaunchRequest {
        prompt: "a {a|b|c|d} bay".into(),
        ..launch.clone()
    };
    let refused = setup.engine.launch(&bigger).await.unwrap_err().to_string();
    assert!(
        refused.starts_with("This batch: $0.0160; left this month: $0.0076"),
        "{refused}"
    );
    let counted: i64 = {
        use diesel_async::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query("SELECT count(*) AS n FROM jobs")
            .get_result::<N>(&mut *conn)
            .await
            .unwrap()
            .n
    };
    assert_eq!(counted, 2, "nothing queued");
    // Raising the budget lets it through, and its estimate counts until it is done.
    costs::set_budget(&mut conn, setup.project, Budget::default())
        .await
        .unwrap();
    setup.engine.launch(&bigger).await.unwrap();
    let spent = costs::spending(&mut conn, setup.project).await.unwrap();
    assert_eq!(spent.total_micros, 2 * 1200 + 4 * 4000);
}
