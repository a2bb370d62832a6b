//! A pipeline run while the real server is killed with SIGKILL: after each restart the run
//! carries on from its rows, and it ends with every step made exactly once (a step finished
//! before a kill is not run again, a provider step is never queued twice).

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{form_body, ServerProcess};

async fn run_view(server: &ServerProcess, run_id: i64) -> Value {
    server
        .post("pipelines/run_view", format!("run_id={run_id}"))
        .await
        .json()
        .await
        .unwrap()
}

/// Steps that have ended (cached, done, failed ...) in the run as the server answers it.
fn ended(run: &Value) -> usize {
    run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !matches!(s["state"].as_str(), Some("waiting" | "queued" | "running")))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pipeline_run_killed_mid_way_resumes_without_running_finished_steps_again() {
    let data_dir = tempfile::tempdir().unwrap();
    let args = ["--workers", "2", "--provider-concurrency", "local=1"];
    let mut server = ServerProcess::start(data_dir.path(), &args);
    let project: Value = server
        .post("projects/create", "name=Crash&description=".into())
        .await
        .json()
        .await
        .unwrap();
    let project_id = project["id"].as_i64().unwrap();
    let made: Value = server
        .post(
            "pipelines/create",
            form_body(&[("project_id", &project_id.to_string()), ("name", "Chain")]),
        )
        .await
        .json()
        .await
        .unwrap();
    let pipeline_id = made["id"].as_i64().unwrap();
    let step = |name: &str, kind: &str, inputs: &[&str]| {
        json!({"name": name, "kind": kind, "provider": "local", "model": "aurora",
               "prompt": "a harbour at night", "negative_prompt": "",
               "params": r#"{"width": 384, "height": 384, "detail": 8}"#, "count": 6,
               "on_provider": false, "factor": 2.0, "width": 96, "height": 96,
               "fit": "cover", "columns": 3, "title": "Harbour", "labels": true,
               "seed": null, "always_run": false, "inputs": inputs})
    };
    let mut variations = step("more", "variations", &["hero"]);
    variations["model"] = json!("remix");
    variations["params"] = json!("{}");
    let steps = json!([
        step("hero", "generate", &[]),
        variations,
        step("sheet", "contact_sheet", &["more"]),
        step("bigger", "upscale", &["hero"]),
        step("square", "crop_resize", &["bigger"]),
    ]);
    let saved = server
        .post_json(
            "pipelines/save",
            &json!({"id": pipeline_id, "steps": steps}),
        )
        .await;
    assert_eq!(saved.status(), 200, "{}", saved.text().await.unwrap());

    let started: Value = server
        .post("pipelines/run", format!("id={pipeline_id}&run_seed=5"))
        .await
        .json()
        .await
        .unwrap();
    let run_id = started["summary"]["id"].as_i64().unwrap();

    // Killed as soon as one step has ended, and again after three.
    let mut kills = 0;
    for threshold in [1, 3] {
        factory::testing::eventually(Duration::from_secs(120), async || {
            (ended(&run_view(&server, run_id).await) >= threshold).then_some(())
        })
        .await;
        server.signal(nix::sys::signal::Signal::SIGKILL);
        server.wait();
        kills += 1;
        server = ServerProcess::start(data_dir.path(), &args);
    }
    let run = factory::testing::eventually(Duration::from_secs(180), async || {
        let run = run_view(&server, run_id).await;
        (run["summary"]["state"] != "running").then_some(run)
    })
    .await;
    assert_eq!(run["summary"]["state"], "succeeded", "{run:#}");
    let made: Vec<(String, usize)> = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s["state"], "succeeded", "{s:#}");
            (
                s["name"].as_str().unwrap().to_string(),
                s["products"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        made,
        [
            ("hero".to_string(), 1),
            ("more".to_string(), 6),
            ("sheet".to_string(), 1),
            ("bigger".to_string(), 1),
            ("square".to_string(), 1)
        ]
    );
    // Nothing made twice: the project holds exactly the run's pictures.
    let gallery: Value = server
        .post("gallery/overview", format!("query=project%3D{project_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(gallery["total"], 10, "{kills} kills; {gallery:#}");
    server.signal(nix::sys::signal::Signal::SIGTERM);
    assert!(server.wait().success());
}
