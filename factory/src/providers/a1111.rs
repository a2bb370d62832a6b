//! `a1111`: a local AUTOMATIC1111 or Forge server, through its API (`--api`).
//!
//! - Models are the server's checkpoints (`GET /sdapi/v1/sd-models`), read when the provider is
//!   connected; each is offered by its title, and its short hash is the model's version (a
//!   pipeline step's cache key changes when the checkpoint file does).
//! - A generation is one `POST /sdapi/v1/txt2img` (or `img2img`, with the input picture as
//!   base64 in `init_images` and `denoising_strength`) with the checkpoint in
//!   `override_settings.sd_model_checkpoint`; the answer holds the pictures as base64 and an
//!   `info` JSON string. The server answers only when the picture is done, so the call runs in
//!   a task of this process while polls read `GET /sdapi/v1/progress`.
//! - Cancel is `POST /sdapi/v1/interrupt`. The server keeps no queue of ours across a restart of
//!   Art Factory: a generation caught by one is made again (it costs nothing).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use reqwest::Url;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tokio::task::JoinHandle;

use super::http::{client, endpoint};
use super::{
    CancelOutcome, Capability, ErrorKind, GenerationRequest, ModelInfo, Output, ParamSpec,
    PollStatus, Provider, ProviderError, ProviderInfo, RequestRef, Submitted,
};

pub const ID: &str = "a1111";
const NAME: &str = "AUTOMATIC1111";
/// A generation may take minutes on a slow GPU.
const GENERATION_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// The largest answer read: a few pictures as base64.
const MAX_ANSWER_BYTES: usize = 256 * 1024 * 1024;

/// One checkpoint as the server lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct Checkpoint {
    pub title: String,
    pub model_name: String,
    #[serde(default)]
    pub hash: Option<String>,
}

/// One `txt2img`/`img2img` call under way in this process.
type Generation = JoinHandle<Result<Vec<Output>, ProviderError>>;

pub struct A1111Provider {
    info: ProviderInfo,
    base: Url,
    http: reqwest::Client,
    /// Checkpoint title -> its short hash.
    hashes: HashMap<String, String>,
    /// Generations running in this process, by the request id handed out for them.
    running: Mutex<HashMap<String, Generation>>,
    next: AtomicU64,
}

fn error(kind: ErrorKind, message: impl Into<String>) -> ProviderError {
    ProviderError::new(NAME, kind, message)
}

fn unreachable(base: &Url, e: &reqwest::Error) -> ProviderError {
    super::http::local::unreachable(NAME, base, e, "is it running with --api?")
}

/// The parameters every checkpoint takes.
fn params() -> Vec<ParamSpec> {
    vec![
        ParamSpec::integer("width", "Width", "Image width in pixels.", 512, 64, 2048, 8),
        ParamSpec::integer(
            "height",
            "Height",
            "Image height in pixels.",
            512,
            64,
            2048,
            8,
        ),
        ParamSpec::integer("steps", "Steps", "Sampling steps.", 20, 1, 150, 1),
        ParamSpec::float(
            "cfg_scale",
            "Guidance",
            "How closely to follow the prompt.",
            7.0,
            1.0,
            30.0,
        ),
        ParamSpec::choice(
            "sampler_name",
            "Sampler",
            "The sampling method.",
            "Euler a",
            &["Euler a", "Euler", "DPM++ 2M", "DPM++ SDE", "DDIM", "UniPC"],
        ),
        ParamSpec::float(
            "denoising_strength",
            "Strength",
            "With an input picture: how far to move away from it (0 keeps it, 1 ignores it).",
            0.75,
            0.0,
            1.0,
        ),
    ]
}

