//! A stand-in for Civitai on a real local port, for tests: the orchestration API as the
//! official clients speak it (`Authorization: Bearer`, `POST /v1/consumer/jobs?wait=false`
//! answering `{token, jobs: [{jobId, cost, result, scheduled}]}`, `GET /v1/consumer/jobs/{id}`
//! with `lastEvent` and, once done, `result.available` with a `blobUrl`, `DELETE
//! ...?force=true`, problem details, 400 validation problems with `errors`, 402 when out of
//! Buzz, 429 with `Retry-After`, results that expire) and the public catalog
//! (`/api/v1/models` with cursor pages, `/api/v1/model-versions/{id}`) with preview images.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};

use super::standin::{bind, result_png, Served, StandIn, Submissions};
use crate::providers::civitai::air::Air;

#[derive(Debug, Clone)]
pub struct CivitaiStandInOptions {
    pub token: String,
    /// How long a job waits for a worker, then runs.
    pub queue_time: Duration,
    pub run_time: Duration,
    /// A pause after a job is recorded and before it is answered.
    pub submit_delay: Duration,
    pub image_side: u32,
    /// Every submission is refused with 402 (no Buzz left).
    pub out_of_credit: bool,
    /// This many submissions are throttled (429 with `Retry-After`), and every request in the
    /// window that follows.
    pub throttle_first_submissions: usize,
    pub throttle_for: Duration,
    /// The Buzz one job costs.
    pub cost: f64,
}

impl Default for CivitaiStandInOptions {
    fn default() -> Self {
        Self {
            token: "civitai_standin_token_5a6b7c8d".into(),
            queue_time: Duration::from_millis(50),
            run_time: Duration::from_millis(100),
            submit_delay: Duration::ZERO,
            image_side: 64,
            out_of_credit: false,
            throttle_first_submissions: 0,
            throttle_for: Duration::from_secs(1),
            cost: 1.2,
        }
    }
}

#[derive(Debug, Clone)]
struct Job {
    seed: i64,
    prompt: String,
    created: Instant,
    deleted: bool,
    /// The whole request, for tests that check what was sent.
    body: Value,
}

#[derive(Debug, Default)]
struct State {
    jobs: HashMap<String, Job>,
    submissions: Submissions,
    throttled: usize,
    throttled_until: Option<Instant>,
    next_id: u64,
    base: String,
    log: Vec<(Instant, String)>,
}

pub struct CivitaiStandIn {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    _server: Served,
}

