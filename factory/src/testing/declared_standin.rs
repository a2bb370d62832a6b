//! A stand-in for an image API no adapter is written for, described to Art Factory only by a
//! manifest ([`manifest`]): `POST /v1/generations` (Bearer key; answers an id), `GET
//! /v1/generations/{id}` (queued, then running with a percentage, then succeeded with picture
//! URLs, or failed with a message when the prompt holds “forbidden”), `POST
//! /v1/generations/{id}/cancel`, `GET /files/{n}`, and a synchronous `POST /v1/images` that
//! answers base64 pictures at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{json, Value};

use super::standin::{bind, result_png, Served};

pub const KEY: &str = "acme-test-key-0123456789";
pub const KEY_ENV: &str = "ACME_API_KEY";

/// The manifest of the stand-in's asynchronous API.
pub fn manifest(base_url: &str) -> String {
    format!(
        r#"# Acme Images, described for Art Factory.
id = "acme"
name = "Acme Images"
description = "Acme's image API."
base_url = "{base_url}"

[auth]
header = "Authorization"
prefix = "Bearer "
key_env = "{KEY_ENV}"

[submit]
path = "/v1/generations"
request_id = "id"

[submit.body]
model = "{{{{model}}}}"
input = {{ prompt = "{{{{prompt}}}}", avoid = "{{{{negative_prompt}}}}", seed = "{{{{seed}}}}" }}
size = "{{{{width}}}}x{{{{height}}}}"
quality = "{{{{quality}}}}"

[status]
path = "/v1/generations/{{{{request_id}}}}"
state = "status"
succeeded = ["succeeded"]
failed = ["failed"]
canceled = ["canceled"]
queued = ["queued"]
error = "error.message"
progress = "progress"

[cancel]
path = "/v1/generations/{{{{request_id}}}}/cancel"

[result]
images = "output[*].url"
encoding = "url"

[[models]]
id = "acme-2"
name = "Acme 2"
negative_prompt = true

[[params]]
name = "width"
label = "Width"
type = "integer"
default = 512
min = 64
max = 1024
step = 64

[[params]]
name = "height"
label = "Height"
type = "integer"
default = 512
min = 64
max = 1024
step = 64

[[params]]
name = "quality"
label = "Quality"
type = "choice"
default = "standard"
values = ["draft", "standard", "high"]
"#
    )
}

/// The manifest of the stand-in's synchronous API (pictures in the first answer, as base64).
pub fn sync_manifest(base_url: &str) -> String {
    format!(
        r#"id = "acme-now"
name = "Acme Instant"
base_url = "{base_url}"

[submit]
path = "/v1/images"
[submit.body]
prompt = "{{{{prompt}}}}"
seed = "{{{{seed}}}}"
response_format = "b64_json"

[result]
images = "data[*].b64_json"
encoding = "base64"

[[models]]
id = "instant"
name = "Instant"
"#
    )
}

#[derive(Default)]
struct Shared {
    /// Every submission's body.
    bodies: Vec<Value>,
    /// Generation id -> (body, polls so far, canceled).
    generations: HashMap<String, (Value, u32, bool)>,
    files: Vec<Vec<u8>>,
    cancels: Vec<String>,
    base: String,
}

pub struct DeclaredStandIn {
    pub base_url: String,
    shared: Arc<Mutex<Shared>>,
    _server: Served,
}

impl DeclaredStandIn {
    pub async fn start() -> Self {
        let (listener, addr) = bind().await;
        let base_url = format!("http://{addr}");
        let shared = Arc::new(Mutex::new(Shared {
            base: base_url.clone(),
            ..Shared::default()
        }));
        let app = Router::new()
            .route("/v1/generations", post(submit))
            .route("/v1/generations/{id}", get(status))
            .route("/v1/generations/{id}/cancel", post(cancel))
            .route("/v1/images", post(instant))
            .route("/files/{n}", get(file))
            .with_state(shared.clone());
        Self {
            base_url,
            shared,
            _server: Served::serve(listener, app),
        }
    }

    pub fn bodies(&self) -> Vec<Value> {
        self.shared.lock().unwrap().bodies.clone()
    }

    pub fn cancels(&self) -> Vec<String> {
        self.shared.lock().unwrap().cancels.clone()
    }
}

type Ctx = Arc<Mutex<Shared>>;

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": {"message": message}}))).into_response()
}

fn authorized(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {KEY}"))
}

async fn submit(State(ctx): State<Ctx>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if !authorized(&headers) {
        return refuse(StatusCode::UNAUTHORIZED, "Invalid API key");
    }
    if !body["input"]["prompt"].is_string() || !body["input"]["seed"].is_i64() {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "input.prompt must be a string and input.seed an integer",
        );
    }
    let mut s = ctx.lock().unwrap();
    s.bodies.push(body.clone());
    let id = format!("gen_{}", s.bodies.len());
    s.generations.insert(id.clone(), (body, 0, false));
    Json(json!({"id": id, "status": "queued"})).into_response()
}

async fn status(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if !authorized(&headers) {
        return refuse(StatusCode::UNAUTHORIZED, "Invalid API key");
    }
    let mut s = ctx.lock().unwrap();
    let base = s.base.clone();
    let Some((body, polls, canceled)) = s.generations.get_mut(&id) else {
        return refuse(StatusCode::NOT_FOUND, "No such generation");
    };
    *polls += 1;
    let (body, polls, canceled) = (body.clone(), *polls, *canceled);
    let prompt = body["input"]["prompt"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let answer = match polls {
        _ if canceled => json!({"id": id, "status": "canceled"}),
        1 => json!({"id": id, "status": "queued"}),
        2 => json!({"id": id, "status": "running", "progress": 50}),
        _ if prompt.contains("forbidden") => json!({"id": id, "status": "failed",
            "error": {"message": "Prompt rejected by the safety system"}}),
        _ if prompt.contains("slow") => json!({"id": id, "status": "running", "progress": 60}),
        _ => {
            let seed = body["input"]["seed"].as_i64().unwrap_or(0);
            let side = body["size"]
                .as_str()
                .and_then(|s| s.split('x').next()?.parse().ok())
                .unwrap_or(256u32)
                .clamp(8, 256);
            s.files.push(result_png(&prompt, seed, side));
            let url = format!("{base}/files/{}", s.files.len() - 1);
            json!({"id": id, "status": "succeeded", "output": [{"url": url}]})
        }
    };
    Json(answer).into_response()
}

async fn cancel(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if !authorized(&headers) {
        return refuse(StatusCode::UNAUTHORIZED, "Invalid API key");
    }
    let mut s = ctx.lock().unwrap();
    match s.generations.get_mut(&id) {
        Some(generation) => {
            generation.2 = true;
            s.cancels.push(id.clone());
            Json(json!({"id": id, "status": "canceled"})).into_response()
        }
        None => refuse(StatusCode::NOT_FOUND, "No such generation"),
    }
}

async fn instant(State(ctx): State<Ctx>, Json(body): Json<Value>) -> Response {
    let prompt = body["prompt"].as_str().unwrap_or_default();
    let seed = body["seed"].as_i64().unwrap_or(0);
    ctx.lock().unwrap().bodies.push(body.clone());
    let png = result_png(prompt, seed, 64);
    Json(json!({"created": 0, "data": [
        {"b64_json": base64::engine::general_purpose::STANDARD.encode(png)}
    ]}))
    .into_response()
}

async fn file(State(ctx): State<Ctx>, Path(n): Path<usize>) -> Response {
    match ctx.lock().unwrap().files.get(n) {
        Some(bytes) => ([("content-type", "image/png")], bytes.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
