//! Scenes stored in PostgreSQL and rendered through the durable queue: saved and read back
//! whole, refused when they name a model that is not there or were changed elsewhere, exported
//! as one GLB, and rendered by the built-in engine and by a real Blender (progress, cancel, the
//! time limit, and no Blender left behind).

use std::time::Duration;

use factory::assets::gltf::sample::{self, Sample};
use factory::jobs::{queue, JobState};
use factory::render::engines::{blender::BlenderEngine, Engine as RenderEngine, RenderProvider};
use factory::render::jobs::{self, OutputFormat, RenderError, RenderOrder};
use factory::scenes::store::{self, SceneError};
use factory::scenes::SceneDoc;
use factory::testing::{blender_processes, eventually, sample_scene};

use crate::queue::{blocking, request, setup_with_providers, start, Setup};

async fn two_assets(setup: &Setup) -> (i64, i64) {
    let engine = &setup.engine;
    let textured = sample::glb(&Sample {
        texture: Some(sample::checker_png(32)),
        base_color: [1.0; 4],
        ..Sample::default()
    });
    let plain = sample::glb(&Sample {
        rings: 10,
        segments: 16,
        ..Sample::default()
    });
    let a = engine
        .upload_asset(setup.project, vec![("ball.glb".into(), textured)], None)
        .await
        .unwrap();
    let b = engine
        .upload_asset(setup.project, vec![("clay.glb".into(), plain)], None)
        .await
        .unwrap();
    (a.id, b.id)
}

fn doc(json: serde_json::Value) -> SceneDoc {
    serde_json::from_value(json).unwrap()
}

fn order(scene_id: i64, engine: RenderEngine) -> RenderOrder {
    RenderOrder {
        scene_id,
        camera: None,
        engine,
        width: 96,
        height: 64,
        format: OutputFormat::Png,
        samples: None,
    }
}

async fn wait_for_job(
    setup: &Setup,
    id: i64,
    done: impl Fn(&factory::jobs::Job) -> bool,
) -> factory::jobs::Job {
    eventually(Duration::from_secs(120), async || {
        let job = queue::get(&mut *setup.db.conn().await, id).await.unwrap();
        done(&job).then_some(job)
    })
    .await
}

#[tokio::test]
async fn a_scene_is_saved_whole_refuses_missing_models_and_stale_saves_and_exports_as_one_glb() {
    let setup = setup_with_providers(3, Vec::new()).await;
    let (a, b) = two_assets(&setup).await;
    let mut conn = setup.db.conn().await;
    let written = doc(sample_scene("Still life", &[a, b, a]));
    let saved = store::create(&mut conn, setup.project, written.clone())
        .await
        .unwrap();
    assert_eq!(saved.revision, 1);
    assert_eq!(saved.doc, written, "every node reads back as written");
    let listed = store::list(&mut conn, setup.project).await.unwrap();
    assert_eq!((listed[0].id, listed[0].nodes), (saved.id, 8));

    // A model that is not there, named at its pointer; nothing changes.
    let mut missing = written.clone();
    missing
        .nodes
        .push(doc(sample_scene("x", &[987_654])).nodes[1].clone());
    if let factory::scenes::Node::Model(m) = missing.nodes.last_mut().unwrap() {
        m.name = "ghost".into();
    }
    let e = store::update(&mut conn, saved.id, missing.clone(), Some(1))
        .await
        .unwrap_err();
    let SceneError::Invalid(invalid) = &e else {
        panic!("{e}")
    };
    assert_eq!(invalid.0[0].pointer, "/nodes/8/asset_id");
    assert!(invalid.0[0].message.contains("no 3D asset 987654"), "{e}");
    assert!(store::create(&mut conn, setup.project, missing)
        .await
        .is_err());
    assert_eq!(
        store::list(&mut conn, setup.project).await.unwrap().len(),
        1
    );

    // A model of another project is not this scene's to place.
    let other = factory::projects::create(
        &mut conn,
        &factory::projects::ProjectName::parse("Other").unwrap(),
        &Default::default(),
    )
    .await
    .unwrap();
    let e = store::create(&mut conn, other.id, written.clone())
        .await
        .unwrap_err();
    assert!(matches!(e, SceneError::Invalid(_)), "{e}");

    // Saves move the revision on; one based on an old revision is refused.
    let mut moved = written.clone();
    moved.name = "Still life, moved".into();
    let updated = store::update(&mut conn, saved.id, moved.clone(), Some(1))
        .await
        .unwrap();
    assert_eq!(
        (updated.revision, updated.doc.name.as_str()),
        (2, "Still life, moved")
    );
    let e = store::update(&mut conn, saved.id, written.clone(), Some(1))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            SceneError::Conflict {
                current: 2,
                yours: 1
            }
        ),
        "{e}"
    );
    assert_eq!(store::get(&mut conn, saved.id).await.unwrap().doc, moved);
    drop(conn);

    // One GLB: three placements of two models, two lights, two cameras.
    let (name, glb) = setup.engine.export_scene(saved.id).await.unwrap();
    assert_eq!(name, "Still life, moved");
    let accepted = blocking(move || factory::assets::gltf::read(vec![("s.glb".into(), glb)]))
        .await
        .unwrap();
    let scene = accepted.info.scene.unwrap();
    assert_eq!(scene.instances, 3);
    assert_eq!(accepted.info.cameras, 2);
    assert!(accepted
        .info
        .extensions_used
        .contains(&"KHR_lights_punctual".into()));
    let bounds = scene.bounds.unwrap();
    assert!(
        bounds.size()[0] > 5.0,
        "the row spans the models: {bounds:?}"
    );
}

