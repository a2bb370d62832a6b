//! `comfyui`: a ComfyUI server, running imported workflows ([`workflow`]) as models.
//!
//! - A generation fills the workflow's marked inputs (prompt, seed, parameters; an input
//!   picture is first uploaded with `POST /upload/image`) and queues it with `POST /prompt`
//!   under this process's client id. The answer's `prompt_id` is the request id.
//! - The server reports what it does over its WebSocket (`/ws?clientId=`): `executing` (a node
//!   starts; `null` when the prompt is done), `progress` (a sampler's step), `executed` (a
//!   node's outputs: the pictures' file names), `execution_error`, `execution_interrupted`. A
//!   reader task keeps what it heard per prompt; polls answer from it.
//! - A prompt the reader did not follow (Art Factory restarted, the socket dropped) is looked
//!   up with `GET /queue` (waiting or running) and `GET /history/{id}` (finished): the server
//!   keeps its queue across our restarts, so nothing is queued twice.
//! - Pictures are downloaded with `GET /view?filename=&subfolder=&type=`.
//! - Cancel removes a waiting prompt (`POST /queue {"delete": [id]}`) or interrupts the running
//!   one (`POST /interrupt`).

mod server;
mod socket;
pub mod store;
pub mod workflow;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use serde_json::{json, Value};

use super::http::local::{read_body, server_address};
use super::http::MAX_JSON_BYTES;
use super::http::{client, endpoint};
use super::{
    CancelOutcome, ErrorKind, GenerationRequest, Output, PollStatus, Provider, ProviderError,
    ProviderInfo, RequestRef, Submitted,
};
use server::{error, refusal_words, unreachable, Server};
use socket::{Socket, Track};
pub use workflow::{Candidate, Mark, Role, Workflow, WorkflowError};

pub const ID: &str = "comfyui";
const NAME: &str = "ComfyUI";
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

pub struct ComfyProvider {
    info: ProviderInfo,
    server: Server,
    client_id: String,
    workflows: HashMap<String, Workflow>,
    socket: Socket,
}

impl ComfyProvider {
    /// Connects to the server at `base` (checking it answers) and offers `workflows` as its
    /// models, typed by the server's node catalog.
    pub async fn connect(base: Url, workflows: Vec<Workflow>) -> Result<Self, ProviderError> {
        let http = client(CALL_TIMEOUT);
        let stats = http
            .get(endpoint(&base, &["system_stats"]))
            .timeout(Duration::from_secs(20))
            .send()
            .await
            .map_err(|e| unreachable(&base, &e))?;
        if !stats.status().is_success() {
            return Err(error(
                ErrorKind::Unavailable,
                format!(
                    "its system stats answered {}; is this a ComfyUI server?",
                    stats.status()
                ),
            ));
        }
        let stats: Value = read_body(NAME, &base, stats, MAX_JSON_BYTES)
            .await
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        let version = stats["system"]["comfyui_version"]
            .as_str()
            .map(|v| format!(" {v}"))
            .unwrap_or_default();
        // A server with many custom nodes describes them in several megabytes.
        let object_info: Option<Value> =
            match http.get(endpoint(&base, &["object_info"])).send().await {
                Ok(r) if r.status().is_success() => read_body(NAME, &base, r, MAX_JSON_BYTES * 8)
                    .await
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok()),
                _ => None,
            };
        let models = workflows
            .iter()
            .map(|w| w.model(object_info.as_ref()))
            .collect();
        let client_id = format!("art-factory-{:016x}", rand::random::<u64>());
        Ok(Self {
            info: ProviderInfo {
                id: ID.into(),
                name: NAME.into(),
                description: format!(
                    "Your ComfyUI{version} server at {}, running the workflows you imported.",
                    base.as_str().trim_end_matches('/')
                ),
                remote_queue: true,
                any_model: false,
                models,
            },
            server: Server { base, http },
            client_id,
            workflows: workflows.into_iter().map(|w| (w.name.clone(), w)).collect(),
            socket: Socket::default(),
        })
    }

    fn workflow(&self, model: &str) -> Result<&Workflow, ProviderError> {
        self.workflows.get(model).ok_or_else(|| {
            error(
                ErrorKind::InvalidInput,
                format!(
                    "no imported workflow is named “{}”; import it on the Settings page",
                    model.escape_debug()
                ),
            )
        })
    }
}

#[async_trait::async_trait]
impl Provider for ComfyProvider {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    /// The workflow's hash: a pipeline step's key changes when the workflow does.
    fn model_version(&self, model: &str) -> Option<String> {
        self.workflows.get(model).map(Workflow::version)
    }

