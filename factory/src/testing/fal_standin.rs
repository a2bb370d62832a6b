//! A stand-in for fal.ai's queue API on a real local port, for tests: fal cannot be reached from
//! here, so the adapter is tested against a server that speaks the same protocol
//! (`../shared/PROVIDERS.md`): the `Authorization: Key` check and its 401, submit with the
//! model's full path, status / result / cancel under the `owner/app` path, 202 while waiting and
//! 200 when done, 422 validation details, result files on a separate path.
//!
//! It keeps the record a crash test needs: every submission, per seed (tests give each job its
//! own seed), and whether an earlier request for that seed had already been polled when a new
//! one arrived, which would mean a committed request id was submitted again.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};

use super::standin::{
    bind, progress_log, result_clip, result_png, Inputs, Served, StandIn, Submissions,
};
use crate::providers::Makes;

#[derive(Debug, Clone)]
pub struct StandInOptions {
    pub key: String,
    /// How long a request waits `IN_QUEUE`, then runs `IN_PROGRESS`.
    pub queue_time: Duration,
    pub run_time: Duration,
    /// How long a video or sound model runs instead (they take minutes at fal); `run_time`
    /// when unset.
    pub clip_run_time: Option<Duration>,
    /// A pause after a submission is recorded and before it is answered: the window in which a
    /// crash leaves a request at fal whose id the app never learnt.
    pub submit_delay: Duration,
    /// Side of the square PNG results.
    pub image_side: u32,
    /// This many submissions are refused first with a 503 scheduling failure.
    pub refuse_first_submissions: usize,
    /// Error bodies quote the `Authorization` header they received, as a careless provider or
    /// proxy might: the adapter must never pass the key on.
    pub echo_key_in_errors: bool,
    /// This many submissions are throttled (429 with `Retry-After`), and every request in the
    /// `throttle_for` window that follows each.
    pub throttle_first_submissions: usize,
    pub throttle_for: Duration,
}

/// What the stand-in does to a submission instead of answering it properly, after recording it
/// (so the request exists at "fal" and the answer is what goes wrong).
#[derive(Debug, Clone, PartialEq)]
pub enum SubmitFault {
    /// A 502 page, as a proxy in front of fal answers when fal is slow.
    BadGateway,
    /// A 200 whose body is not the JSON fal sends.
    Garbled,
    /// Refused with this HTTP status (422 validation, 401, 429, 500 ...) and a `detail`.
    Rejected(u16),
    /// Accepted, then reported `COMPLETED` with an error (as a model that crashed is).
    FailsLater,
}

/// Status polls answer this instead, until cleared.
#[derive(Debug, Clone, PartialEq)]
pub struct Outage {
    pub status: u16,
    pub retry_after: Option<String>,
}

impl Default for StandInOptions {
    fn default() -> Self {
        Self {
            key: "standin-id:standin-secret".into(),
            queue_time: Duration::from_millis(50),
            run_time: Duration::from_millis(100),
            clip_run_time: None,
            submit_delay: Duration::ZERO,
            image_side: 64,
            refuse_first_submissions: 0,
            echo_key_in_errors: false,
            throttle_first_submissions: 0,
            throttle_for: Duration::from_secs(1),
        }
    }
}

#[derive(Debug, Clone)]
struct Request {
    app: String,
    /// What the model makes (its full path is in the catalogue): a picture, a video or a sound.
    makes: Makes,
    seed: i64,
    prompt: String,
    created: Instant,
    canceled: bool,
    /// The error its status reports once done, for [`SubmitFault::FailsLater`].
    fails: Option<String>,
    /// What its log says while it runs.
    log: String,
}

#[derive(Debug, Default)]
struct State {
    requests: HashMap<String, Request>,
    submissions: Submissions,
    refused: usize,
    next_id: u64,
    /// Absolute URL prefix of result files, as fal's CDN URLs are absolute.
    files_base: String,
    faults: std::collections::VecDeque<SubmitFault>,
    outage: Option<Outage>,
    /// Cancel calls received, by request id.
    cancel_calls: Vec<String>,
    status_polls: usize,
    throttled: usize,
    throttled_until: Option<Instant>,
    inputs: Inputs,
    /// Every request, in order (`POST /fal-ai/flux/schnell 200`).
    log: Vec<(Instant, String)>,
}

