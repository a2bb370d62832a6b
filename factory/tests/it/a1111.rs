//! The AUTOMATIC1111 adapter against the stand-in server, through the real queue and worker:
//! checkpoints listed with their hashes, txt2img and img2img with the request as the API takes
//! it, progress read while it works, cancel by interrupt, an unreachable server said plainly.

use std::sync::Arc;
use std::time::Duration;

use factory::jobs::JobState;
use factory::providers::a1111::{self, A1111Provider};
use factory::providers::{Provider, Providers};
use factory::testing::a1111_standin::{A1111StandIn, CHECKPOINTS};
use reqwest::Url;

use crate::queue::{request, setup_with_providers, start, wait_until_finished};

async fn connected(standin: &A1111StandIn) -> Arc<A1111Provider> {
    Arc::new(
        A1111Provider::connect(Url::parse(&standin.base_url).unwrap())
            .await
            .unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn checkpoints_become_models_and_their_hashes_model_versions() {
    let standin = A1111StandIn::start(Duration::from_millis(10)).await;
    let provider = connected(&standin).await;
    let models: Vec<&str> = provider
        .info()
        .models
        .iter()
        .map(|m| m.id.as_str())
        .collect();
    assert_eq!(models, [CHECKPOINTS[0].0, CHECKPOINTS[1].0]);
    assert_eq!(
        provider.model_version(CHECKPOINTS[1].0).as_deref(),
        Some(CHECKPOINTS[1].2)
    );
    assert_eq!(provider.model_version("nothing"), None);

    // The app's start-up: installed under its id, or left out with a reason.
    let providers = Providers::builtin();
    let said = a1111::install(&providers, &standin.base_url).await.unwrap();
    assert!(said.contains("2 checkpoints"), "{said}");
    assert!(providers.get(a1111::ID).is_some());
    let (listener, addr) = factory::testing::standin::bind().await;
    drop(listener);
    let err = a1111::install(&providers, &format!("http://{addr}"))
        .await
        .unwrap_err();
    assert!(err.contains("is it running with --api?"), "{err}");
    let err = a1111::install(&providers, "ftp://nowhere")
        .await
        .unwrap_err();
    assert!(err.contains("http://127.0.0.1:7860"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn txt2img_then_img2img_through_the_queue_with_progress() {
    let standin = A1111StandIn::start(Duration::from_millis(300)).await;
    let provider = connected(&standin).await;
    let setup = setup_with_providers(3, vec![provider]).await;
    let worker = start(&setup);
    let mut launch = request(&setup, a1111::ID, CHECKPOINTS[0].0, "a red boat", 1);
    launch.params = serde_json::json!({"width": 256, "height": 256, "steps": 12})
        .as_object()
        .unwrap()
        .clone();
    let (batch, _) = setup.engine.launch(&launch).await.unwrap();
    let jobs = wait_until_finished(&setup, batch.id).await;
    assert_eq!(jobs[0].state(), JobState::Succeeded, "{:?}", jobs[0].error);
    assert_eq!(jobs[0].progress, Some(1.0));
    assert!(
        standin.progress_during_work() > 0,
        "the worker read the server's progress while it generated"
    );
    let made = factory::products::list_for_batch(&mut *setup.db.conn().await, batch.id)
        .await
        .unwrap();
    assert_eq!((made[0].width, made[0].height), (Some(256), Some(256)));

    let (call, body) = standin.calls()[0].clone();
    assert_eq!(call, "txt2img");
    assert_eq!(body["prompt"], "a red boat");
    assert_eq!(body["seed"], jobs[0].seed);
    assert_eq!(body["steps"], 12);
    assert_eq!(
        body["override_settings"]["sd_model_checkpoint"],
        CHECKPOINTS[0].0
    );
    assert!(
        body.get("denoising_strength").is_none(),
        "no strength without an input picture"
    );

    // The picture made, used as the input of an img2img.
    let mut again = request(
        &setup,
        a1111::ID,
        CHECKPOINTS[1].0,
        "the same boat, at night",
        1,
    );
    again.input_image = Some(made[0].id);
    again.params = serde_json::json!({"denoising_strength": 0.4})
        .as_object()
        .unwrap()
        .clone();
    let (batch, _) = setup.engine.launch(&again).await.unwrap();
    let jobs = wait_until_finished(&setup, batch.id).await;
    assert_eq!(jobs[0].state(), JobState::Succeeded, "{:?}", jobs[0].error);
    let (call, body) = standin.calls()[1].clone();
    assert_eq!(call, "img2img");
    assert_eq!(body["denoising_strength"], 0.4);
    assert!(body["init_images"][0].as_str().unwrap().len() > 100);
    let child = factory::products::list_for_batch(&mut *setup.db.conn().await, batch.id)
        .await
        .unwrap();
    assert_eq!(child[0].parent_id, Some(made[0].id));
    worker.shut_down(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_generation_interrupts_the_server() {
    let standin = A1111StandIn::start(Duration::from_secs(20)).await;
    let provider = connected(&standin).await;
    let setup = setup_with_providers(3, vec![provider]).await;
    let worker = start(&setup);
    let launch = request(&setup, a1111::ID, CHECKPOINTS[0].0, "a slow boat", 1);
    let (batch, jobs) = setup.engine.launch(&launch).await.unwrap();
    factory::testing::eventually(Duration::from_secs(10), async || {
        (!standin.calls().is_empty()).then_some(())
    })
    .await;
    setup.engine.cancel_job(jobs[0].id).await.unwrap();
    let jobs = wait_until_finished(&setup, batch.id).await;
    assert_eq!(jobs[0].state(), JobState::Canceled);
    assert_eq!(standin.interrupts(), 1);
    worker.shut_down(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_checkpoint_the_server_does_not_have_fails_with_its_answer() {
    let standin = A1111StandIn::start(Duration::from_millis(10)).await;
    let provider = connected(&standin).await;
    let setup = setup_with_providers(3, vec![provider.clone()]).await;
    let request = factory::providers::GenerationRequest {
        model: "gone.safetensors".into(),
        prompt: "x".into(),
        negative_prompt: String::new(),
        seed: 1,
        params: Default::default(),
        networks: Vec::new(),
        input_image: None,
        scene: None,
        made_from: None,
    };
    let submitted = provider.submit(&request).await.unwrap();
    let factory::providers::Submitted::Queued { request_id } = submitted else {
        panic!("queued")
    };
    let status = factory::testing::eventually(Duration::from_secs(10), async || {
        match provider
            .poll(factory::providers::RequestRef {
                model: "gone.safetensors",
                request_id: &request_id,
            })
            .await
            .unwrap()
        {
            factory::providers::PollStatus::Failed(e) => Some(e),
            _ => None,
        }
    })
    .await;
    assert!(
        status.message.contains("Model gone.safetensors not found"),
        "{status}"
    );
    drop(setup);
}
