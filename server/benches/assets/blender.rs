//! The Blender half of the asset benchmark: Cycles render times, and a SIGKILL of the real
//! server in the middle of a Blender render.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use factory::providers::{GenerationRequest, Provider};
use factory::render::engines::blender::BlenderEngine;
use factory::render::engines::RenderProvider;
use factory::render::jobs::SceneInput;
use factory::scenes::export::{export, Include};
use factory::scenes::SceneDoc;
use factory::testing::{blender_processes, sample_scene};
use serde_json::{json, Value};

pub struct Cycles {
    pub big: String,
    pub small: String,
    pub startup: String,
}

/// A render request of `glb` placed alone in the sample scene, seen by its front camera.
fn request(glb: &[u8], samples: u32) -> GenerationRequest {
    let doc: SceneDoc = serde_json::from_value(sample_scene("Bench", &[1])).unwrap();
    let merged = export(&doc, &[(1, glb.to_vec())].into(), Include::MODELS).unwrap();
    let mut params = serde_json::Map::new();
    params.insert("width".into(), json!(512));
    params.insert("height".into(), json!(512));
    params.insert("format".into(), json!("png"));
    params.insert("samples".into(), json!(samples));
    GenerationRequest {
        model: "cycles".into(),
        prompt: String::new(),
        negative_prompt: String::new(),
        seed: 0,
        params,
        networks: Vec::new(),
        input_image: None,
        scene: Some(SceneInput {
            scene_id: 1,
            revision: 1,
            camera: "front".into(),
            doc,
            glb: Some(Arc::new(merged)),
        }),
        made_from: None,
    }
}

async fn timed(engine: &RenderProvider<BlenderEngine>, request: &GenerationRequest) -> String {
    let t = Instant::now();
    match engine.submit(request).await {
        Ok(_) => format!("{:.1} s", t.elapsed().as_secs_f64()),
        Err(e) => format!("failed: {e}"),
    }
}

pub async fn cycles(big: &[u8]) -> Cycles {
    let engine = match BlenderEngine::detect(None, Duration::from_secs(1800)).await {
        Ok(e) => RenderProvider(e),
        Err(e) => {
            let missing = format!("not measured: {e} (scripts/setup installs it)");
            return Cycles {
                big: missing.clone(),
                small: missing.clone(),
                startup: missing,
            };
        }
    };
    let small = factory::assets::gltf::sample::glb(&Default::default());
    let t = Instant::now();
    let _ = tokio::process::Command::new("blender")
        .args([
            "-b",
            "--factory-startup",
            "-noaudio",
            "--python-expr",
            "pass",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
    let startup = format!("{:.1} s", t.elapsed().as_secs_f64());
    Cycles {
        big: timed(&engine, &request(big, 32)).await,
        small: timed(&engine, &request(&small, 32)).await,
        startup,
    }
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(data: &std::path::Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_art-factory"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data)
            .env_remove("DATABASE_URL")
            .env("ART_FACTORY_DATA_KEY_STORE", "file")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start art-factory");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("Art Factory is running at ") {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server starts");
        Server { child, base }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn until<T>(within: Duration, mut check: impl AsyncFnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(v) = check().await {
            return Some(v);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

/// Starts the server, renders with Blender, kills the server with SIGKILL mid-render, counts
/// the Blender processes left, restarts, and waits for the render.
pub async fn kill_during_render() -> String {
    if BlenderEngine::detect(None, Duration::from_secs(60))
        .await
        .is_err()
    {
        return "not measured: Blender is not installed (scripts/setup)".into();
    }
    let data = tempfile::tempdir().unwrap();
    let mut server = Server::start(data.path());
    let client = reqwest::Client::new();
    let base = server.base.clone();
    let post = async |path: &str, body: Value| -> Value {
        client
            .post(format!("{base}{path}"))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    };
    let project = post("/api/v1/projects", json!({"name": "Bench"})).await["id"].clone();
    let glb = factory::assets::gltf::sample::glb(&Default::default());
    let boundary = "art-factory-bench-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"project_id\"\r\n\r\n{project}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"ball.glb\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&glb);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let asset: Value = client
        .post(format!("{base}/api/v1/assets"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let scene = post(
        "/api/v1/scenes",
        json!({"project_id": project, "scene": sample_scene("Crash", &[asset["id"].as_i64().unwrap()])}),
    )
    .await;
    let job = post(
        "/api/v1/renderjobs",
        json!({"scene_id": scene["id"], "engine": "blender", "width": 160, "height": 120, "samples": 1500}),
    )
    .await;
    let path = format!("/api/v1/renderjobs/{}", job["id"]);
    let status = async |base: &str| -> Value {
        reqwest::get(format!("{base}{path}"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    };
    let rendering = until(Duration::from_secs(120), async || {
        let job = status(&server.base).await;
        job["status"]
            .as_str()
            .is_some_and(|s| s.starts_with("Cycles: sample"))
            .then_some(())
    })
    .await;
    if rendering.is_none() {
        server.kill();
        return "not measured: the render did not start".into();
    }
    let running = blender_processes().len();
    server.kill();
    let killed = Instant::now();
    let left = until(Duration::from_secs(10), async || {
        blender_processes().is_empty().then_some(())
    })
    .await
    .map_or_else(|| blender_processes().len(), |_| 0);
    let gone_in = killed.elapsed();
    let mut server = Server::start(data.path());
    let restarted = Instant::now();
    let done = until(Duration::from_secs(300), async || {
        let job = status(&server.base).await;
        matches!(
            job["state"].as_str(),
            Some("succeeded" | "failed" | "canceled")
        )
        .then_some(job)
    })
    .await;
    let after = blender_processes().len();
    server.kill();
    match done {
        Some(job) => format!(
            "{running} Blender running before the kill, {left} left after it (gone within {:.1} s); \
             after the restart the job {} on attempt {} in {:.1} s; {after} Blender left at the end",
            gone_in.as_secs_f64(),
            job["state"].as_str().unwrap_or("?"),
            job["attempts"],
            restarted.elapsed().as_secs_f64()
        ),
        None => format!("{running} Blender running, {left} left after the kill; the job did not finish after the restart"),
    }
}