/// The running stand-in. Dropping it stops the server.
pub struct FalStandIn {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    _server: Served,
}

impl FalStandIn {
    pub async fn start(options: StandInOptions) -> Self {
        let (listener, addr) = bind().await;
        let state = Arc::new(Mutex::new(State {
            files_base: format!("http://{addr}/files"),
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

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many times each seed was submitted.
    pub fn submissions_per_seed(&self) -> HashMap<i64, usize> {
        self.state.lock().unwrap().submissions.per_seed()
    }

    /// Seeds submitted again after an earlier request for them had been polled.
    pub fn resubmitted_after_poll(&self) -> Vec<i64> {
        self.state
            .lock()
            .unwrap()
            .submissions
            .resubmitted_after_poll()
    }

    /// Requests cancelled through the API.
    pub fn canceled(&self) -> usize {
        let state = self.state.lock().unwrap();
        state.requests.values().filter(|r| r.canceled).count()
    }

    /// The next submissions meet these faults, one each, in order.
    pub fn fault_next_submissions(&self, faults: impl IntoIterator<Item = SubmitFault>) {
        self.state.lock().unwrap().faults.extend(faults);
    }

    /// Status polls answer with `outage` from now on (`None` ends it).
    pub fn set_status_outage(&self, outage: Option<Outage>) {
        self.state.lock().unwrap().outage = outage;
    }

    /// How many status polls arrived.
    pub fn status_polls(&self) -> usize {
        self.state.lock().unwrap().status_polls
    }

    /// The request ids cancel was called for, in order.
    pub fn cancel_calls(&self) -> Vec<String> {
        self.state.lock().unwrap().cancel_calls.clone()
    }

    /// Input images accepted: how each came (`inline`, `uploaded`) and its size.
    pub fn inputs(&self) -> Vec<(&'static str, usize)> {
        self.state.lock().unwrap().inputs.seen.clone()
    }

    /// Every request so far with when it arrived: `METHOD path status`.
    pub fn requests(&self) -> Vec<(Instant, String)> {
        self.state.lock().unwrap().log.clone()
    }

    /// Forgets one request, as fal does when a result expires.
    pub fn expire(&self, request_id: &str) {
        self.state.lock().unwrap().requests.remove(request_id);
    }
}

fn reply(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

enum Phase {
    Queued,
    Running,
    Done,
}

impl StandInOptions {
    fn run_time(&self, makes: Makes) -> Duration {
        match makes {
            Makes::Image => self.run_time,
            _ => self.clip_run_time.unwrap_or(self.run_time),
        }
    }
}

fn phase(request: &Request, options: &StandInOptions) -> Phase {
    let age = request.created.elapsed();
    if age < options.queue_time {
        Phase::Queued
    } else if age < options.queue_time + options.run_time(request.makes) {
        Phase::Running
    } else {
        Phase::Done
    }
}

async fn route(
    state: &Mutex<State>,
    options: &StandInOptions,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let segments: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    // An upload's signed URL needs no key.
    if let (&Method::PUT, ["storage", "put", n]) = (&method, segments.as_slice()) {
        let mut state = state.lock().unwrap();
        return match n
            .parse::<usize>()
            .ok()
            .filter(|n| *n < state.inputs.uploads_len())
        {
            Some(n) => {
                state.inputs.fill(n, body.to_vec());
                StatusCode::OK.into_response()
            }
            None => StatusCode::NOT_FOUND.into_response(),
        };
    }
    // Result files are public (fal's CDN needs no key).
    if let (&Method::GET, ["files", file]) = (&method, segments.as_slice()) {
        return file_response(state, options, file);
    }
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let throttled_for = {
        let state = state.lock().unwrap();
        state
            .throttled_until
            .and_then(|until| until.checked_duration_since(Instant::now()))
    };
    let response = if authorization != format!("Key {}", options.key) {
        reply(
            StatusCode::UNAUTHORIZED,
            json!({"detail": "No user found for Key ID and Secret"}),
        )
    } else if let Some(left) = throttled_for {
        throttled(left)
    } else {
        match (&method, segments.as_slice()) {
            (&Method::GET, [owner, app, "requests", id, "status"]) => {
                status(state, options, &format!("{owner}/{app}"), id)
            }
            (&Method::GET, [owner, app, "requests", id]) => {
                result(state, options, &format!("{owner}/{app}"), id)
            }
            (&Method::PUT, [owner, app, "requests", id, "cancel"]) => {
                cancel(state, options, &format!("{owner}/{app}"), id)
            }
            (&Method::POST, ["storage", "upload", "initiate"]) => {
                let mut state = state.lock().unwrap();
                let n = state.inputs.upload(Vec::new());
                let base = state.files_base.trim_end_matches("/files").to_string();
                reply(
                    StatusCode::OK,
                    json!({"upload_url": format!("{base}/storage/put/{n}"),
                           "file_url": format!("{base}/storage/files/{n}")}),
                )
            }
            (&Method::POST, [owner, app, ..]) => {
                let app = format!("{owner}/{app}");
                submit(state, options, &app, uri.path(), &body, &authorization).await
            }
            _ => reply(StatusCode::NOT_FOUND, json!({"detail": "Not Found"})),
        }
    };
    state.lock().unwrap().log.push((
        Instant::now(),
        format!("{method} {} {}", uri.path(), response.status().as_u16()),
    ));
    if options.echo_key_in_errors && !response.status().is_success() {
        return echo(response, &authorization).await;
    }
    response
}

/// A 429 with the reset in `Retry-After`.
fn throttled(left: Duration) -> Response {
    let seconds = left.as_secs_f64().ceil().max(1.0) as u64;
    let mut response = reply(
        StatusCode::TOO_MANY_REQUESTS,
        json!({"detail": format!("Too many requests; try again in {seconds} seconds.")}),
    );
    response.headers_mut().insert(
        "retry-after",
        seconds.to_string().parse().expect("a header value"),
    );
    response
}

/// The same error with the credentials it was sent quoted in its `detail` (and, for good
/// measure, in a header).
async fn echo(response: Response, authorization: &str) -> Response {
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    let mut echoed = reply(
        status,
        json!({"detail": format!("{text} (request had Authorization: {authorization})")}),
    );
    if let Ok(value) = authorization.parse() {
        echoed.headers_mut().insert("x-echo-authorization", value);
    }
    echoed
}

async fn submit(
    state: &Mutex<State>,
    options: &StandInOptions,
    app: &str,
    path: &str,
    body: &[u8],
    authorization: &str,
) -> Response {
    // What a careless model would print or report: the credentials it was called with.
    let echoed = |text: &str| {
        if options.echo_key_in_errors {
            format!("{text} (called with {authorization})")
        } else {
            text.to_string()
        }
    };
    let Ok(input) = serde_json::from_slice::<Value>(body) else {
        return reply(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"detail": [{"loc": ["body"], "msg": "Input should be a valid dictionary", "type": "dict_type"}]}),
        );
    };
    let mut problems = Vec::new();
    if input["prompt"].as_str().is_none_or(str::is_empty) {
        problems
            .push(json!({"loc": ["body", "prompt"], "msg": "Field required", "type": "missing"}));
    }
    if let Some(steps) = input.get("num_inference_steps") {
        if !steps.as_i64().is_some_and(|s| (1..=12).contains(&s)) && path.ends_with("/schnell") {
            problems.push(json!({"loc": ["body", "num_inference_steps"],
                "msg": "Input should be less than or equal to 12", "type": "less_than_equal"}));
        }
    }
    if path.ends_with("/image-to-image") || path.ends_with("/image-to-video") {
        let prefix = {
            let state = state.lock().unwrap();
            format!(
                "{}/storage/files/",
                state.files_base.trim_end_matches("/files")
            )
        };
        let image = input["image_url"].as_str().unwrap_or_default();
        if state
            .lock()
            .unwrap()
            .inputs
            .accept(image, &prefix)
            .is_none()
        {
            problems.push(json!({"loc": ["body", "image_url"],
                "msg": "Could not load the image from the URL", "type": "image_load_error"}));
        }
    }
    if !problems.is_empty() {
        return reply(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "detail": problems }),
        );
    }
    let (id, fault) = {
        let mut state = state.lock().unwrap();
        if state.throttled < options.throttle_first_submissions {
            state.throttled += 1;
            state.throttled_until = Some(Instant::now() + options.throttle_for);
            return throttled(options.throttle_for);
        }
        if state.refused < options.refuse_first_submissions {
            state.refused += 1;
            let mut response = reply(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"detail": "No runner available", "error_type": "runner_scheduling_failure"}),
            );
            response.headers_mut().insert(
                "x-fal-error-type",
                "runner_scheduling_failure".parse().unwrap(),
            );
            return response;
        }
        state.next_id += 1;
        let fault = state.faults.pop_front();
        let id = format!(
            "{:08x}-5a1f-4c2e-9d3b-{:012x}",
            state.next_id, state.next_id
        );
        let seed = input["seed"].as_i64().unwrap_or(-1);
        state.submissions.submitted(seed);
        state.requests.insert(
            id.clone(),
            Request {
                app: app.to_string(),
                makes: crate::providers::fal::makes(path.trim_start_matches('/')),
                seed,
                prompt: input["prompt"].as_str().unwrap_or_default().to_string(),
                created: Instant::now(),
                canceled: false,
                fails: (fault == Some(SubmitFault::FailsLater))
                    .then(|| echoed("CUDA out of memory")),
                log: echoed("denoising"),
            },
        );
        (id, fault)
    };
    // The request exists at "fal" from here on, whether or not the answer arrives.
    tokio::time::sleep(options.submit_delay).await;
    match fault {
        Some(SubmitFault::BadGateway) => {
            return (
                StatusCode::BAD_GATEWAY,
                [("content-type", "text/html")],
                "<html><body><h1>502 Bad Gateway</h1></body></html>",
            )
                .into_response()
        }
        Some(SubmitFault::Garbled) => {
            return (
                StatusCode::OK,
                [("content-type", "application/json")],
                "{\"status\": \"IN_QU",
            )
                .into_response()
        }
        Some(SubmitFault::Rejected(code)) => {
            let status = StatusCode::from_u16(code).expect("a valid status");
            return reply(status, json!({"detail": "Refused by the stand-in"}));
        }
        Some(SubmitFault::FailsLater) | None => {}
    }
    let base = format!("/{app}/requests/{id}");
    let position = {
        let state = state.lock().unwrap();
        state
            .requests
            .values()
            .filter(|r| matches!(phase(r, options), Phase::Queued))
            .count()
    };
    reply(
        StatusCode::OK,
        json!({
            "status": "IN_QUEUE",
            "request_id": id,
            "response_url": base,
            "status_url": format!("{base}/status"),
            "cancel_url": format!("{base}/cancel"),
            "queue_position": position,
        }),
    )
}

