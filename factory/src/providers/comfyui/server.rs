//! The calls to a ComfyUI server besides queueing: upload an input picture, look a prompt up in
//! the queue and the history, change the queue, and download a picture.

use std::time::Duration;

use reqwest::Url;
use serde_json::Value;

use super::socket::{failure_words, outputs_of, saved_of, Saved};
use super::{Workflow, NAME};
use crate::providers::http::local::read_body;
use crate::providers::http::{check_image, endpoint, multipart_file, MAX_JSON_BYTES};
use crate::providers::{ErrorKind, GenerationRequest, PollStatus, ProviderError};

/// The largest picture downloaded.
const MAX_PICTURE_BYTES: usize = 64 * 1024 * 1024;

pub(super) fn error(kind: ErrorKind, message: impl Into<String>) -> ProviderError {
    ProviderError::new(NAME, kind, message)
}

pub(super) fn unreachable(base: &Url, e: &reqwest::Error) -> ProviderError {
    crate::providers::http::local::unreachable(NAME, base, e, "is it running?")
}

/// Why ComfyUI refused a prompt: its `error` and each node's errors.
pub(super) fn refusal_words(body: &Value, workflow: &Workflow) -> String {
    let mut words = body["error"]["message"]
        .as_str()
        .unwrap_or("the workflow was refused")
        .to_string();
    if let Some(details) = body["error"]["details"].as_str().filter(|d| !d.is_empty()) {
        words.push_str(&format!(" ({details})"));
    }
    if let Some(nodes) = body["node_errors"].as_object() {
        for (node, errors) in nodes {
            let class = workflow.class_of(node).unwrap_or("?");
            for e in errors["errors"].as_array().into_iter().flatten() {
                let message = e["message"].as_str().unwrap_or("refused");
                let details = e["details"].as_str().unwrap_or("");
                words.push_str(&format!("; node {node} ({class}): {message} {details}"));
            }
        }
    }
    words
        .chars()
        .take(600)
        .collect::<String>()
        .trim()
        .to_string()
}

/// A ComfyUI server's address and the client that calls it.
pub(super) struct Server {
    pub base: Url,
    pub http: reqwest::Client,
}

