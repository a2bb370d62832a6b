//! Image-to-image: uploads, inputs sent inline or through the provider's upload API, and the
//! lineage that links every product to the picture it was made from, across providers.

use std::sync::Arc;
use std::time::Duration;

use factory::batches::{LaunchError, LaunchRequest};
use factory::jobs::JobState;
use factory::products::{self, Product};
use factory::providers::fal::{FalConfig, FalProvider};
use factory::providers::replicate::{ReplicateConfig, ReplicateProvider};
use factory::providers::Provider;
use factory::secret::Secret;
use factory::testing::fal_standin::{FalStandIn, StandInOptions};
use factory::testing::replicate_standin::{ReplicateStandIn, ReplicateStandInOptions};
use factory::testing::standin::result_png;
use factory::uploads::{self, UploadError};
use serde_json::json;

use crate::queue::{self, setup_with_providers, Setup};

const FAL_IMG2IMG: &str = "fal-ai/flux/dev/image-to-image";
const REPLICATE_DEV: &str = "black-forest-labs/flux-dev";

struct Chain {
    setup: Setup,
    fal: FalStandIn,
    replicate: ReplicateStandIn,
}

async fn chain() -> Chain {
    let fal = FalStandIn::start(StandInOptions::default()).await;
    let replicate = ReplicateStandIn::start(ReplicateStandInOptions::default()).await;
    let providers: Vec<Arc<dyn Provider>> = vec![
        Arc::new(
            FalProvider::new(FalConfig {
                key: Secret::new(StandInOptions::default().key).unwrap(),
                base_url: Some(fal.base_url()),
                timeout: None,
            })
            .unwrap(),
        ),
        Arc::new(
            ReplicateProvider::new(ReplicateConfig {
                token: Secret::new(ReplicateStandInOptions::default().token).unwrap(),
                base_url: Some(replicate.api_url()),
                timeout: None,
            })
            .unwrap(),
        ),
    ];
    Chain {
        setup: setup_with_providers(5, providers).await,
        fal,
        replicate,
    }
}

/// A noisy PNG, larger than what is sent inline.
fn large_png() -> Vec<u8> {
    let side = 600;
    let pixels: Vec<u8> = (0..side * side * 3).map(|_| rand::random::<u8>()).collect();
    factory::media::png::encode_rgb(side, side, &pixels).unwrap()
}

/// Runs one image-to-image generation from `input` and returns its product.
async fn from(
    setup: &Setup,
    provider: &str,
    model: &str,
    input: i64,
    params: serde_json::Value,
) -> Product {
    made(setup, provider, model, Some(input), params).await
}

/// Runs one generation (from `input`, when given) and returns its product.
async fn made(
    setup: &Setup,
    provider: &str,
    model: &str,
    input: Option<i64>,
    params: serde_json::Value,
) -> Product {
    let worker = queue::start_with(setup, queue::fast_worker());
    let launch = LaunchRequest {
        params: params.as_object().unwrap().clone(),
        input_image: input,
        ..queue::request(setup, provider, model, "the same, at night", 1)
    };
    let (batch, _) = setup.engine.launch(&launch).await.unwrap();
    let jobs = queue::wait_until_finished(setup, batch.id).await;
    worker.shut_down(Duration::from_secs(1)).await;
    assert!(
        jobs.iter().all(|j| j.state() == JobState::Succeeded),
        "{jobs:#?}"
    );
    let made = products::list_for_batch(&mut *setup.db.conn().await, batch.id)
        .await
        .unwrap();
    assert_eq!(made.len(), 1);
    made.into_iter().next().unwrap()
}

#[tokio::test]
async fn an_upload_is_checked_stored_once_and_kept_as_an_upload_product() {
    let c = chain().await;
    let mut conn = c.setup.db.conn().await;
    let media = c.setup.engine.media();
    let png = result_png("a pier", 3, 64);
    let first = uploads::store(&mut conn, media, c.setup.project, png.clone())
        .await
        .unwrap();
    assert_eq!(first.kind, "upload");
    assert_eq!((first.width, first.height), (Some(64), Some(64)));
    let again = uploads::store(&mut conn, media, c.setup.project, png)
        .await
        .unwrap();
    assert_eq!(again.id, first.id, "the same picture is the same product");

    let text = uploads::store(&mut conn, media, c.setup.project, b"hello, world".to_vec()).await;
    assert!(matches!(text, Err(UploadError::NotAnImage(_))), "{text:?}");
    let mut broken = result_png("a pier", 4, 64);
    broken.truncate(100);
    let error = uploads::store(&mut conn, media, c.setup.project, broken)
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("not an image this app can use"),
        "{error}"
    );
    let huge = vec![0u8; uploads::MAX_UPLOAD_BYTES + 1];
    let error = uploads::store(&mut conn, media, c.setup.project, huge)
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("uploads are at most 20 MB"),
        "{error}"
    );
    assert!(matches!(
        uploads::store(&mut conn, media, c.setup.project, Vec::new()).await,
        Err(UploadError::Empty)
    ));
    let stored = products::count_for_project(&mut conn, c.setup.project)
        .await
        .unwrap();
    assert_eq!(stored, 1, "nothing stored for bad input");
}