/// The request, if it exists under this app (fal scopes ids by app).
fn lookup<'a>(state: &'a mut State, app: &str, id: &str) -> Option<&'a mut Request> {
    state.requests.get_mut(id).filter(|r| r.app == app)
}

fn not_found() -> Response {
    reply(
        StatusCode::NOT_FOUND,
        json!({"detail": "Request not found"}),
    )
}

fn status(state: &Mutex<State>, options: &StandInOptions, app: &str, id: &str) -> Response {
    let mut state = state.lock().unwrap();
    state.status_polls += 1;
    if let Some(outage) = &state.outage {
        let status = StatusCode::from_u16(outage.status).expect("a valid status");
        let mut response = reply(status, json!({"detail": "Service temporarily unavailable"}));
        if let Some(wait) = outage.retry_after.as_deref() {
            response
                .headers_mut()
                .insert("retry-after", wait.parse().expect("a header value"));
        }
        return response;
    }
    let Some(request) = lookup(&mut state, app, id) else {
        return not_found();
    };
    let seed = request.seed;
    let response = if request.canceled {
        reply(
            StatusCode::OK,
            json!({"status": "COMPLETED", "error": "Request was cancelled", "error_type": "request_cancelled"}),
        )
    } else {
        status_of(request, options)
    };
    state.submissions.polled(seed);
    response
}

