//! Declarative providers: an API described only by a TOML manifest, against a stand-in speaking
//! it, through the real queue and worker: the body built from the template with typed values,
//! the status followed to the pictures, base64 answers, refusals and failures in words (never
//! the key), cancel, and every malformed manifest reported with its file and line.

use std::sync::Arc;
use std::time::Duration;

use factory::jobs::JobState;
use factory::providers::declared::{self, manifest, DeclaredProvider};
use factory::providers::Provider;
use factory::testing::declared_standin::{manifest, sync_manifest, DeclaredStandIn, KEY, KEY_ENV};
use serde_json::json;

use crate::queue::{request, setup_with_providers, start, wait_until_finished};

fn env_with_key(var: &str) -> Option<String> {
    (var == KEY_ENV).then(|| KEY.to_string())
}

/// The providers the manifests in a fresh data directory load into.
fn load(manifests: &[(&str, String)], env: &dyn Fn(&str) -> Option<String>) -> declared::Loaded {
    let data = tempfile::tempdir().unwrap();
    let dir = declared::dir(data.path());
    std::fs::create_dir_all(&dir).unwrap();
    for (file, text) in manifests {
        std::fs::write(dir.join(file), text).unwrap();
    }
    declared::load_dir(&dir, env)
}

fn one(loaded: declared::Loaded) -> Arc<DeclaredProvider> {
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    loaded.providers.into_iter().next().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_manifest_provider_runs_through_the_queue_with_typed_values() {
    let standin = DeclaredStandIn::start().await;
    let provider = one(load(
        &[("acme.toml", manifest(&standin.base_url))],
        &env_with_key,
    ));
    let info = provider.info();
    assert_eq!(info.id, "acme");
    assert!(info.remote_queue);
    let model = info.model("acme-2").unwrap();
    assert!(model.negative_prompt);
    assert_eq!(
        model
            .params
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        ["width", "height", "quality"]
    );

    let setup = setup_with_providers(3, vec![provider]).await;
    let worker = start(&setup);
    let mut launch = request(&setup, "acme", "acme-2", "a \"quoted\" harbour \\ 100%", 1);
    launch.negative_prompt = "fog".into();
    launch.params = json!({"width": 192, "height": 128, "quality": "high"})
        .as_object()
        .unwrap()
        .clone();
    let (batch, _) = setup.engine.launch(&launch).await.unwrap();
    let jobs = wait_until_finished(&setup, batch.id).await;
    assert_eq!(jobs[0].state(), JobState::Succeeded, "{:?}", jobs[0].error);
    let body = &standin.bodies()[0];
    assert_eq!(
        body,
        &json!({"model": "acme-2", "size": "192x128", "quality": "high",
                "input": {"prompt": "a \"quoted\" harbour \\ 100%", "avoid": "fog",
                          "seed": jobs[0].seed}}),
        "the prompt is a JSON string as written, the seed a number"
    );
    let made = factory::products::list_for_batch(&mut *setup.db.conn().await, batch.id)
        .await
        .unwrap();
    assert_eq!(made[0].width, Some(192));
    worker.shut_down(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_synchronous_api_answers_base64_pictures_at_once() {
    let standin = DeclaredStandIn::start().await;
    let provider = one(load(
        &[("now.toml", sync_manifest(&standin.base_url))],
        &|_| None,
    ));
    assert!(!provider.info().remote_queue);
    let setup = setup_with_providers(3, vec![provider]).await;
    let worker = start(&setup);
    let launch = request(&setup, "acme-now", "instant", "a kite", 2);
    let (batch, _) = setup.engine.launch(&launch).await.unwrap();
    let jobs = wait_until_finished(&setup, batch.id).await;
    assert!(
        jobs.iter().all(|j| j.state() == JobState::Succeeded),
        "{jobs:?}"
    );
    assert_eq!(standin.bodies().len(), 2);
    assert_eq!(standin.bodies()[0]["response_format"], "b64_json");
    worker.shut_down(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_and_failures_are_said_without_the_key_and_cancel_reaches_the_api() {
    let standin = DeclaredStandIn::start().await;
    let wrong_key = |var: &str| (var == KEY_ENV).then(|| "wrong-key-abcdefgh".to_string());
    let refused = one(load(
        &[("acme.toml", manifest(&standin.base_url))],
        &wrong_key,
    ));
    let setup = setup_with_providers(1, vec![refused]).await;
    let worker = start(&setup);
    let (batch, _) = setup
        .engine
        .launch(&request(&setup, "acme", "acme-2", "a harbour", 1))
        .await
        .unwrap();
    let jobs = wait_until_finished(&setup, batch.id).await;
    assert_eq!(jobs[0].state(), JobState::Failed);
    let said = jobs[0].error.clone().unwrap_or_default();
    assert!(said.contains("Invalid API key"), "{said}");
    assert!(!said.contains("wrong-key-abcdefgh"), "{said}");
    worker.shut_down(Duration::from_secs(1)).await;

    let provider = one(load(
        &[("acme.toml", manifest(&standin.base_url))],
        &env_with_key,
    ));
    let setup = setup_with_providers(1, vec![provider]).await;
    let worker = start(&setup);
    let (batch, _) = setup
        .engine
        .launch(&request(&setup, "acme", "acme-2", "a forbidden harbour", 1))
        .await
        .unwrap();
    let jobs = wait_until_finished(&setup, batch.id).await;
    assert_eq!(jobs[0].state(), JobState::Failed);
    let said = jobs[0].error.clone().unwrap_or_default();
    assert!(
        said.contains("Prompt rejected by the safety system"),
        "{said}"
    );

    let (batch, jobs) = setup
        .engine
        .launch(&request(&setup, "acme", "acme-2", "a slow harbour", 1))
        .await
        .unwrap();
    factory::testing::eventually(Duration::from_secs(10), async || {
        let job = factory::jobs::queue::get(&mut *setup.db.conn().await, jobs[0].id)
            .await
            .unwrap();
        job.provider_request_id.is_some().then_some(())
    })
    .await;
    setup.engine.cancel_job(jobs[0].id).await.unwrap();
    let jobs = wait_until_finished(&setup, batch.id).await;
    assert_eq!(jobs[0].state(), JobState::Canceled);
    assert_eq!(standin.cancels().len(), 1);
    worker.shut_down(Duration::from_secs(1)).await;
}

#[test]
fn a_malformed_manifest_is_reported_with_its_file_and_line() {
    let good = manifest("https://api.acme.example");
    let line_of = |needle: &str| good.lines().position(|l| l.contains(needle)).unwrap() + 1;
    // (what is changed, into what, the line it is on, what the report says)
    let cases: Vec<(&str, &str, usize, &str)> = vec![
        (
            "request_id = \"id\"",
            "request_id = \"id",
            line_of("request_id = \"id\""),
            "string",
        ),
        (
            "request_id = \"id\"",
            "reqest_id = \"id\"",
            line_of("request_id = \"id\""),
            "unknown field `reqest_id`",
        ),
        (
            "quality = \"{{quality}}\"",
            "quality = \"{{colour}}\"",
            line_of("quality = \"{{quality}}\""),
            "{{colour}}",
        ),
        (
            "images = \"output[*].url\"",
            "images = \"output[x].url\"",
            line_of("images = \"output"),
            "“[x]” is neither an index nor [*]",
        ),
        (
            "base_url = \"https://api.acme.example\"",
            "base_url = \"http://api.acme.example\"",
            line_of("base_url"),
            "plain http",
        ),
        (
            "id = \"acme\"",
            "id = \"fal\"",
            line_of("id = \"acme\""),
            "built-in",
        ),
        (
            "default = \"standard\"",
            "default = \"best\"",
            line_of("default = \"standard\""),
            "one of its values",
        ),
        (
            "path = \"/v1/generations/{{request_id}}\"",
            "path = \"/v1/generations/{{prompt}}\"",
            line_of("path = \"/v1/generations/{{request_id}}\""),
            "a path may name only {{request_id}}",
        ),
    ];
    for (from, to, line, says) in cases {
        let text = good.replacen(from, to, 1);
        assert_ne!(text, good, "{from}");
        let err = manifest::check(&text).expect_err(to);
        assert_eq!(err.line, line, "{to}: {err}");
        assert!(err.message.contains(says), "{to}: {err}");
    }
    // Loading names the file, and goes on with the good ones.
    let broken = good.replacen("quality = \"{{quality}}\"", "quality = \"{{colour}}\"", 1);
    let loaded = load(
        &[
            ("a-broken.toml", broken),
            ("b-good.toml", sync_manifest("http://127.0.0.1:9")),
            (
                "c-no-key.toml",
                manifest("https://api.acme.example").replace("\"acme\"", "\"acme-b\""),
            ),
        ],
        &|_| None,
    );
    assert_eq!(loaded.providers.len(), 1);
    assert_eq!(loaded.problems.len(), 2, "{:?}", loaded.problems);
    let line = line_of("quality = \"{{quality}}\"");
    assert!(
        loaded.problems[0].starts_with(&format!("providers/a-broken.toml line {line}:")),
        "{:?}",
        loaded.problems
    );
    assert!(
        loaded.problems[1].contains(&format!(
            "line {}: the key's environment variable {KEY_ENV} is not set",
            line_of("key_env")
        )),
        "{:?}",
        loaded.problems
    );
}