impl CivitaiStandIn {
    pub async fn start(options: CivitaiStandInOptions) -> Self {
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

    /// The orchestration API's base, as the adapter is configured with it.
    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The catalog's base.
    pub fn catalog_url(&self) -> String {
        format!("http://{}/api/v1", self.addr)
    }

    /// Forgets a job, as Civitai does once its result expired.
    pub fn expire(&self, id: &str) {
        self.state.lock().unwrap().jobs.remove(id);
    }

    /// Jobs deleted (cancelled) through the API.
    pub fn canceled(&self) -> usize {
        let state = self.state.lock().unwrap();
        state.jobs.values().filter(|j| j.deleted).count()
    }

    /// What each job was sent, in no particular order.
    pub fn bodies(&self) -> Vec<Value> {
        let state = self.state.lock().unwrap();
        state.jobs.values().map(|j| j.body.clone()).collect()
    }

    /// Every request so far with when it arrived: `METHOD path status`.
    pub fn requests(&self) -> Vec<(Instant, String)> {
        self.state.lock().unwrap().log.clone()
    }
}

impl StandIn for CivitaiStandIn {
    fn provider(&self) -> &'static str {
        crate::providers::civitai::ID
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

fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    let mut response = reply(
        status,
        json!({"type": format!("https://httpstatuses.io/{}", status.as_u16()),
               "title": title, "status": status.as_u16(), "detail": detail}),
    );
    response.headers_mut().insert(
        "content-type",
        "application/problem+json".parse().expect("a header value"),
    );
    response
}

async fn route(
    state: &Mutex<State>,
    options: &CivitaiStandInOptions,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let segments: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    let query: HashMap<String, String> = uri
        .query()
        .map(|q| {
            url_pairs(q)
                .into_iter()
                .collect::<HashMap<String, String>>()
        })
        .unwrap_or_default();
    let response = match (&method, segments.as_slice()) {
        // Blobs and the catalog are public.
        (&Method::GET, ["blobs", key]) => blob(state, options, key),
        (&Method::GET, ["previews", name]) => preview(name),
        (&Method::GET, ["api", "v1", "models"]) => catalog_page(state, &query),
        (&Method::GET, ["api", "v1", "model-versions", id]) => catalog_version(state, id),
        _ if headers.get("authorization").and_then(|v| v.to_str().ok())
            != Some(format!("Bearer {}", options.token).as_str()) =>
        {
            problem(
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "The API token is not valid.",
            )
        }
        _ if throttled_for(state).is_some() => throttled(throttled_for(state).unwrap_or_default()),
        (&Method::POST, ["v1", "consumer", "jobs"]) => submit(state, options, &body).await,
        (&Method::GET, ["v1", "consumer", "jobs", id]) => status(state, options, id),
        (&Method::DELETE, ["v1", "consumer", "jobs", id]) => {
            let mut state = state.lock().unwrap();
            match state.jobs.get_mut(*id) {
                Some(job) => {
                    job.deleted = true;
                    StatusCode::OK.into_response()
                }
                None => problem(StatusCode::NOT_FOUND, "Not Found", "No such job."),
            }
        }
        _ => problem(StatusCode::NOT_FOUND, "Not Found", "Not found."),
    };
    state.lock().unwrap().log.push((
        Instant::now(),
        format!("{method} {} {}", uri.path(), response.status().as_u16()),
    ));
    response
}

fn url_pairs(query: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(&format!("http://x/?{query}"))
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default()
}

fn throttled_for(state: &Mutex<State>) -> Option<Duration> {
    let until = state.lock().unwrap().throttled_until?;
    until.checked_duration_since(Instant::now())
}

fn throttled(left: Duration) -> Response {
    let seconds = left.as_secs_f64().ceil().max(1.0) as u64;
    let mut response = problem(
        StatusCode::TOO_MANY_REQUESTS,
        "Too Many Requests",
        "Rate limit exceeded.",
    );
    response.headers_mut().insert(
        "retry-after",
        seconds.to_string().parse().expect("a header value"),
    );
    response
}

async fn submit(state: &Mutex<State>, options: &CivitaiStandInOptions, body: &[u8]) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            "The body is not JSON.",
        );
    };
    let mut errors = serde_json::Map::new();
    let mut invalid = |field: &str, message: &str| {
        errors.insert(field.to_string(), json!([message]));
    };
    if request["$type"] != "textToImage" {
        invalid("$type", "Only textToImage jobs are supported.");
    }
    if request["model"]
        .as_str()
        .and_then(|m| Air::parse(m).ok())
        .is_none()
    {
        invalid("model", "The model must be an AIR.");
    }
    let params = &request["params"];
    if params["prompt"].as_str().is_none_or(str::is_empty) {
        invalid("params.prompt", "The prompt field is required.");
    }
    if let Some(steps) = params.get("steps") {
        if !steps.as_i64().is_some_and(|s| (1..=150).contains(&s)) {
            invalid("params.steps", "The field steps must be between 1 and 150.");
        }
    }
    for (air, network) in request["additionalNetworks"]
        .as_object()
        .into_iter()
        .flatten()
    {
        if Air::parse(air).is_err() {
            invalid(
                &format!("additionalNetworks.{air}"),
                "The key must be an AIR.",
            );
        }
        if !network["strength"]
            .as_f64()
            .is_some_and(|s| (-1.0..=2.0).contains(&s))
        {
            invalid(
                &format!("additionalNetworks.{air}.strength"),
                "The strength must be between -1 and 2.",
            );
        }
    }
    if !errors.is_empty() {
        let mut response = reply(
            StatusCode::BAD_REQUEST,
            json!({"type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
                   "title": "One or more validation errors occurred.", "status": 400,
                   "errors": errors}),
        );
        response.headers_mut().insert(
            "content-type",
            "application/problem+json".parse().expect("a header value"),
        );
        return response;
    }
    if options.out_of_credit {
        return problem(
            StatusCode::PAYMENT_REQUIRED,
            "Payment Required",
            "Insufficient Buzz to run this job.",
        );
    }
    let id = {
        let mut state = state.lock().unwrap();
        if state.throttled < options.throttle_first_submissions {
            state.throttled += 1;
            state.throttled_until = Some(Instant::now() + options.throttle_for);
            return throttled(options.throttle_for);
        }
        state.next_id += 1;
        let n = state.next_id;
        let id = format!(
            "{:08x}-{:04x}-4000-8000-{:012x}",
            n * 2_654_435_761 % (1 << 32),
            n,
            n
        );
        let seed = params["seed"].as_i64().unwrap_or(-1);
        state.submissions.submitted(seed);
        state.jobs.insert(
            id.clone(),
            Job {
                seed,
                prompt: params["prompt"].as_str().unwrap_or_default().to_string(),
                created: Instant::now(),
                deleted: false,
                body: request.clone(),
            },
        );
        id
    };
    tokio::time::sleep(options.submit_delay).await;
    reply(
        StatusCode::OK,
        json!({
            "token": format!("W3sidGVzdCI6IHRydWV9XQ{id}"),
            "jobs": [{
                "jobId": id,
                "cost": options.cost,
                "result": {"blobKey": blob_key(&id), "available": false},
                "scheduled": true,
            }],
        }),
    )
}

