//! Imports on PostgreSQL: every tool's file read into its product, damaged files reported
//! while the rest goes on, a second run skipping everything (resume), cancellation, and our
//! own files round-tripping exactly.

use std::sync::atomic::AtomicBool;

use factory::import::{self, run::collect, Outcome};
use factory::media::png::{embed_metadata, encode_rgb, ImageMetadata};
use factory::media::MediaStore;
use factory::metadata::Tool;
use factory::products;
use factory::projects::{self, Description, ProjectName};
use factory::testing::fixtures::{self, write_sample_files};
use factory::testing::TestDb;
use serde_json::json;

struct Setup {
    db: TestDb,
    media: MediaStore,
    project: i64,
    files: tempfile::TempDir,
    data: tempfile::TempDir,
}

async fn setup() -> Setup {
    let db = TestDb::new().await;
    let data = tempfile::tempdir().unwrap();
    let project = projects::create(
        &mut *db.conn().await,
        &ProjectName::parse("Imports").unwrap(),
        &Description::default(),
    )
    .await
    .unwrap()
    .id;
    Setup {
        media: MediaStore::new(data.path()),
        db,
        project,
        files: tempfile::tempdir().unwrap(),
        data,
    }
}

async fn import_dir(s: &Setup, cancel: bool) -> import::Report {
    let sources = collect(&[s.files.path().to_path_buf()]).unwrap();
    let mut seen = Vec::new();
    let report = import::run(
        &s.db.pool(),
        &s.media,
        s.project,
        sources,
        2,
        &AtomicBool::new(cancel),
        |p| seen.push(p.clone()),
    )
    .await;
    if !cancel {
        let last = seen.last().unwrap();
        assert_eq!(last.added, last.total, "progress reaches the end");
        assert_eq!(last.finished, last.to_finish);
    }
    report
}

fn outcome<'a>(report: &'a import::Report, name: &str) -> &'a Outcome {
    &report
        .files
        .iter()
        .find(|(n, _)| n.ends_with(name))
        .unwrap_or_else(|| panic!("{name} in {report:#?}"))
        .1
}