    async fn submit(&self, request: &GenerationRequest) -> Result<Submitted, ProviderError> {
        let workflow = self.workflow(&request.model)?;
        let image = self.server.upload(request).await?;
        let graph = workflow.fill(
            &request.prompt,
            &request.negative_prompt,
            request.seed,
            &request.params,
            image.as_deref(),
        );
        // Listening before queueing, so no message of this prompt is missed.
        self.socket.listen(&self.server.base, &self.client_id).await;
        let response = self
            .server
            .http
            .post(endpoint(&self.server.base, &["prompt"]))
            .json(&json!({ "prompt": graph, "client_id": self.client_id }))
            .send()
            .await
            .map_err(|e| unreachable(&self.server.base, &e))?;
        let status = response.status();
        let body = read_body(
            NAME,
            &self.server.base,
            response,
            super::http::MAX_JSON_BYTES,
        )
        .await
        .map_err(ProviderError::maybe_accepted)?;
        let answer: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if status.is_client_error() {
            return Err(error(
                ErrorKind::InvalidInput,
                refusal_words(&answer, workflow),
            ));
        }
        if !status.is_success() {
            return Err(error(
                ErrorKind::Unavailable,
                format!("queueing the workflow answered {status}"),
            )
            .maybe_accepted());
        }
        match answer["prompt_id"].as_str() {
            Some(id) if super::http::plain_id(id) => Ok(Submitted::Queued {
                request_id: id.to_string(),
            }),
            _ => Err(error(
                ErrorKind::Unavailable,
                "queueing the workflow: the answer named no prompt id",
            )
            .maybe_accepted()),
        }
    }

    async fn poll(&self, request: RequestRef<'_>) -> Result<PollStatus, ProviderError> {
        let prompt = request.request_id;
        if !super::http::plain_id(prompt) {
            return Ok(PollStatus::Failed(error(
                ErrorKind::NotFound,
                "not a ComfyUI prompt id",
            )));
        }
        self.socket.listen(&self.server.base, &self.client_id).await;
        if self.socket.listening() {
            let running = self.socket.with_track(prompt, |track| {
                let class = track.node.as_deref().and_then(|n| {
                    let class = self.workflows.get(request.model)?.class_of(n)?;
                    Some(format!("{class} (node {n})"))
                });
                (!track.done).then_some(PollStatus::Running {
                    progress: track.progress,
                    message: class,
                })
            });
            if let Some(Some(running)) = running {
                return Ok(running);
            }
        }
        let heard = self.socket.take_ended(prompt);
        match heard {
            Some(track) if track.interrupted => Ok(PollStatus::Canceled),
            Some(Track { error: Some(e), .. }) => {
                Ok(PollStatus::Failed(error(ErrorKind::InvalidInput, e)))
            }
            // Nothing heard of its pictures (a socket opened late): the history has them.
            Some(track) if track.saved.is_empty() => match self.server.history(prompt).await? {
                Some(status) => Ok(status),
                None => Ok(self.server.finished(&[])),
            },
            Some(track) => Ok(self.server.finished(&track.saved)),
            None => self.server.ask(prompt).await,
        }
    }

    async fn cancel(&self, request: RequestRef<'_>) -> Result<CancelOutcome, ProviderError> {
        let prompt = request.request_id;
        if !super::http::plain_id(prompt) {
            return Ok(CancelOutcome::NotFound);
        }
        match self.server.queued(prompt).await? {
            Some(Some(_)) => {
                self.server
                    .post_json(&["queue"], json!({ "delete": [prompt] }))
                    .await?;
                Ok(CancelOutcome::Requested)
            }
            Some(None) => {
                // Newer servers interrupt only the prompt named; older ones the running one,
                // which is it.
                self.server
                    .post_json(&["interrupt"], json!({ "prompt_id": prompt }))
                    .await?;
                Ok(CancelOutcome::Requested)
            }
            None if self.server.history(prompt).await?.is_some() => {
                Ok(CancelOutcome::AlreadyFinished)
            }
            None => Ok(CancelOutcome::NotFound),
        }
    }

    async fn fetch(&self, output: &Output) -> Result<Vec<u8>, ProviderError> {
        match output {
            Output::Inline { bytes } => Ok(bytes.clone()),
            Output::Url { url, .. } => self.server.picture(url).await,
        }
    }
}

impl std::fmt::Debug for ComfyProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComfyProvider")
            .field("base", &self.server.base.as_str())
            .field("workflows", &self.workflows.len())
            .finish()
    }
}

/// Connects to a configured server with the workflows imported in `data_dir` and adds it to
/// `providers`; what it enabled, and the workflow files it could not read.
pub async fn install(
    providers: &super::Providers,
    base_url: &str,
    data_dir: &Path,
) -> Result<(String, Vec<String>), String> {
    let base = server_address(NAME, base_url, "http://127.0.0.1:8188")?;
    let (workflows, problems) = store::load_all(&store::dir(data_dir));
    let provider = ComfyProvider::connect(base.clone(), workflows)
        .await
        .map_err(|e| e.to_string())?;
    let count = provider.info.models.len();
    providers.add(Arc::new(provider));
    let enabled = format!(
        "ComfyUI at {} is enabled with {count} workflow{}",
        base.as_str().trim_end_matches('/'),
        if count == 1 { "" } else { "s" }
    );
    Ok((enabled, problems))
}