impl A1111Provider {
    /// Connects to the server at `base` and reads its checkpoints.
    pub async fn connect(base: Url) -> Result<Self, ProviderError> {
        let http = client(GENERATION_TIMEOUT);
        let listing = http
            .get(endpoint(&base, &["sdapi", "v1", "sd-models"]))
            .timeout(Duration::from_secs(20))
            .send()
            .await
            .map_err(|e| unreachable(&base, &e))?;
        if !listing.status().is_success() {
            return Err(error(
                ErrorKind::Unavailable,
                format!(
                    "listing its checkpoints answered {} (is the API on? start it with --api)",
                    listing.status()
                ),
            ));
        }
        let checkpoints: Vec<Checkpoint> = listing.json().await.map_err(|e| {
            error(
                ErrorKind::Unavailable,
                format!("its list of checkpoints could not be read: {e}"),
            )
        })?;
        Ok(Self::with_checkpoints(base, http, checkpoints))
    }

    fn with_checkpoints(base: Url, http: reqwest::Client, checkpoints: Vec<Checkpoint>) -> Self {
        let models = checkpoints
            .iter()
            .map(|c| ModelInfo {
                id: c.title.clone(),
                name: c.model_name.clone(),
                description: format!("A checkpoint on the AUTOMATIC1111 server ({}).", c.title),
                capability: Capability::TextToImage,
                negative_prompt: true,
                image_input: Some("init_images".into()),
                image_strength: Some("denoising_strength".into()),
                networks: false,
                inputs: Default::default(),
                params: params(),
            })
            .collect();
        let hashes = checkpoints
            .into_iter()
            .filter_map(|c| Some((c.title, c.hash?)))
            .collect();
        Self {
            info: ProviderInfo {
                id: ID.into(),
                name: "AUTOMATIC1111 / Forge".into(),
                description: format!(
                    "Your own Stable Diffusion server at {}, through its API.",
                    base.as_str().trim_end_matches('/')
                ),
                remote_queue: false,
                any_model: false,
                models,
            },
            base,
            http,
            hashes,
            running: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
        }
    }

    /// The body of a txt2img or img2img call.
    fn body(request: &GenerationRequest) -> Result<(Value, &'static str), ProviderError> {
        let mut body = Map::new();
        for (name, value) in &request.params {
            if name != "denoising_strength" || request.input_image.is_some() {
                body.insert(name.clone(), value.clone());
            }
        }
        body.insert("prompt".into(), json!(request.prompt));
        body.insert("negative_prompt".into(), json!(request.negative_prompt));
        body.insert("seed".into(), json!(request.seed));
        body.insert("batch_size".into(), json!(1));
        body.insert("n_iter".into(), json!(1));
        body.insert("send_images".into(), json!(true));
        body.insert("save_images".into(), json!(false));
        body.insert(
            "override_settings".into(),
            json!({ "sd_model_checkpoint": request.model }),
        );
        let call = match &request.input_image {
            None => "txt2img",
            Some(input) => {
                let data = input.data.as_deref().ok_or_else(|| {
                    error(ErrorKind::InvalidInput, "the input picture was not loaded")
                })?;
                let encoded = base64::engine::general_purpose::STANDARD.encode(&data.bytes);
                body.insert("init_images".into(), json!([encoded]));
                "img2img"
            }
        };
        Ok((Value::Object(body), call))
    }
}

#[derive(Deserialize)]
struct Generated {
    #[serde(default)]
    images: Vec<String>,
}