fn status_of(request: &Request, options: &StandInOptions) -> Response {
    match phase(request, options) {
        Phase::Queued => reply(
            StatusCode::ACCEPTED,
            json!({"status": "IN_QUEUE", "queue_position": 0}),
        ),
        Phase::Running => {
            // A clip model prints its sampler's progress bar, as the video models on fal do.
            let message = match request.makes {
                Makes::Image => request.log.clone(),
                _ => {
                    let ran = request.created.elapsed().saturating_sub(options.queue_time);
                    let run_time = options.run_time(request.makes).as_secs_f64();
                    let done = ran.as_secs_f64() / run_time.max(1e-3);
                    progress_log(&request.log, done)
                }
            };
            let logs: Vec<Value> = message
                .lines()
                .map(|line| {
                    json!({"message": line, "level": "INFO", "source": "user",
                                   "timestamp": "2026-01-01T00:00:00Z"})
                })
                .collect();
            reply(
                StatusCode::ACCEPTED,
                json!({"status": "IN_PROGRESS", "logs": logs}),
            )
        }
        Phase::Done => match &request.fails {
            Some(error) => reply(
                StatusCode::OK,
                json!({"status": "COMPLETED", "error": error, "error_type": "model_error"}),
            ),
            None => reply(StatusCode::OK, json!({"status": "COMPLETED", "logs": []})),
        },
    }
}

