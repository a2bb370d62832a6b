//! A stand-in for Replicate's HTTP API v1 on a real local port, for tests: Replicate cannot be
//! reached from here, so the adapter is tested against a server that speaks the same protocol
//! (`../shared/PROVIDERS.md`, and the official clients' recorded responses): `Authorization:
//! Bearer` and its 401 problem details, predictions created for an official model or a pinned
//! version (201 and the prediction), `starting` → `processing` (a log with progress bars) →
//! `succeeded` with output URLs on a separate path, cancel, 422 with `invalid_fields`, 429 with
//! `Retry-After`, and results that expire.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};

use super::standin::{bind, result_clip, result_png, Inputs, Served, StandIn, Submissions};
use crate::providers::Makes;

#[derive(Debug, Clone)]
pub struct ReplicateStandInOptions {
    pub token: String,
    /// How long a prediction is `starting`, then `processing`.
    pub start_time: Duration,
    pub run_time: Duration,
    /// A pause after a prediction is recorded and before it is answered.
    pub submit_delay: Duration,
    pub image_side: u32,
    /// This many creations are throttled first (429 with `Retry-After`); every request in
    /// the window that follows is throttled too, as a real rate limit is.
    pub throttle_first_submissions: usize,
    /// The reset a throttled request is told to wait for.
    pub throttle_for: Duration,
    /// Creations let through before throttling starts.
    pub throttle_after: usize,
}

impl Default for ReplicateStandInOptions {
    fn default() -> Self {
        Self {
            token: "r8_standin_token_0123456789".into(),
            start_time: Duration::from_millis(50),
            run_time: Duration::from_millis(100),
            submit_delay: Duration::ZERO,
            image_side: 64,
            throttle_first_submissions: 0,
            throttle_for: Duration::from_secs(1),
            throttle_after: 0,
        }
    }
}

#[derive(Debug, Clone)]
struct Prediction {
    model: String,
    version: String,
    input: Value,
    seed: i64,
    prompt: String,
    created: Instant,
    canceled: bool,
}

#[derive(Debug, Default)]
struct State {
    predictions: HashMap<String, Prediction>,
    submissions: Submissions,
    throttled: usize,
    created: usize,
    /// Every request before this is throttled.
    throttled_until: Option<Instant>,
    next_id: u64,
    base: String,
    inputs: Inputs,
    /// Every request, in order (`POST /v1/models/.../predictions 201`), for tests that check
    /// what was sent when.
    log: Vec<(Instant, String)>,
}

/// The running stand-in. Dropping it stops the server.
pub struct ReplicateStandIn {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    _server: Served,
}

impl ReplicateStandIn {
    pub async fn start(options: ReplicateStandInOptions) -> Self {
        let (listener, addr) = bind().await;
        let state = Arc::new(Mutex::new(State {
            base: format!("http://{addr}"),
            ..State::default()
        }));
        let shared = (state.clone(), Arc::new(options));
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let (state, options) = shared.clone();
                async move { route(&state, &options, method, uri, headers, body).await }
            },
        );
        Self {
            addr,
            state,
            _server: Served::serve(listener, app),
        }
    }

    /// The API base, as the adapter is configured with it.
    pub fn api_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Forgets one prediction, as Replicate does an hour after it finished.
    pub fn expire(&self, id: &str) {
        self.state.lock().unwrap().predictions.remove(id);
    }

    /// Predictions cancelled through the API.
    pub fn canceled(&self) -> usize {
        let state = self.state.lock().unwrap();
        state.predictions.values().filter(|p| p.canceled).count()
    }

    /// Input images accepted: how each came (`inline`, `uploaded`) and its size.
    pub fn inputs(&self) -> Vec<(&'static str, usize)> {
        self.state.lock().unwrap().inputs.seen.clone()
    }

    /// Every request so far with when it arrived: `METHOD path status`.
    pub fn requests(&self) -> Vec<(Instant, String)> {
        self.state.lock().unwrap().log.clone()
    }
}

impl StandIn for ReplicateStandIn {
    fn provider(&self) -> &'static str {
        crate::providers::replicate::ID
    }

    fn base_url(&self) -> String {
        self.api_url()
    }

    fn submissions_per_seed(&self) -> HashMap<i64, usize> {
        self.state.lock().unwrap().submissions.per_seed()
    }

    fn resubmitted_after_poll(&self) -> Vec<i64> {
        self.state
            .lock()
            .unwrap()
            .submissions
            .resubmitted_after_poll()
    }
}

