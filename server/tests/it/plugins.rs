//! Plugin providers in the real binary: a ComfyUI server given with `--comfyui-url` and a
//! manifest in the data directory are loaded at start and offered with the built-in providers;
//! a workflow imported through the Settings server functions becomes a model and generates
//! through the REST API; a manifest broken while the app runs is reported with its line on
//! reload and taken out; the manifest's key appears in no log line and no answer.

use std::time::Duration;

use factory::testing::comfyui_standin::{default_workflow, ComfyStandIn};
use factory::testing::declared_standin::{manifest, DeclaredStandIn, KEY, KEY_ENV};
use serde_json::{json, Value};

use crate::support::{form_body, ServerProcess};

/// The answer of a server function called with JSON, checked for success and for the key.
async fn answer(server: &ServerProcess, endpoint: &str, body: Value) -> Value {
    let response = server.post_json(endpoint, &body).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(!text.contains(KEY), "the key leaked from {endpoint}");
    assert_eq!(status, 200, "{endpoint}: {text}");
    serde_json::from_str(&text).unwrap()
}

async fn providers(server: &ServerProcess) -> Vec<(String, Vec<String>)> {
    let options: Value = server
        .post("generate/options", String::new())
        .await
        .json()
        .await
        .unwrap();
    options["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let models = p["models"].as_array().unwrap();
            (
                p["id"].as_str().unwrap().to_string(),
                models
                    .iter()
                    .map(|m| m["id"].as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn plugins_load_at_start_import_workflows_and_reload_manifests_with_their_lines() {
    let comfy = ComfyStandIn::start(Duration::from_millis(5)).await;
    let acme = DeclaredStandIn::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    let manifests = data_dir.path().join("providers");
    std::fs::create_dir_all(&manifests).unwrap();
    std::fs::write(manifests.join("acme.toml"), manifest(&acme.base_url)).unwrap();
    let server = ServerProcess::start_logging(
        data_dir.path(),
        &["--comfyui-url", &comfy.base_url],
        &[(KEY_ENV, KEY)],
    );
    let listed = providers(&server).await;
    assert!(
        listed.contains(&("acme".into(), vec!["acme-2".into()])),
        "{listed:?}"
    );
    assert!(listed.contains(&("comfyui".into(), vec![])), "{listed:?}");

    // A workflow imported as the Settings page does: its inputs read, the suggestions kept.
    let workflow = default_workflow().to_string();
    let inputs = answer(
        &server,
        "plugins/workflow-inputs",
        json!({"workflow": workflow}),
    )
    .await;
    let prompt_input = inputs
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["node"] == "6" && i["input"] == "text")
        .unwrap();
    assert_eq!(prompt_input["role"], "prompt");
    let report = answer(
        &server,
        "plugins/import-workflow",
        json!({"name": "Basic", "workflow": workflow, "inputs": inputs}),
    )
    .await;
    assert!(
        report["enabled"].as_array().unwrap().iter().any(|e| e
            .as_str()
            .unwrap()
            .contains("ComfyUI at")
            && e.as_str().unwrap().contains("1 workflow")),
        "{report}"
    );
    assert!(providers(&server)
        .await
        .contains(&("comfyui".into(), vec!["Basic".into()])));

    // It generates like any model, through the REST API.
    let project: Value = server
        .post("projects/create", "name=Plugins&description=".into())
        .await
        .json()
        .await
        .unwrap();
    let launched: Value = reqwest::Client::new()
        .post(server.url("/api/v1/launches"))
        .json(&json!({"project_id": project["id"], "provider": "comfyui", "model": "Basic",
                      "prompt": "a lighthouse", "params": {"steps": 4, "width": 128, "height": 128}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let batch = launched["batch_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{launched}"));
    factory::testing::eventually(Duration::from_secs(30), async || {
        let (jobs, products): (Value, Value) = server
            .post("generate/batch", format!("batch_id={batch}"))
            .await
            .json()
            .await
            .unwrap();
        let done = jobs[0]["state"] == "succeeded" && products.as_array().unwrap().len() == 1;
        done.then_some(())
    })
    .await;
    assert_eq!(comfy.queued()[0]["6"]["inputs"]["text"], "a lighthouse");

    // A manifest broken while the app runs: reported with its line, its provider taken out.
    let broken = manifest(&acme.base_url).replacen("\"{{quality}}\"", "\"{{colour}}\"", 1);
    let line = broken
        .lines()
        .position(|l| l.contains("{{colour}}"))
        .unwrap()
        + 1;
    std::fs::write(manifests.join("acme.toml"), broken).unwrap();
    let report: Value = server
        .post("plugins/reload", String::new())
        .await
        .json()
        .await
        .unwrap();
    let problems = report["problems"].to_string();
    assert!(
        problems.contains(&format!("providers/acme.toml line {line}:")),
        "{problems}"
    );
    assert!(!providers(&server).await.iter().any(|(id, _)| id == "acme"));
    let settings: Value = server
        .post("plugins", String::new())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(settings["comfyui_url"], comfy.base_url.as_str());
    assert_eq!(settings["workflows"][0]["name"], "Basic");

    // Mended: back on the next reload.
    std::fs::write(manifests.join("acme.toml"), manifest(&acme.base_url)).unwrap();
    let report: Value = server
        .post("plugins/reload", String::new())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["problems"], json!([]));
    assert!(providers(&server).await.iter().any(|(id, _)| id == "acme"));
    let removed: Value = server
        .post("plugins/remove-workflow", form_body(&[("name", "Basic")]))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        removed["enabled"].to_string().contains("0 workflows"),
        "{removed}"
    );
    assert!(!server.log().contains(KEY), "the key is in the log");
}