#[tokio::test]
async fn a_chain_of_three_generations_across_two_providers_links_each_to_its_input() {
    let c = chain().await;
    let upload = {
        let mut conn = c.setup.db.conn().await;
        let png = result_png("a pier", 3, 64);
        uploads::store(&mut conn, c.setup.engine.media(), c.setup.project, png)
            .await
            .unwrap()
    };
    let first = from(
        &c.setup,
        "fal",
        FAL_IMG2IMG,
        upload.id,
        json!({"strength": 0.6}),
    )
    .await;
    let second = from(
        &c.setup,
        "replicate",
        REPLICATE_DEV,
        first.id,
        json!({"prompt_strength": 0.5}),
    )
    .await;
    let third = from(&c.setup, "fal", FAL_IMG2IMG, second.id, json!({})).await;
    assert_eq!(first.parent_id, Some(upload.id));
    assert_eq!(second.parent_id, Some(first.id));
    assert_eq!(third.parent_id, Some(second.id));
    let mut conn = c.setup.db.conn().await;
    let (parent, children) = products::lineage(&mut conn, &second).await.unwrap();
    assert_eq!(parent.map(|p| p.id), Some(first.id), "made from");
    assert_eq!(
        children.iter().map(|p| p.id).collect::<Vec<_>>(),
        [third.id],
        "used for"
    );
    assert_eq!(first.params["strength"], 0.6);
    assert_eq!(
        c.fal.inputs(),
        [
            ("inline", upload.bytes as usize),
            ("inline", second.bytes as usize)
        ]
    );
    assert_eq!(c.replicate.inputs(), [("inline", first.bytes as usize)]);
}

#[tokio::test]
async fn a_large_input_goes_through_each_providers_upload_api() {
    let c = chain().await;
    let upload = {
        let mut conn = c.setup.db.conn().await;
        uploads::store(
            &mut conn,
            c.setup.engine.media(),
            c.setup.project,
            large_png(),
        )
        .await
        .unwrap()
    };
    assert!(upload.bytes as usize > factory::providers::http::INLINE_IMAGE_MAX);
    from(&c.setup, "fal", FAL_IMG2IMG, upload.id, json!({})).await;
    from(&c.setup, "replicate", REPLICATE_DEV, upload.id, json!({})).await;
    assert_eq!(c.fal.inputs(), [("uploaded", upload.bytes as usize)]);
    assert_eq!(c.replicate.inputs(), [("uploaded", upload.bytes as usize)]);
    assert!(c
        .replicate
        .requests()
        .iter()
        .any(|(_, r)| r == "POST /v1/files 201"));
}

#[tokio::test]
async fn an_input_image_is_refused_where_it_cannot_be_used_and_required_where_it_must() {
    let c = chain().await;
    let upload = {
        let mut conn = c.setup.db.conn().await;
        let png = result_png("a pier", 3, 64);
        uploads::store(&mut conn, c.setup.engine.media(), c.setup.project, png)
            .await
            .unwrap()
    };
    let field_error = |e: LaunchError| match e {
        LaunchError::Invalid(fields) => fields
            .into_iter()
            .find(|f| f.field == "input_image")
            .map(|f| f.message)
            .unwrap_or_default(),
        other => panic!("{other:?}"),
    };
    let text_only = LaunchRequest {
        input_image: Some(upload.id),
        ..queue::request(&c.setup, "fal", "fal-ai/flux/schnell", "a pier", 1)
    };
    let message = field_error(c.setup.engine.launch(&text_only).await.unwrap_err());
    assert!(
        message.contains("does not start from an image"),
        "{message}"
    );
    let missing = queue::request(&c.setup, "fal", FAL_IMG2IMG, "a pier", 1);
    let message = field_error(c.setup.engine.launch(&missing).await.unwrap_err());
    assert!(message.contains("starts from an image"), "{message}");
    let gone = LaunchRequest {
        input_image: Some(999_999),
        ..missing.clone()
    };
    let message = field_error(c.setup.engine.launch(&gone).await.unwrap_err());
    assert!(message.contains("There is no picture #999999"), "{message}");
    // Without an input, the strength is not sent at all.
    let worker = queue::start_with(&c.setup, queue::fast_worker());
    let plain = LaunchRequest {
        params: json!({"prompt_strength": 0.3}).as_object().unwrap().clone(),
        ..queue::request(&c.setup, "replicate", REPLICATE_DEV, "a pier", 1)
    };
    let (batch, jobs) = c.setup.engine.launch(&plain).await.unwrap();
    assert!(jobs[0]
        .request()
        .unwrap()
        .params
        .get("prompt_strength")
        .is_none());
    queue::wait_until_finished(&c.setup, batch.id).await;
    worker.shut_down(Duration::from_secs(1)).await;
    assert!(c.replicate.inputs().is_empty());
}