#[tokio::test(flavor = "multi_thread")]
async fn every_tools_file_is_read_damaged_ones_are_reported_and_a_second_run_skips_all() {
    let s = setup().await;
    write_sample_files(s.files.path()).unwrap();
    let report = import_dir(&s, false).await;
    assert!(!report.cancelled);
    let mut conn = s.db.conn().await;

    let expect = [
        (
            "a1111.png",
            Tool::Automatic1111,
            "a red fox in the snow, BREAK soft light",
            3141592653,
            "sd_xl_base_1.0",
        ),
        (
            "comfyui.png",
            Tool::ComfyUi,
            "a lighthouse at dusk",
            424242,
            "juggernautXL_v9.safetensors",
        ),
        (
            "invokeai.png",
            Tool::InvokeAi,
            "a castle in the fog",
            77,
            "juggernautXL",
        ),
        (
            "forge.jpg",
            Tool::Automatic1111,
            "a jpeg owl at night",
            5150,
            "sd_xl_base_1.0",
        ),
        (
            "stealth.png",
            Tool::Automatic1111,
            "a hidden cat",
            99,
            "sd_xl_base_1.0",
        ),
    ];
    for (name, tool, prompt, seed, model) in expect {
        let Outcome::Imported {
            product_id,
            tool: found,
        } = outcome(&report, name)
        else {
            panic!("{name}: {:?}", outcome(&report, name));
        };
        // The stealth text is only found in the pixels, after the first pass.
        if name != "stealth.png" {
            assert_eq!(*found, Some(tool), "{name}");
        }
        let p = products::get(&mut conn, *product_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(p.prompt, prompt, "{name}");
        assert_eq!(p.seed, Some(seed), "{name}");
        assert_eq!(p.model.as_deref(), Some(model), "{name}");
        assert_eq!(
            p.provider.as_deref(),
            Some(format!("imported: {}", tool.name()).as_str())
        );
        assert_eq!((p.width, p.height), (Some(64), Some(48)));
        assert!(p.thumbhash.is_some(), "{name}: thumbnails made");
        assert_eq!(
            p.params["imported"]["file"],
            json!(format!("{}", s.files.path().join(name).display()))
        );
        for key in s.media.keys_of(p.project_id, &p.content_hash, p.ext()) {
            assert!(s.media.exists(&key).unwrap(), "{key}");
        }
    }
    let Outcome::Imported { product_id, tool } = outcome(&report, "plain.png") else {
        panic!("a picture without metadata is imported");
    };
    assert_eq!(*tool, None);
    let plain = products::get(&mut conn, *product_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (plain.prompt.as_str(), plain.provider.as_deref()),
        ("", Some("imported"))
    );

    for (name, words) in [
        ("damaged.png", "damaged"),
        ("empty.png", "empty"),
        ("notes.txt", "not a PNG, JPEG, WebP or OpenEXR"),
    ] {
        let Outcome::Failed { reason } = outcome(&report, name) else {
            panic!("{name} must fail: {:?}", outcome(&report, name));
        };
        assert!(reason.contains(words), "{name}: {reason}");
    }
    assert_eq!(report.count(|o| matches!(o, Outcome::Imported { .. })), 6);
    // The damaged file left nothing behind.
    assert_eq!(
        products::count_for_project(&mut conn, s.project)
            .await
            .unwrap(),
        6
    );

    // Again: everything is already in; nothing is added twice.
    let again = import_dir(&s, false).await;
    assert_eq!(again.count(|o| matches!(o, Outcome::AlreadyIn { .. })), 6);
    assert_eq!(again.count(|o| matches!(o, Outcome::Failed { .. })), 3);
    assert_eq!(
        products::count_for_project(&mut conn, s.project)
            .await
            .unwrap(),
        6
    );

    // Cancelled before it starts: nothing is read.
    let cancelled = import_dir(&s, true).await;
    assert!(cancelled.cancelled);
    assert!(cancelled.files.is_empty());
    drop(s.data);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_art_factory_file_round_trips_exactly_and_oversized_text_is_refused() {
    let s = setup().await;
    let meta = ImageMetadata {
        prompt: "a {red|blue} fox, «quoted», 狐".into(),
        negative_prompt: "blurry".into(),
        provider: "fal".into(),
        model: "fal-ai/flux/schnell".into(),
        seed: 1234567890123,
        width: 32,
        height: 16,
        params: json!({"num_inference_steps": 4, "guidance_scale": 3.5, "nested": {"a": [1, 2]}})
            .as_object()
            .unwrap()
            .clone(),
        bindings: json!({"colour": "red"}).as_object().unwrap().clone(),
    };
    let png = embed_metadata(
        &encode_rgb(32, 16, &fixtures::pixels(32, 16, 3)).unwrap(),
        &meta,
    )
    .unwrap();
    let mut conn = s.db.conn().await;
    let Outcome::Imported { product_id, tool } =
        import::import_one(&mut conn, &s.media, s.project, "ours.png", png, None).await
    else {
        panic!("imported");
    };
    assert_eq!(tool, Some(Tool::ArtFactory));
    let p = products::get(&mut conn, product_id).await.unwrap().unwrap();
    assert_eq!(p.prompt, meta.prompt);
    assert_eq!(p.negative_prompt, meta.negative_prompt);
    assert_eq!(p.provider.as_deref(), Some("fal"));
    assert_eq!(p.model.as_deref(), Some("fal-ai/flux/schnell"));
    assert_eq!(p.seed, Some(meta.seed));
    assert_eq!(p.bindings, json!({"colour": "red"}));
    let mut params = p.params.as_object().unwrap().clone();
    params.remove("imported");
    assert_eq!(params, meta.params);

    let huge = "x".repeat(9 * 1024 * 1024);
    let png = fixtures::png_with_texts(8, 8, 1, &[("parameters", &huge)]);
    let outcome = import::import_one(&mut conn, &s.media, s.project, "huge.png", png, None).await;
    let Outcome::Failed { reason } = outcome else {
        panic!("{outcome:?}");
    };
    assert!(reason.contains("over the 8 MB"), "{reason}");
}

/// `scripts/check-readers` recorded how `sd-parsers` (an independent reader on PyPI) reads an
/// image of each provider: what the app writes today is still exactly what it read, and it read
/// every field back.
#[test]
fn an_independent_reader_reads_back_an_image_of_each_provider() {
    let recorded: serde_json::Value =
        serde_json::from_str(include_str!("../data/sd-parsers.json")).unwrap();
    for (provider, meta) in fixtures::ours_per_provider() {
        let reading = &recorded[provider];
        let written = meta.a1111_parameters();
        assert_eq!(
            reading["parameters"],
            json!(written),
            "{provider}: rerun scripts/check-readers --record"
        );
        assert_eq!(reading["prompt"], json!(meta.prompt), "{provider}");
        assert_eq!(
            reading["negative_prompt"],
            json!(meta.negative_prompt),
            "{provider}"
        );
        assert_eq!(reading["seed"], json!(meta.seed.to_string()), "{provider}");
        assert_eq!(
            reading["size"],
            json!(format!("{}x{}", meta.width, meta.height)),
            "{provider}"
        );
        let ours = factory::metadata::a1111::parse(&written).unwrap();
        assert_eq!(reading["model"], json!(ours.model.unwrap()), "{provider}");
    }
}