fn reply(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// Replicate's errors are problem details.
fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    let mut response = reply(
        status,
        json!({"title": title, "detail": detail, "status": status.as_u16()}),
    );
    response.headers_mut().insert(
        "content-type",
        "application/problem+json".parse().expect("a header value"),
    );
    response
}

async fn route(
    state: &Mutex<State>,
    options: &ReplicateStandInOptions,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let segments: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    let response = if let (&Method::GET, ["files", id, _]) = (&method, segments.as_slice()) {
        // Output files are public.
        file(state, options, id)
    } else if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(format!("Bearer {}", options.token).as_str())
    {
        problem(
            StatusCode::UNAUTHORIZED,
            "Unauthenticated",
            "You did not pass a valid authentication token",
        )
    } else if let Some(left) = throttled_for(state) {
        throttled(left)
    } else {
        match (&method, segments.as_slice()) {
            (&Method::POST, ["v1", "models", owner, name, "predictions"]) => {
                let model = format!("{owner}/{name}");
                create(state, options, &model, None, &body).await
            }
            (&Method::POST, ["v1", "predictions"]) => {
                let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                match request["version"].as_str() {
                    Some(version) => {
                        let model = format!("community/{}", &version[..version.len().min(8)]);
                        create(state, options, &model, Some(version.to_string()), &body).await
                    }
                    None => problem(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "Invalid version or not permitted",
                        "The specified version does not exist (or perhaps you don't have permission to use it?)",
                    ),
                }
            }
            (&Method::POST, ["v1", "files"]) => upload(state, &headers, &body),
            (&Method::GET, ["v1", "account"]) => reply(
                StatusCode::OK,
                json!({"type": "user", "username": "standin", "name": "Stand-in", "github_url": null}),
            ),
            (&Method::GET, ["v1", "models", owner, name]) => model(owner, name, None),
            (&Method::GET, ["v1", "models", owner, name, "versions", version]) => {
                model(owner, name, Some(version))
            }
            (&Method::GET, ["v1", "predictions", id]) => get(state, options, id),
            (&Method::POST, ["v1", "predictions", id, "cancel"]) => cancel(state, options, id),
            _ => problem(StatusCode::NOT_FOUND, "Not found", "Not found."),
        }
    };
    state.lock().unwrap().log.push((
        Instant::now(),
        format!("{method} {} {}", uri.path(), response.status().as_u16()),
    ));
    response
}

/// `POST /v1/files`: one multipart part named `content`; answers the file with its `urls.get`.
fn upload(state: &Mutex<State>, headers: &HeaderMap, body: &[u8]) -> Response {
    let part = super::standin::multipart_file(headers, body, "content");
    let Some(bytes) = part else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "Expected a multipart body with a `content` file",
        );
    };
    let mut state = state.lock().unwrap();
    let size = bytes.len();
    let n = state.inputs.upload(bytes);
    let url = format!("{}/v1/files/{n}", state.base);
    reply(
        StatusCode::CREATED,
        json!({"id": n.to_string(), "name": "input", "content_type": "application/octet-stream",
               "size": size, "urls": {"get": url}}),
    )
}

/// The one community model in the stand-in's catalog, with a real Cog schema.
pub const SDXL: &str = "stability-ai/sdxl";
pub const SDXL_VERSION: &str = "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc";
/// A model whose schema needs an input the form cannot give (a free-text `mask`).
pub const NEEDS_MASK: &str = "acme/needs-mask";

/// `GET /v1/models/{owner}/{name}` (with its latest version) or a version of it.
fn model(owner: &str, name: &str, version: Option<&str>) -> Response {
    let schema: Value =
        serde_json::from_str(include_str!("fixtures/replicate-sdxl-openapi.json")).expect("JSON");
    let (schema, version_id) = match format!("{owner}/{name}").as_str() {
        SDXL => (schema, SDXL_VERSION),
        NEEDS_MASK => {
            let mut schema = schema;
            let input = &mut schema["components"]["schemas"]["Input"];
            input["properties"]["mask"] = json!({"type": "string", "title": "Mask", "x-order": 3});
            input["required"] = json!(["prompt", "mask"]);
            (schema, "0a1b2c3d4e5f")
        }
        _ => return problem(StatusCode::NOT_FOUND, "Not found", "Not found."),
    };
    let version_body = json!({
        "id": version_id,
        "created_at": "2023-07-26T17:53:09.882651Z",
        "cog_version": "0.8.1",
        "openapi_schema": schema,
    });
    match version {
        Some(v) if v == version_id => reply(StatusCode::OK, version_body),
        Some(_) => problem(StatusCode::NOT_FOUND, "Not found", "Not found."),
        None => reply(
            StatusCode::OK,
            json!({
                "url": format!("https://replicate.com/{owner}/{name}"),
                "owner": owner,
                "name": name,
                "description": "A text-to-image generative AI model that creates beautiful images",
                "visibility": "public",
                "run_count": 1,
                "latest_version": version_body,
            }),
        ),
    }
}