/// Sends one generation and reads its pictures.
async fn generate(
    http: reqwest::Client,
    base: Url,
    call: &'static str,
    body: Value,
) -> Result<Vec<Output>, ProviderError> {
    let response = http
        .post(endpoint(&base, &["sdapi", "v1", call]))
        .json(&body)
        .send()
        .await
        .map_err(|e| unreachable(&base, &e))?;
    let status = response.status();
    let bytes = super::http::local::read_body(NAME, &base, response, MAX_ANSWER_BYTES).await?;
    if !status.is_success() {
        // FastAPI's {"detail": ...} (or {"error", "errors"}) says what was wrong.
        let detail = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| {
                v.get("detail")
                    .or_else(|| v.get("errors"))
                    .or_else(|| v.get("error"))
                    .map(|d| match d {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
            })
            .unwrap_or_else(|| format!("status {status}"));
        let kind = if status.is_client_error() {
            ErrorKind::InvalidInput
        } else {
            ErrorKind::Unavailable
        };
        let detail: String = detail.chars().take(300).collect();
        return Err(error(kind, format!("{call} failed: {detail}")));
    }
    let generated: Generated = serde_json::from_slice(&bytes).map_err(|e| {
        error(
            ErrorKind::BadOutput,
            format!("its answer could not be read: {e}"),
        )
    })?;
    if generated.images.is_empty() {
        return Err(error(ErrorKind::BadOutput, "it answered without a picture"));
    }
    generated
        .images
        .iter()
        .map(|b64| {
            // Some versions answer data URIs; most plain base64.
            let data = b64.rsplit_once(',').map_or(b64.as_str(), |(_, d)| d);
            base64::engine::general_purpose::STANDARD
                .decode(data)
                .map(|bytes| Output::Inline { bytes })
                .map_err(|_| error(ErrorKind::BadOutput, "a picture was not valid base64"))
        })
        .collect()
}

#[derive(Deserialize)]
struct Progress {
    #[serde(default)]
    progress: Option<f32>,
}

#[async_trait::async_trait]
impl Provider for A1111Provider {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    /// The checkpoint's short hash: a pipeline step's key changes when the file does.
    fn model_version(&self, model: &str) -> Option<String> {
        self.hashes.get(model).cloned()
    }

    async fn submit(&self, request: &GenerationRequest) -> Result<Submitted, ProviderError> {
        let (body, call) = Self::body(request)?;
        let id = format!("a1111-{}", self.next.fetch_add(1, Ordering::Relaxed));
        let task = tokio::spawn(generate(self.http.clone(), self.base.clone(), call, body));
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), task);
        Ok(Submitted::Queued { request_id: id })
    }

    async fn poll(&self, request: RequestRef<'_>) -> Result<PollStatus, ProviderError> {
        let finished = {
            let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
            match running.get(request.request_id) {
                None => {
                    return Ok(PollStatus::Failed(error(
                        ErrorKind::Unavailable,
                        "Art Factory restarted while the server generated this picture; it is made again",
                    )))
                }
                Some(task) if task.is_finished() => running.remove(request.request_id),
                Some(_) => None,
            }
        };
        if let Some(task) = finished {
            return match task.await {
                Ok(Ok(outputs)) => Ok(PollStatus::Completed(outputs)),
                Ok(Err(e)) => Ok(PollStatus::Failed(e)),
                Err(e) => Ok(PollStatus::Failed(error(
                    ErrorKind::Unavailable,
                    format!("the call stopped unexpectedly: {e}"),
                ))),
            };
        }
        // The server reports the progress of what it is doing now (one generation at a time).
        let mut url = endpoint(&self.base, &["sdapi", "v1", "progress"]);
        url.set_query(Some("skip_current_image=true"));
        let progress = self
            .http
            .get(url)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| unreachable(&self.base, &e))?
            .json::<Progress>()
            .await
            .ok()
            .and_then(|p| p.progress);
        Ok(PollStatus::Running {
            progress,
            message: None,
        })
    }

    async fn cancel(&self, request: RequestRef<'_>) -> Result<CancelOutcome, ProviderError> {
        let running = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(request.request_id);
        if !running {
            return Ok(CancelOutcome::NotFound);
        }
        self.http
            .post(endpoint(&self.base, &["sdapi", "v1", "interrupt"]))
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| unreachable(&self.base, &e))?;
        Ok(CancelOutcome::Requested)
    }
}

impl std::fmt::Debug for A1111Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("A1111Provider")
            .field("base", &self.base.as_str())
            .finish()
    }
}

/// Connects to a configured server and adds it to `providers` (for the app's start-up); what
/// went wrong, in words for the log, when it cannot.
pub async fn install(providers: &super::Providers, base_url: &str) -> Result<String, String> {
    let base = super::http::local::server_address(NAME, base_url, "http://127.0.0.1:7860")?;
    let provider = A1111Provider::connect(base.clone())
        .await
        .map_err(|e| e.to_string())?;
    let count = provider.info.models.len();
    providers.add(Arc::new(provider));
    Ok(format!(
        "AUTOMATIC1111 at {} is enabled with {count} checkpoint{}",
        base.as_str().trim_end_matches('/'),
        if count == 1 { "" } else { "s" }
    ))
}