fn blob_key(id: &str) -> String {
    id.replace('-', "").to_ascii_uppercase()
}

fn status(state: &Mutex<State>, options: &CivitaiStandInOptions, id: &str) -> Response {
    let mut state = state.lock().unwrap();
    let Some(job) = state.jobs.get(id).cloned() else {
        return problem(StatusCode::NOT_FOUND, "Not Found", "No such job.");
    };
    state.submissions.polled(job.seed);
    let age = job.created.elapsed();
    let key = blob_key(id);
    let (event, scheduled, result) = if job.deleted {
        (
            "Deleted",
            false,
            json!({"blobKey": key, "available": false}),
        )
    } else if age < options.queue_time {
        (
            "Initialized",
            true,
            json!({"blobKey": key, "available": false}),
        )
    } else if age < options.queue_time + options.run_time {
        ("Claimed", true, json!({"blobKey": key, "available": false}))
    } else {
        (
            "Succeeded",
            false,
            json!({"blobKey": key, "available": true,
                   "blobUrl": format!("{}/blobs/{key}", state.base)}),
        )
    };
    reply(
        StatusCode::OK,
        json!({
            "jobId": id,
            "cost": options.cost,
            "result": result,
            "lastEvent": {"jobId": id, "type": event, "dateTime": "2026-11-30T12:00:00Z",
                          "jobType": "TextToImage", "jobHasCompleted": event == "Succeeded"},
            "serviceProviders": {},
            "scheduled": scheduled,
        }),
    )
}

fn blob(state: &Mutex<State>, options: &CivitaiStandInOptions, key: &str) -> Response {
    let state = state.lock().unwrap();
    let Some(job) = state
        .jobs
        .iter()
        .find(|(id, _)| blob_key(id) == key)
        .map(|(_, j)| j)
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let png = result_png(&job.prompt, job.seed, options.image_side);
    ([("content-type", "image/png")], png).into_response()
}

fn preview(name: &str) -> Response {
    let seed: i64 = name.trim_end_matches(".png").parse().unwrap_or(0);
    let png = result_png("a preview", seed, 48);
    ([("content-type", "image/png")], png).into_response()
}