async fn create(
    state: &Mutex<State>,
    options: &ReplicateStandInOptions,
    model: &str,
    version: Option<String>,
    body: &[u8],
) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "The request body is not valid JSON",
        );
    };
    let input = request["input"].clone();
    let mut invalid = Vec::new();
    // The picture inputs of the listed models: FLUX's `image`, the video models' first frame.
    let image_inputs = ["image", "first_frame_image", "start_image"];
    if let Some((field, image)) = image_inputs
        .iter()
        .find_map(|f| input.get(*f).map(|v| (*f, v)))
    {
        let prefix = format!("{}/v1/files/", state.lock().unwrap().base);
        let accepted = image
            .as_str()
            .and_then(|i| state.lock().unwrap().inputs.accept(i, &prefix));
        if accepted.is_none() {
            invalid.push(json!({"type": "format", "field": format!("input.{field}"),
                "description": "Does not match format 'uri' or could not be loaded"}));
        }
    }
    // A speech model's prompt is its `text`.
    let prompt_field = if model.starts_with("minimax/speech") {
        "text"
    } else {
        "prompt"
    };
    if input[prompt_field].as_str().is_none_or(str::is_empty) {
        invalid.push(json!({"type": "required", "field": "input",
                            "description": format!("{prompt_field} is required")}));
    }
    if model.ends_with("/flux-schnell") {
        if let Some(steps) = input.get("num_inference_steps") {
            if !steps.as_i64().is_some_and(|s| (1..=4).contains(&s)) {
                invalid.push(
                    json!({"type": "less_than_equal", "field": "input.num_inference_steps",
                    "description": "Must be less than or equal to 4"}),
                );
            }
        }
    }
    if !invalid.is_empty() {
        let mut response = reply(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"title": "Input validation failed", "detail": "- input: invalid",
                   "status": 422, "invalid_fields": invalid}),
        );
        response.headers_mut().insert(
            "content-type",
            "application/problem+json".parse().expect("a header value"),
        );
        return response;
    }
    let id = {
        let mut state = state.lock().unwrap();
        state.created += 1;
        if state.created > options.throttle_after
            && state.throttled < options.throttle_first_submissions
        {
            state.throttled += 1;
            state.throttled_until = Some(Instant::now() + options.throttle_for);
            return throttled(options.throttle_for);
        }
        state.next_id += 1;
        let id = format!("rp{:06}q{:012x}", state.next_id, state.next_id * 7919);
        let seed = input["seed"].as_i64().unwrap_or(-1);
        state.submissions.submitted(seed);
        state.predictions.insert(
            id.clone(),
            Prediction {
                model: model.to_string(),
                version: version.unwrap_or_else(|| "official".into()),
                prompt: input[prompt_field].as_str().unwrap_or_default().to_string(),
                input,
                seed,
                created: Instant::now(),
                canceled: false,
            },
        );
        id
    };
    // The prediction exists at "Replicate" from here on, whether or not the answer arrives.
    tokio::time::sleep(options.submit_delay).await;
    let state = state.lock().unwrap();
    let prediction = &state.predictions[&id];
    reply(
        StatusCode::CREATED,
        prediction_json(&state.base, &id, prediction, options),
    )
}

/// How long requests are still throttled, if they are.
fn throttled_for(state: &Mutex<State>) -> Option<Duration> {
    let until = state.lock().unwrap().throttled_until?;
    until.checked_duration_since(Instant::now())
}

