//! Scenes and render jobs over the REST API, on real HTTP: a scene made from uploaded models,
//! refused with the pointer of what is wrong, replaced with a revision, exported as one GLB,
//! and rendered by the built-in engine into the gallery; then the real server killed with
//! SIGKILL in the middle of a Blender render: no Blender is left running, and the job renders
//! again after the restart.

use std::time::Duration;

use factory::assets::gltf::sample::{self, Sample};
use factory::testing::{blender_processes, eventually, sample_scene};
use reqwest::Method;
use serde_json::{json, Value};

use crate::api::{api, assert_problem};
use crate::assets::form;
use crate::support::{ServerProcess, TestApp};

async fn upload(
    client: &reqwest::Client,
    base: &str,
    project: i64,
    name: &str,
    glb: Vec<u8>,
) -> i64 {
    let id = project.to_string();
    let (content_type, body) = form(&[
        ("project_id", None, id.as_bytes()),
        ("file", Some(name), glb.as_slice()),
    ]);
    let response = client
        .post(format!("{base}/api/v1/assets"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap()
}

fn models() -> (Vec<u8>, Vec<u8>) {
    (
        sample::glb(&Sample {
            texture: Some(sample::checker_png(32)),
            base_color: [1.0; 4],
            ..Sample::default()
        }),
        sample::glb(&Sample::default()),
    )
}

#[tokio::test]
async fn a_script_builds_a_scene_exports_it_and_renders_it_into_the_gallery() {
    let app = TestApp::spawn().await;
    let worker = app
        .engine
        .start_worker(Default::default(), Duration::from_secs(2));
    let (_, project, _) = api(
        &app,
        Method::POST,
        "/api/v1/projects",
        None,
        Some(json!({"name": "Stage"})),
    )
    .await;
    let project = project["id"].as_i64().unwrap();
    let base = app.url("");
    let (a, b) = models();
    let a = upload(&app.client, &base, project, "ball.glb", a).await;
    let b = upload(&app.client, &base, project, "clay.glb", b).await;

    // Made, read back whole.
    let scene = sample_scene("Still life", &[a, b]);
    let (status, made, _) = api(
        &app,
        Method::POST,
        "/api/v1/scenes",
        None,
        Some(json!({"project_id": project, "scene": scene})),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let graph = |v: &Value| serde_json::from_value::<app::dto::SceneGraph>(v.clone()).unwrap();
    assert_eq!(
        graph(&made["scene"]),
        graph(&scene),
        "the graph reads back as written (defaults filled in)"
    );
    assert_eq!(made["revision"], 1);
    let id = made["id"].as_i64().unwrap();
    let (_, read, _) = api(
        &app,
        Method::GET,
        &format!("/api/v1/scenes/{id}"),
        None,
        None,
    )
    .await;
    assert_eq!(graph(&read["scene"]), graph(&scene));
    let (_, listed, _) = api(
        &app,
        Method::GET,
        &format!("/api/v1/scenes?project_id={project}"),
        None,
        None,
    )
    .await;
    assert_eq!(listed[0]["nodes"], 7);

    // Refusals: a model that is not there, at its pointer; a stale revision; nonsense.
    let mut ghost = scene.clone();
    ghost["nodes"][1]["asset_id"] = json!(424242);
    let refused = api(
        &app,
        Method::POST,
        "/api/v1/scenes",
        None,
        Some(json!({"project_id": project, "scene": ghost})),
    )
    .await;
    assert_problem("a missing model", &refused, 422);
    assert_eq!(
        refused.1["errors"][0]["field"], "/nodes/1/asset_id",
        "{}",
        refused.1
    );
    assert!(refused.1["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("no 3D asset 424242"));
    let mut renamed = scene.clone();
    renamed["name"] = json!("Still life II");
    let (status, changed, _) = api(
        &app,
        Method::PUT,
        &format!("/api/v1/scenes/{id}"),
        None,
        Some(json!({"revision": 1, "scene": renamed})),
    )
    .await;
    assert_eq!(
        (status, changed["revision"].as_i64()),
        (200, Some(2)),
        "{changed}"
    );
    let stale = api(
        &app,
        Method::PUT,
        &format!("/api/v1/scenes/{id}"),
        None,
        Some(json!({"revision": 1, "scene": scene})),
    )
    .await;
    assert_problem("a stale save", &stale, 409);
    let mut unknown = scene.clone();
    unknown["nodes"][0]["colour"] = json!("red");
    let refused = api(
        &app,
        Method::POST,
        "/api/v1/scenes",
        None,
        Some(json!({"project_id": project, "scene": unknown})),
    )
    .await;
    assert_problem("an unknown field", &refused, 422);

    // One GLB with everything.
    let glb = app.get(&format!("/api/v1/scenes/{id}/export.glb")).await;
    assert_eq!(glb.headers()["content-type"], "model/gltf-binary");
    assert!(glb.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("still-life-ii.glb"));
    let bytes = glb.bytes().await.unwrap().to_vec();
    let info = factory::assets::gltf::read(vec![("s.glb".into(), bytes)])
        .unwrap()
        .info;
    assert_eq!((info.scene.unwrap().instances, info.cameras), (2, 2));

    // Engines: the built-in one always; Blender is not set up in this app, and says how.
    let (_, engines, _) = api(&app, Method::GET, "/api/v1/renderengines", None, None).await;
    assert_eq!(engines[0]["engine"], "builtin");
    assert_eq!(engines[0]["available"], true);
    assert_eq!(engines[1]["available"], false);
    assert!(engines[1]["detail"]
        .as_str()
        .unwrap()
        .contains("apt install blender"));
    let refused = api(
        &app,
        Method::POST,
        "/api/v1/renderjobs",
        None,
        Some(json!({"scene_id": id, "engine": "blender"})),
    )
    .await;
    assert_problem("no Blender", &refused, 422);

    // A render: queued, followed, and its picture in the gallery.
    let (status, job, _) = api(
        &app,
        Method::POST,
        "/api/v1/renderjobs",
        None,
        Some(
            json!({"scene_id": id, "camera": "top", "width": 120, "height": 80, "format": "jpeg"}),
        ),
    )
    .await;
    assert_eq!(status, 202, "{job}");
    let job_id = job["id"].as_i64().unwrap();
    let done = eventually(Duration::from_secs(60), async || {
        let (_, job, _) = api(
            &app,
            Method::GET,
            &format!("/api/v1/renderjobs/{job_id}"),
            None,
            None,
        )
        .await;
        (job["state"] == "succeeded" || job["state"] == "failed").then_some(job)
    })
    .await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(done["camera"], "top");
    assert_eq!(done["scene_id"], id);
    let output = &done["outputs"][0];
    assert_eq!(
        (output["mime"].as_str(), output["width"].as_i64()),
        (Some("image/jpeg"), Some(120))
    );
    let picture = app.get(output["url"].as_str().unwrap()).await;
    assert_eq!(picture.headers()["content-type"], "image/jpeg");
    let (_, product, _) = api(
        &app,
        Method::GET,
        &format!("/api/v1/products/{}", output["product_id"]),
        None,
        None,
    )
    .await;
    assert_eq!(
        product["scene"]["id"], id,
        "the render links to its scene: {product}"
    );
    let (_, renders, _) = api(
        &app,
        Method::GET,
        &format!("/api/v1/renderjobs?scene_id={id}"),
        None,
        None,
    )
    .await;
    assert_eq!(renders.as_array().unwrap().len(), 1);
    let missing = api(&app, Method::GET, "/api/v1/renderjobs/999999", None, None).await;
    assert_problem("no such render", &missing, 404);
    worker.shut_down(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_kill_9_during_a_blender_render_leaves_no_blender_and_the_render_runs_again() {
    let data = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(data.path(), &[]);
    let client = reqwest::Client::new();
    let base = server.url("");
    let engines: Value = client
        .get(format!("{base}/api/v1/renderengines"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        engines[1]["available"], true,
        "this test needs Blender (scripts/setup installs it): {engines}"
    );
    let project: Value = client
        .post(format!("{base}/api/v1/projects"))
        .json(&json!({"name": "Crash"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let project = project["id"].as_i64().unwrap();
    let (a, b) = models();
    let a = upload(&client, &base, project, "ball.glb", a).await;
    let b = upload(&client, &base, project, "clay.glb", b).await;
    let scene: Value = client
        .post(format!("{base}/api/v1/scenes"))
        .json(&json!({"project_id": project, "scene": sample_scene("Crash", &[a, b])}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Long enough to be caught in the middle, short enough to finish after the restart.
    let job: Value = client.post(format!("{base}/api/v1/renderjobs"))
        .json(&json!({"scene_id": scene["id"], "engine": "blender", "width": 160, "height": 120, "samples": 1500, "format": "exr"}))
        .send().await.unwrap().json().await.unwrap();
    let job_url = format!("/api/v1/renderjobs/{}", job["id"]);
    let get = async |server: &ServerProcess| -> Value {
        reqwest::get(server.url(&job_url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    };
    eventually(Duration::from_secs(120), async || {
        let job = get(&server).await;
        job["status"]
            .as_str()
            .is_some_and(|s| s.starts_with("Cycles: sample"))
            .then_some(())
    })
    .await;
    assert!(!blender_processes().is_empty(), "Blender is rendering");

    server.signal(nix::sys::signal::Signal::SIGKILL);
    server.wait();
    // Blender dies with the server (it was told to, at its start).
    eventually(Duration::from_secs(10), async || {
        blender_processes().is_empty().then_some(())
    })
    .await;

    server = ServerProcess::start(data.path(), &[]);
    let done = eventually(Duration::from_secs(300), async || {
        let job = get(&server).await;
        matches!(
            job["state"].as_str(),
            Some("succeeded" | "failed" | "canceled")
        )
        .then_some(job)
    })
    .await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(done["attempts"], 2, "rendered again after the kill: {done}");
    assert_eq!(
        done["outputs"].as_array().unwrap().len(),
        1,
        "one picture: {done}"
    );
    // An OpenEXR original, served as one, with a WebP preview a browser shows.
    let output = &done["outputs"][0];
    assert_eq!(output["mime"], "image/x-exr", "{done}");
    let exr = reqwest::get(server.url(output["url"].as_str().unwrap()))
        .await
        .unwrap();
    assert_eq!(exr.headers()["content-type"], "image/x-exr");
    assert!(exr
        .bytes()
        .await
        .unwrap()
        .starts_with(&[0x76, 0x2f, 0x31, 0x01]));
    let product: Value =
        reqwest::get(server.url(&format!("/api/v1/products/{}", output["product_id"])))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(product["product"]["format"], "exr", "{product}");
    let preview = reqwest::get(server.url(product["product"]["preview_url"].as_str().unwrap()))
        .await
        .unwrap();
    assert_eq!(preview.headers()["content-type"], "image/webp");
    assert!(blender_processes().is_empty());
    server.signal(nix::sys::signal::Signal::SIGTERM);
    assert!(server.wait().success());
}