/// "Animate": a picture becomes a video at fal, at Replicate and offline, each a video product
/// whose parent is the picture; the sound and speech models make audio products. The files are
/// real (the stand-ins' and the offline generator's, encoded by ffmpeg) and probed on arrival.
#[tokio::test]
async fn a_picture_is_animated_and_scored_at_every_provider_and_each_clip_is_probed() {
    let c = chain().await;
    let mut conn = c.setup.db.conn().await;
    let media = c.setup.engine.media();
    let picture = uploads::store(
        &mut conn,
        media,
        c.setup.project,
        result_png("a pier", 5, 320),
    )
    .await
    .unwrap();
    let offline = json!({"duration": 2, "fps": 8, "resolution": "360p", "camera": "pan_left"});
    for (provider, model, params) in [
        (
            "fal",
            "fal-ai/kling-video/v1/standard/image-to-video",
            json!({"duration": "5"}),
        ),
        ("fal", "fal-ai/ltx-video/image-to-video", json!({})),
        ("replicate", "kwaivgi/kling-v2.1", json!({})),
        ("replicate", "minimax/video-01", json!({})),
        ("local", "animate", offline.clone()),
    ] {
        let video = from(&c.setup, provider, model, picture.id, params).await;
        assert_eq!(
            (video.kind.as_str(), video.mime.as_str()),
            ("video", "video/mp4"),
            "{provider} {model}"
        );
        assert_eq!(video.parent_id, Some(picture.id), "{model}");
        let info = video.av_info.clone().unwrap();
        assert_eq!(info["video"]["codec"], "h264", "{model}");
        assert!(video.duration_ms.unwrap() >= 1000, "{model}");
        if provider == "local" {
            // The picture's shape at 360p, two seconds of it.
            assert_eq!((video.width, video.height), (Some(360), Some(360)));
            assert_eq!(video.duration_ms, Some(2000));
            assert_eq!(info["video"]["frames_per_second"], 8.0);
        }
    }
    for (provider, model, params) in [
        ("fal", "fal-ai/stable-audio", json!({"seconds_total": 5})),
        ("fal", "fal-ai/kokoro/american-english", json!({})),
        ("replicate", "google/lyria-2", json!({})),
        ("replicate", "minimax/speech-02-turbo", json!({})),
        ("local", "tones", json!({"duration": 3})),
    ] {
        let sound = made(&c.setup, provider, model, None, params).await;
        assert_eq!(
            (sound.kind.as_str(), sound.mime.as_str()),
            ("audio", "audio/wav"),
            "{provider} {model}"
        );
        assert_eq!(sound.parent_id, None);
        let expected = if provider == "local" { 3000 } else { 2000 };
        assert_eq!(sound.duration_ms, Some(expected), "{model}");
        assert!(sound.thumbhash.is_some(), "a waveform was drawn");
    }
    // A text-to-video model, and one that must start from a picture refused without it.
    let clip = made(&c.setup, "local", "motion", None, offline).await;
    assert_eq!((clip.width, clip.height), (Some(640), Some(360)));
    let refused = c
        .setup
        .engine
        .launch(&queue::request(
            &c.setup,
            "fal",
            "fal-ai/ltx-video/image-to-video",
            "waves",
            1,
        ))
        .await;
    match refused {
        Err(LaunchError::Invalid(fields)) => {
            assert!(
                fields.iter().any(|f| f.field == "input_image"),
                "{fields:?}"
            )
        }
        other => panic!("{other:?}"),
    }
}