/// A 429 with the reset in `Retry-After` and in the words Replicate uses.
fn throttled(left: Duration) -> Response {
    let seconds = left.as_secs_f64().ceil().max(1.0) as u64;
    let mut response = problem(
        StatusCode::TOO_MANY_REQUESTS,
        "Request was throttled",
        &format!("Request was throttled. Your rate limit resets in ~{seconds}s."),
    );
    response.headers_mut().insert(
        "retry-after",
        seconds.to_string().parse().expect("a header value"),
    );
    response
}

enum Phase {
    Starting,
    Processing(f32),
    Succeeded,
}

fn phase(prediction: &Prediction, options: &ReplicateStandInOptions) -> Phase {
    let age = prediction.created.elapsed();
    if age < options.start_time {
        Phase::Starting
    } else if age < options.start_time + options.run_time {
        let done = (age - options.start_time).as_secs_f32() / options.run_time.as_secs_f32();
        Phase::Processing(done.clamp(0.0, 0.99))
    } else {
        Phase::Succeeded
    }
}

fn prediction_json(
    base: &str,
    id: &str,
    prediction: &Prediction,
    options: &ReplicateStandInOptions,
) -> Value {
    let (status, logs, output) = if prediction.canceled {
        ("canceled", String::new(), Value::Null)
    } else {
        match phase(prediction, options) {
            Phase::Starting => ("starting", String::new(), Value::Null),
            Phase::Processing(done) => {
                let percent = (done * 100.0) as u32;
                let steps = (done * 4.0) as u32;
                let bar = "█".repeat((percent / 10) as usize);
                let logs = format!(
                    "Using seed: {}\n  0%|          | 0/4 [00:00<?, ?it/s]\n{percent:3}%|{bar:<10}| {steps}/4\n",
                    prediction.seed
                );
                ("processing", logs, Value::Null)
            }
            // The clip models answer one URL; FLUX a list.
            Phase::Succeeded => (
                "succeeded",
                format!("Using seed: {}\n100%|██████████| 4/4\n", prediction.seed),
                match crate::providers::replicate::makes(&prediction.model) {
                    Makes::Image => json!([format!("{base}/files/{id}/out-0.png")]),
                    Makes::Video => json!(format!("{base}/files/{id}/output.mp4")),
                    Makes::Audio => json!(format!("{base}/files/{id}/output.wav")),
                },
            ),
        }
    };
    json!({
        "id": id,
        "model": prediction.model,
        "version": prediction.version,
        "input": prediction.input,
        "logs": logs,
        "output": output,
        "data_removed": false,
        "error": null,
        "status": status,
        "created_at": "2026-11-30T12:00:00.000000Z",
        "urls": {
            "get": format!("{base}/v1/predictions/{id}"),
            "cancel": format!("{base}/v1/predictions/{id}/cancel"),
        },
        "metrics": if status == "succeeded" { json!({"predict_time": options.run_time.as_secs_f64()}) } else { json!({}) },
    })
}

fn get(state: &Mutex<State>, options: &ReplicateStandInOptions, id: &str) -> Response {
    let mut state = state.lock().unwrap();
    let Some(prediction) = state.predictions.get(id).cloned() else {
        return problem(StatusCode::NOT_FOUND, "Not found", "Not found.");
    };
    state.submissions.polled(prediction.seed);
    reply(
        StatusCode::OK,
        prediction_json(&state.base, id, &prediction, options),
    )
}

fn cancel(state: &Mutex<State>, options: &ReplicateStandInOptions, id: &str) -> Response {
    let mut state = state.lock().unwrap();
    let base = state.base.clone();
    let Some(prediction) = state.predictions.get_mut(id) else {
        return problem(StatusCode::NOT_FOUND, "Not found", "Not found.");
    };
    if !matches!(phase(prediction, options), Phase::Succeeded) {
        prediction.canceled = true;
    }
    let prediction = prediction.clone();
    reply(
        StatusCode::OK,
        prediction_json(&base, id, &prediction, options),
    )
}

fn file(state: &Mutex<State>, options: &ReplicateStandInOptions, id: &str) -> Response {
    let Some(prediction) = state.lock().unwrap().predictions.get(id).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match crate::providers::replicate::makes(&prediction.model) {
        Makes::Image => {
            let png = result_png(&prediction.prompt, prediction.seed, options.image_side);
            ([("content-type", "image/png")], png).into_response()
        }
        makes => {
            let (bytes, _, mime) = result_clip(makes, &prediction.prompt, prediction.seed);
            ([("content-type", mime)], bytes).into_response()
        }
    }
}
