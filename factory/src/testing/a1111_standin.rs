//! A stand-in AUTOMATIC1111 server speaking its API: `GET /sdapi/v1/sd-models`,
//! `POST /sdapi/v1/txt2img` and `img2img` (pictures as base64, an `info` JSON string; the answer
//! comes when the picture is done), `GET /sdapi/v1/progress` (the share of the current
//! generation done) and `POST /sdapi/v1/interrupt`. Pictures are the offline generator's, so
//! each is a real PNG that depends on prompt and seed.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{json, Value};

use super::standin::{bind, result_png, Served};

/// The checkpoints the stand-in lists: (title, model name, short hash).
pub const CHECKPOINTS: [(&str, &str, &str); 2] = [
    (
        "v1-5-pruned-emaonly.safetensors [6ce0161689]",
        "v1-5-pruned-emaonly",
        "6ce0161689",
    ),
    (
        "dreamshaper_8.safetensors [879db523c3]",
        "dreamshaper_8",
        "879db523c3",
    ),
];

#[derive(Default)]
struct Shared {
    /// Every generation asked for: (call, the request body).
    calls: Vec<(&'static str, Value)>,
    /// When the current generation started and how long it takes.
    current: Option<(Instant, Duration)>,
    interrupted: bool,
    interrupts: usize,
    /// Progress answers given while a generation was under way.
    progress_during_work: usize,
}

pub struct A1111StandIn {
    pub base_url: String,
    shared: Arc<Mutex<Shared>>,
    _server: Served,
}

impl A1111StandIn {
    /// A server whose generations each take `work`.
    pub async fn start(work: Duration) -> Self {
        let (listener, addr) = bind().await;
        let shared = Arc::new(Mutex::new(Shared::default()));
        let state = (shared.clone(), work);
        let app = Router::new()
            .route("/sdapi/v1/sd-models", get(models))
            .route("/sdapi/v1/txt2img", post(txt2img))
            .route("/sdapi/v1/img2img", post(img2img))
            .route("/sdapi/v1/progress", get(progress))
            .route("/sdapi/v1/interrupt", post(interrupt))
            .with_state(state);
        Self {
            base_url: format!("http://{addr}"),
            shared,
            _server: Served::serve(listener, app),
        }
    }

    /// The generations asked for, in order: `txt2img` or `img2img` with the body sent.
    pub fn calls(&self) -> Vec<(&'static str, Value)> {
        self.shared.lock().unwrap().calls.clone()
    }

    pub fn interrupts(&self) -> usize {
        self.shared.lock().unwrap().interrupts
    }

    /// How often progress was asked for while a generation was under way.
    pub fn progress_during_work(&self) -> usize {
        self.shared.lock().unwrap().progress_during_work
    }
}

type Ctx = (Arc<Mutex<Shared>>, Duration);

async fn models() -> Json<Value> {
    Json(Value::Array(
        CHECKPOINTS
            .iter()
            .map(|(title, name, hash)| {
                json!({"title": title, "model_name": name, "hash": hash,
                       "sha256": null, "filename": format!("/models/{name}.safetensors"),
                       "config": null})
            })
            .collect(),
    ))
}

async fn txt2img(State(ctx): State<Ctx>, Json(body): Json<Value>) -> Response {
    generate(ctx, "txt2img", body).await
}

async fn img2img(State(ctx): State<Ctx>, Json(body): Json<Value>) -> Response {
    generate(ctx, "img2img", body).await
}

fn refuse(status: StatusCode, detail: &str) -> Response {
    (status, Json(json!({ "detail": detail }))).into_response()
}

async fn generate((shared, work): Ctx, call: &'static str, body: Value) -> Response {
    let checkpoint = body["override_settings"]["sd_model_checkpoint"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if !CHECKPOINTS.iter().any(|(title, ..)| *title == checkpoint) {
        return refuse(
            StatusCode::NOT_FOUND,
            &format!("Model {checkpoint} not found"),
        );
    }
    if call == "img2img" {
        let picture = body["init_images"][0]
            .as_str()
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .filter(|bytes| crate::media::ImageFormat::sniff(bytes).is_some());
        if picture.is_none() {
            return refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                "init_images must hold a base64 picture",
            );
        }
    }
    {
        let mut s = shared.lock().unwrap();
        s.calls.push((call, body.clone()));
        s.current = Some((Instant::now(), work));
        s.interrupted = false;
    }
    // The real server works through the steps, and an interrupt ends them early.
    let started = Instant::now();
    while started.elapsed() < work {
        if shared.lock().unwrap().interrupted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    shared.lock().unwrap().current = None;
    let seed = body["seed"].as_i64().unwrap_or(-1);
    let prompt = body["prompt"].as_str().unwrap_or_default();
    let side = body["width"].as_u64().unwrap_or(512).clamp(8, 512) as u32;
    let png = result_png(prompt, seed, side);
    let info = json!({"prompt": prompt, "seed": seed, "all_seeds": [seed],
                      "sd_model_name": checkpoint, "job_timestamp": "20261201000000"});
    Json(json!({
        "images": [base64::engine::general_purpose::STANDARD.encode(png)],
        "parameters": body,
        "info": info.to_string(),
    }))
    .into_response()
}

async fn progress(State((shared, _)): State<Ctx>) -> Json<Value> {
    let mut s = shared.lock().unwrap();
    let done = s
        .current
        .map(|(at, work)| (at.elapsed().as_secs_f64() / work.as_secs_f64().max(1e-3)).min(0.99))
        .unwrap_or(0.0);
    if s.current.is_some() {
        s.progress_during_work += 1;
    }
    Json(json!({"progress": done, "eta_relative": 0.0,
                "state": {"skipped": false, "interrupted": false, "job": "", "job_count": 1,
                          "sampling_step": 0, "sampling_steps": 20},
                "current_image": null, "textinfo": null}))
}

async fn interrupt(State((shared, _)): State<Ctx>) -> Json<Value> {
    let mut s = shared.lock().unwrap();
    s.interrupted = true;
    s.interrupts += 1;
    Json(json!({}))
}