/// The catalog: (model id, name, type, creator, [(version id, version name, base model, trained words)]).
type Entry = (
    u64,
    &'static str,
    &'static str,
    &'static str,
    &'static [(u64, &'static str, &'static str)],
);
const CATALOG: &[Entry] = &[
    (
        101055,
        "SD XL",
        "Checkpoint",
        "stabilityai",
        &[(128078, "v1.0 VAE fix", "SDXL 1.0")],
    ),
    (
        4384,
        "DreamShaper",
        "Checkpoint",
        "Lykon",
        &[(128713, "8", "SD 1.5"), (109123, "7", "SD 1.5")],
    ),
    (
        133005,
        "Juggernaut XL",
        "Checkpoint",
        "KandooAI",
        &[(357609, "v9", "SDXL 1.0")],
    ),
    (
        58390,
        "Detail Tweaker LoRA",
        "LORA",
        "OedoSoldier",
        &[(62833, "v1.0", "SD 1.5")],
    ),
    (
        122359,
        "Detail Tweaker XL",
        "LORA",
        "OedoSoldier",
        &[(135867, "v1.0", "SDXL 1.0")],
    ),
    (
        47274,
        "Pixel Art XL",
        "LORA",
        "nerijs",
        &[(135931, "v1.1", "SDXL 1.0")],
    ),
];

fn version_json(base: &str, model_id: u64, api_type: &str, v: &(u64, &str, &str)) -> Value {
    let (id, name, base_model) = *v;
    let ecosystem = if base_model == "SD 1.5" {
        "sd1"
    } else {
        "sdxl"
    };
    let kind = if api_type == "LORA" {
        "lora"
    } else {
        "checkpoint"
    };
    json!({
        "id": id, "modelId": model_id, "name": name, "baseModel": base_model,
        "air": format!("urn:air:{ecosystem}:{kind}:civitai:{model_id}@{id}"),
        "trainedWords": if api_type == "LORA" { json!(["detailed"]) } else { json!([]) },
        "images": [
            {"url": format!("{base}/previews/{id}.mp4"), "type": "video", "nsfwLevel": 1},
            {"url": format!("{base}/previews/{id}.png"), "type": "image", "nsfwLevel": 1,
             "width": 48, "height": 48}
        ],
    })
}

fn catalog_page(state: &Mutex<State>, query: &HashMap<String, String>) -> Response {
    let base = state.lock().unwrap().base.clone();
    let text = query
        .get("query")
        .map(|q| q.to_ascii_lowercase())
        .unwrap_or_default();
    let wanted_type = query.get("types").cloned();
    let base_model = query.get("baseModels").cloned();
    let limit: usize = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(20)
        .clamp(1, 100);
    let start: usize = query
        .get("cursor")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let matching: Vec<&Entry> = CATALOG
        .iter()
        .filter(|(_, name, api_type, _, versions)| {
            name.to_ascii_lowercase().contains(&text)
                && wanted_type.as_deref().is_none_or(|t| t == *api_type)
                && base_model
                    .as_deref()
                    .is_none_or(|b| versions.iter().any(|(_, _, vb)| *vb == b))
        })
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(limit)
        .map(|(id, name, api_type, creator, versions)| {
            json!({
                "id": id, "name": name, "type": api_type, "nsfw": false,
                "creator": {"username": creator},
                "modelVersions": versions.iter().map(|v| version_json(&base, *id, api_type, v)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let next = start + page.len();
    let metadata = if next < matching.len() {
        json!({"nextCursor": next.to_string(), "nextPage": format!("{base}/api/v1/models?cursor={next}")})
    } else {
        json!({})
    };
    reply(StatusCode::OK, json!({"items": page, "metadata": metadata}))
}

fn catalog_version(state: &Mutex<State>, id: &str) -> Response {
    let base = state.lock().unwrap().base.clone();
    let found = CATALOG
        .iter()
        .find_map(|(model_id, name, api_type, _, versions)| {
            versions
                .iter()
                .find(|v| v.0.to_string() == id)
                .map(|v| (model_id, name, api_type, v))
        });
    match found {
        Some((model_id, name, api_type, v)) => {
            let mut body = version_json(&base, *model_id, api_type, v);
            body["model"] = json!({"name": name, "type": api_type, "nsfw": false});
            reply(StatusCode::OK, body)
        }
        None => reply(
            StatusCode::NOT_FOUND,
            json!({"error": format!("No model version with id {id}")}),
        ),
    }
}