fn result(state: &Mutex<State>, options: &StandInOptions, app: &str, id: &str) -> Response {
    let mut state = state.lock().unwrap();
    let files_base = state.files_base.clone();
    let Some(request) = lookup(&mut state, app, id) else {
        return not_found();
    };
    if !matches!(phase(request, options), Phase::Done) || request.canceled {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({"detail": "Request is still in progress"}),
        );
    }
    let side = options.image_side;
    let file = |ext: &str, mime: &str| {
        json!({"url": format!("{files_base}/{id}.{ext}"), "content_type": mime,
               "file_name": format!("output.{ext}")})
    };
    match request.makes {
        Makes::Video => return reply(StatusCode::OK, json!({"video": file("mp4", "video/mp4")})),
        // Stable Audio names its file `audio_file`; the speech models `audio`.
        Makes::Audio if request.app == "fal-ai/stable-audio" => {
            return reply(
                StatusCode::OK,
                json!({"audio_file": file("wav", "audio/wav")}),
            )
        }
        Makes::Audio => return reply(StatusCode::OK, json!({"audio": file("wav", "audio/wav")})),
        Makes::Image => {}
    }
    reply(
        StatusCode::OK,
        json!({
            "images": [{"url": format!("{files_base}/{id}.png"), "width": side, "height": side,
                        "content_type": "image/png"}],
            "seed": request.seed,
            "has_nsfw_concepts": [false],
            "prompt": request.prompt,
            "timings": {"inference": options.run_time.as_secs_f64()},
        }),
    )
}

fn cancel(state: &Mutex<State>, options: &StandInOptions, app: &str, id: &str) -> Response {
    let mut state = state.lock().unwrap();
    state.cancel_calls.push(id.to_string());
    let Some(request) = lookup(&mut state, app, id) else {
        return reply(StatusCode::NOT_FOUND, json!({"status": "NOT_FOUND"}));
    };
    if matches!(phase(request, options), Phase::Done) {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({"status": "ALREADY_COMPLETED"}),
        );
    }
    request.canceled = true;
    reply(
        StatusCode::ACCEPTED,
        json!({"status": "CANCELLATION_REQUESTED"}),
    )
}

fn file_response(state: &Mutex<State>, options: &StandInOptions, file: &str) -> Response {
    let Some((id, ext)) = file.rsplit_once('.') else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(request) = state.lock().unwrap().requests.get(id).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if request.makes == Makes::Image && ext == "png" {
        let png = result_png(&request.prompt, request.seed, options.image_side);
        return ([("content-type", "image/png")], png).into_response();
    }
    let (bytes, want, mime) = result_clip(request.makes, &request.prompt, request.seed);
    if request.makes == Makes::Image || ext != want {
        return StatusCode::NOT_FOUND.into_response();
    }
    ([("content-type", mime)], bytes).into_response()
}

impl StandIn for FalStandIn {
    fn provider(&self) -> &'static str {
        crate::providers::fal::ID
    }

    fn base_url(&self) -> String {
        FalStandIn::base_url(self)
    }

    fn submissions_per_seed(&self) -> HashMap<i64, usize> {
        FalStandIn::submissions_per_seed(self)
    }

    fn resubmitted_after_poll(&self) -> Vec<i64> {
        FalStandIn::resubmitted_after_poll(self)
    }
}