#[tokio::test]
async fn the_built_in_engine_renders_a_scene_into_the_gallery_through_the_queue() {
    let setup = setup_with_providers(3, Vec::new()).await;
    let (a, b) = two_assets(&setup).await;
    let saved = store::create(
        &mut *setup.db.conn().await,
        setup.project,
        doc(sample_scene("Pair", &[a, b])),
    )
    .await
    .unwrap();
    let worker = start(&setup);
    let png = setup
        .engine
        .queue_render(&order(saved.id, RenderEngine::Builtin))
        .await
        .unwrap();
    let jpeg = setup
        .engine
        .queue_render(&RenderOrder {
            camera: Some("top".into()),
            format: OutputFormat::Jpeg,
            samples: Some(1),
            ..order(saved.id, RenderEngine::Builtin)
        })
        .await
        .unwrap();
    for (id, mime) in [(png.id, "image/png"), (jpeg.id, "image/jpeg")] {
        let job = wait_for_job(&setup, id, |j| j.state().is_terminal()).await;
        assert_eq!(job.state(), JobState::Succeeded, "{:?}", job.error);
        let render = jobs::get(&mut *setup.db.conn().await, id).await.unwrap();
        assert_eq!(render.scene_id, saved.id);
        let product = &render.outputs[0];
        assert_eq!(product.mime, mime);
        assert_eq!((product.width, product.height), (Some(96), Some(64)));
        assert_eq!(
            product.params["scene_id"], saved.id,
            "the render names its scene"
        );
        let media = setup.engine.media().clone();
        let key = media
            .original_key(product.project_id, &product.content_hash, product.ext())
            .unwrap();
        let picture = blocking(move || image::load_from_memory(&media.read(&key).unwrap()))
            .await
            .unwrap()
            .to_rgb8();
        // Something was drawn: the models stand out from the environment.
        let distinct: std::collections::BTreeSet<[u8; 3]> = picture.pixels().map(|p| p.0).collect();
        assert!(distinct.len() > 20, "{} colours", distinct.len());
    }
    let mut conn = setup.db.conn().await;
    let listed = jobs::of_scene(&mut conn, saved.id, 10).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(store::renders(&mut conn, saved.id).await.unwrap().len(), 2);

    // A camera the scene lacks, a format the engine does not write: refused at once.
    let e = setup
        .engine
        .queue_render(&RenderOrder {
            camera: Some("side".into()),
            ..order(saved.id, RenderEngine::Builtin)
        })
        .await
        .unwrap_err();
    assert!(e.to_string().contains("“front”, “top”"), "{e}");
    let e = setup
        .engine
        .queue_render(&RenderOrder {
            format: OutputFormat::Exr,
            ..order(saved.id, RenderEngine::Builtin)
        })
        .await
        .unwrap_err();
    assert!(matches!(e, RenderError::Invalid(_)), "{e}");
    // An engine is not a prompt's provider: a launch on it is refused, pointing at scenes.
    let e = setup
        .engine
        .launch(&request(
            &setup,
            "render-builtin",
            "rasteriser",
            "a cube",
            1,
        ))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("draws scenes"), "{e}");
    worker.shut_down(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn without_blender_the_engine_says_how_to_install_it() {
    let missing =
        BlenderEngine::detect(Some("/nonexistent/blender".into()), Duration::from_secs(60)).await;
    assert!(missing.is_err());
    let setup = setup_with_providers(3, Vec::new()).await;
    let statuses = setup.engine.render_engines();
    let blender = statuses
        .iter()
        .find(|s| s.engine == RenderEngine::Blender)
        .unwrap();
    assert!(!blender.available);
    assert!(
        blender.detail.contains("apt install blender"),
        "{}",
        blender.detail
    );
    let (a, _) = two_assets(&setup).await;
    let saved = store::create(
        &mut *setup.db.conn().await,
        setup.project,
        doc(sample_scene("Solo", &[a])),
    )
    .await
    .unwrap();
    let e = setup
        .engine
        .queue_render(&order(saved.id, RenderEngine::Blender))
        .await
        .unwrap_err();
    assert!(matches!(e, RenderError::EngineMissing { .. }), "{e}");
}

async fn blender(limit: Duration) -> BlenderEngine {
    BlenderEngine::detect(None, limit)
        .await
        .unwrap_or_else(|e| {
            panic!("this test renders with a real Blender ({e}); install it with scripts/setup")
        })
}

/// One test for every real Blender render, so that no two run at once and "no Blender left"
/// means this test's.
#[tokio::test]
async fn blender_renders_reports_progress_cancels_and_stops_at_its_time_limit() {
    let engine = std::sync::Arc::new(RenderProvider(blender(Duration::from_secs(600)).await));
    let setup = setup_with_providers(1, vec![engine]).await;
    let (a, b) = two_assets(&setup).await;
    let saved = store::create(
        &mut *setup.db.conn().await,
        setup.project,
        doc(sample_scene("Cycles", &[a, b])),
    )
    .await
    .unwrap();
    let worker = start(&setup);

    // A small render: a PNG in the gallery, with the samples Cycles counted.
    let job = setup
        .engine
        .queue_render(&RenderOrder {
            samples: Some(8),
            ..order(saved.id, RenderEngine::Blender)
        })
        .await
        .unwrap();
    let done = wait_for_job(&setup, job.id, |j| j.state().is_terminal()).await;
    assert_eq!(done.state(), JobState::Succeeded, "{:?}", done.error);
    assert!(
        done.provider_status
            .as_deref()
            .is_some_and(|s| s.starts_with("Cycles: ")),
        "progress came from Cycles: {:?}",
        done.provider_status
    );
    assert_eq!(done.progress, Some(1.0), "sample 8 of 8 was counted");
    let render = jobs::get(&mut *setup.db.conn().await, job.id)
        .await
        .unwrap();
    let product = &render.outputs[0];
    assert_eq!(
        (product.mime.as_str(), product.width, product.height),
        ("image/png", Some(96), Some(64))
    );
    assert!(blender_processes().is_empty());

    // The same render as OpenEXR: linear light in half floats, whose sRGB encoding is the PNG
    // (Cycles is deterministic for one seed and sample count), and thumbnails a browser shows.
    let job = setup
        .engine
        .queue_render(&RenderOrder {
            samples: Some(8),
            format: OutputFormat::Exr,
            ..order(saved.id, RenderEngine::Blender)
        })
        .await
        .unwrap();
    let done = wait_for_job(&setup, job.id, |j| j.state().is_terminal()).await;
    assert_eq!(done.state(), JobState::Succeeded, "{:?}", done.error);
    let exr = jobs::get(&mut *setup.db.conn().await, job.id)
        .await
        .unwrap()
        .outputs
        .remove(0);
    assert_eq!(
        (exr.mime.as_str(), exr.ext(), exr.width, exr.height),
        ("image/x-exr", "exr", Some(96), Some(64))
    );
    let media = setup.engine.media().clone();
    let (png_product, exr_product) = (product.clone(), exr.clone());
    let (png, linear, thumb) = blocking(move || {
        let read = |p: &factory::products::Product| {
            media
                .read(
                    &media
                        .original_key(p.project_id, &p.content_hash, p.ext())
                        .unwrap(),
                )
                .unwrap()
        };
        let thumb = media
            .thumb_key(
                exr_product.project_id,
                &exr_product.content_hash,
                factory::media::ThumbSize::Small,
            )
            .map(|k| media.exists(&k).unwrap());
        (
            image::load_from_memory(&read(&png_product))
                .unwrap()
                .to_rgb8(),
            image::load_from_memory_with_format(&read(&exr_product), image::ImageFormat::OpenExr)
                .unwrap(),
            thumb,
        )
    })
    .await;
    assert_eq!(thumb, Some(true));
    assert!(
        matches!(linear, image::DynamicImage::ImageRgba32F(_)),
        "floats with alpha: {:?}",
        linear.color()
    );
    let shown = factory::media::srgb::display_rgba(linear);
    let differ = png
        .pixels()
        .zip(shown.pixels())
        .filter(|(a, b)| (0..3).any(|c| a[c].abs_diff(b[c]) > 3))
        .count();
    assert!(
        differ * 100 < png.len() / 3,
        "{differ} of {} pixels differ between the PNG and the encoded EXR",
        png.len() / 3
    );

    // Cancelled while Cycles works: the process group is killed.
    let long = setup
        .engine
        .queue_render(&RenderOrder {
            width: 640,
            height: 480,
            samples: Some(4096),
            ..order(saved.id, RenderEngine::Blender)
        })
        .await
        .unwrap();
    wait_for_job(&setup, long.id, |j| {
        j.provider_status
            .as_deref()
            .is_some_and(|s| s.starts_with("Cycles: sample"))
    })
    .await;
    assert!(!blender_processes().is_empty(), "Blender is rendering");
    setup.engine.cancel_job(long.id).await.unwrap();
    let canceled = wait_for_job(&setup, long.id, |j| j.state().is_terminal()).await;
    assert_eq!(canceled.state(), JobState::Canceled);
    eventually(Duration::from_secs(10), async || {
        blender_processes().is_empty().then_some(())
    })
    .await;
    worker.shut_down(Duration::from_secs(5)).await;

    // Past the time limit: stopped, failed with what to change, nothing left running.
    let strict = std::sync::Arc::new(RenderProvider(blender(Duration::from_secs(3)).await));
    setup.engine.providers().add(strict);
    let worker = start(&setup);
    let slow = setup
        .engine
        .queue_render(&RenderOrder {
            width: 640,
            height: 480,
            samples: Some(4096),
            ..order(saved.id, RenderEngine::Blender)
        })
        .await
        .unwrap();
    let failed = wait_for_job(&setup, slow.id, |j| j.state().is_terminal()).await;
    assert_eq!(failed.state(), JobState::Failed);
    let error = failed.error.unwrap_or_default();
    assert!(error.contains("limit of 3 s"), "{error}");
    assert!(blender_processes().is_empty());
    worker.shut_down(Duration::from_secs(5)).await;
}