impl Server {
    /// Sends a call (bounded in time) and checks it succeeded; `what` names it in the error.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
    ) -> Result<reqwest::Response, ProviderError> {
        let response = request
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .map_err(|e| unreachable(&self.base, &e))?;
        if !response.status().is_success() {
            return Err(error(
                ErrorKind::Unavailable,
                format!("{what} answered {}", response.status()),
            ));
        }
        Ok(response)
    }

    /// Uploads the input picture; its name on the server.
    pub async fn upload(
        &self,
        request: &GenerationRequest,
    ) -> Result<Option<String>, ProviderError> {
        let Some(input) = &request.input_image else {
            return Ok(None);
        };
        let data = input
            .data
            .as_deref()
            .ok_or_else(|| error(ErrorKind::InvalidInput, "the input picture was not loaded"))?;
        let ext = data.mime.rsplit('/').next().unwrap_or("png");
        let filename = format!("art-factory-{}.{ext}", input.product_id);
        let (content_type, body) = multipart_file("image", &filename, data);
        let request = self
            .http
            .post(endpoint(&self.base, &["upload", "image"]))
            .header("content-type", content_type)
            .body(body);
        let response = self.send(request, "uploading the input picture").await?;
        let answer = read_body(NAME, &self.base, response, MAX_JSON_BYTES).await?;
        let answer: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
        let name = answer["name"].as_str().ok_or_else(|| {
            error(
                ErrorKind::Unavailable,
                "uploading the input picture: no file name came back",
            )
        })?;
        Ok(Some(
            match answer["subfolder"].as_str().filter(|s| !s.is_empty()) {
                Some(folder) => format!("{folder}/{name}"),
                None => name.to_string(),
            },
        ))
    }

    pub async fn get_json(&self, segments: &[&str]) -> Result<Value, ProviderError> {
        let request = self.http.get(endpoint(&self.base, segments));
        let response = self
            .send(request, &format!("/{}", segments.join("/")))
            .await?;
        let bytes = read_body(NAME, &self.base, response, MAX_JSON_BYTES * 8).await?;
        serde_json::from_slice(&bytes).map_err(|e| {
            error(
                ErrorKind::Unavailable,
                format!("/{} could not be read: {e}", segments.join("/")),
            )
        })
    }

    pub async fn post_json(&self, segments: &[&str], body: Value) -> Result<(), ProviderError> {
        let request = self.http.post(endpoint(&self.base, segments)).json(&body);
        self.send(request, &format!("/{}", segments.join("/")))
            .await?;
        Ok(())
    }

    /// Where the prompt is in the server's queue: running, waiting (at this place), or not.
    pub async fn queued(&self, prompt: &str) -> Result<Option<Option<u32>>, ProviderError> {
        let queue = self.get_json(&["queue"]).await?;
        let has = |entry: &Value| entry.get(1).and_then(Value::as_str) == Some(prompt);
        if queue["queue_running"]
            .as_array()
            .into_iter()
            .flatten()
            .any(has)
        {
            return Ok(Some(None));
        }
        let pending = queue["queue_pending"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut ahead: Vec<i64> = Vec::new();
        let mut mine = None;
        for entry in &pending {
            let number = entry.get(0).and_then(Value::as_i64).unwrap_or(0);
            if has(entry) {
                mine = Some(number);
            }
            ahead.push(number);
        }
        Ok(mine.map(|n| Some(ahead.iter().filter(|a| **a < n).count() as u32)))
    }

    /// What the history says of a finished prompt; `None` when it holds no entry for it.
    pub async fn history(&self, prompt: &str) -> Result<Option<PollStatus>, ProviderError> {
        let history = self.get_json(&["history", prompt]).await?;
        let Some(entry) = history.get(prompt) else {
            return Ok(None);
        };
        let messages = entry["status"]["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let said = |name: &str| {
            messages
                .iter()
                .find(|m| m.get(0).and_then(Value::as_str) == Some(name))
                .map(|m| m[1].clone())
        };
        if said("execution_interrupted").is_some() {
            return Ok(Some(PollStatus::Canceled));
        }
        if let Some(data) = said("execution_error") {
            return Ok(Some(PollStatus::Failed(error(
                ErrorKind::InvalidInput,
                failure_words(&data),
            ))));
        }
        if entry["status"]["status_str"].as_str() == Some("error") {
            return Ok(Some(PollStatus::Failed(error(
                ErrorKind::Unavailable,
                "the server reports the workflow failed",
            ))));
        }
        let mut saved = Vec::new();
        if let Some(outputs) = entry["outputs"].as_object() {
            for output in outputs.values() {
                saved.extend(saved_of(&output["images"]));
            }
        }
        Ok(Some(self.finished(&saved)))
    }

    pub fn finished(&self, saved: &[Saved]) -> PollStatus {
        let outputs = outputs_of(&self.base, saved);
        if outputs.is_empty() {
            PollStatus::Failed(error(
                ErrorKind::BadOutput,
                "the workflow finished without a picture; does it end in a Save Image node?",
            ))
        } else {
            PollStatus::Completed(outputs)
        }
    }

    /// Asks the server about a prompt the reader has not seen finish.
    pub async fn ask(&self, prompt: &str) -> Result<PollStatus, ProviderError> {
        // The queue first: ComfyUI records a prompt's history before it leaves the queue, so
        // one in neither is really unknown.
        match self.queued(prompt).await? {
            Some(None) => Ok(PollStatus::Running {
                progress: None,
                message: None,
            }),
            Some(Some(position)) => Ok(PollStatus::Queued {
                position: Some(position),
            }),
            None => match self.history(prompt).await? {
                Some(status) => Ok(status),
                None => Ok(PollStatus::Failed(error(
                    ErrorKind::Unavailable,
                    "the server no longer knows this prompt (was it restarted, or its queue cleared?); it is made again",
                ))),
            },
        }
    }

    /// A picture of this server's (`/view`), checked to be one.
    pub async fn picture(&self, url: &str) -> Result<Vec<u8>, ProviderError> {
        let url = Url::parse(url)
            .map_err(|e| error(ErrorKind::BadOutput, format!("a bad picture address ({e})")))?;
        if url.origin() != self.base.origin() {
            return Err(error(
                ErrorKind::BadOutput,
                "refused a picture from another server",
            ));
        }
        let response = self
            .send(self.http.get(url), "downloading a picture")
            .await?;
        let bytes = read_body(NAME, &self.base, response, MAX_PICTURE_BYTES).await?;
        check_image(NAME, &bytes, None)?;
        Ok(bytes)
    }
}
