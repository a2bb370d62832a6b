//! `replicate`: Replicate's HTTP API v1.
//!
//! An official model is run with `POST {base}/models/{owner}/{name}/predictions {input}`, a
//! model pinned by version (`owner/name:version`) with `POST {base}/predictions {version,
//! input}`; both answer a prediction whose `id` is the request id. `GET
//! {base}/predictions/{id}` reports `starting`, `processing` (with the model's log, whose last
//! progress bar is the progress), `succeeded` (the output: one URL or a list), `failed` or
//! `canceled`; `POST .../cancel` cancels. Outputs are deleted about an hour after completion,
//! so they are fetched at once. See `../shared/PROVIDERS.md`.

mod models;
pub mod schema;

use models::info;
pub use models::ASPECT_RATIOS;

use std::time::Duration;

use reqwest::{StatusCode, Url};
use serde::Deserialize;
use serde_json::{json, Value};

use super::http::{self, FileHosts, Refusal};
use super::{
    CancelOutcome, ErrorKind, GenerationRequest, InputImage, ModelInfo, Output, PollStatus,
    Provider, ProviderError, ProviderInfo, ReportedCost, RequestRef, Submitted,
};
use crate::secret::Secret;

pub const ID: &str = "replicate";
pub const NAME: &str = "Replicate";
pub const DEFAULT_BASE_URL: &str = "https://api.replicate.com/v1";
/// Domains Replicate serves outputs from.
const FILE_DOMAINS: &[&str] = &["replicate.delivery", "replicate.com"];

#[derive(Debug, Clone)]
pub struct ReplicateConfig {
    /// An API token (`r8_...`).
    pub token: Secret,
    /// `https://api.replicate.com/v1` unless set (tests, proxies).
    pub base_url: Option<String>,
    /// How long one HTTP call may take; [`http::DEFAULT_TIMEOUT`] unless set.
    pub timeout: Option<Duration>,
}

pub struct ReplicateProvider {
    info: ProviderInfo,
    client: reqwest::Client,
    base: Url,
    token: Secret,
    files: FileHosts,
}

impl ReplicateProvider {
    pub fn new(config: ReplicateConfig) -> Result<Self, String> {
        let base = http::base_url(NAME, config.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL))?;
        Ok(Self {
            info: info(),
            client: http::client(config.timeout.unwrap_or(http::DEFAULT_TIMEOUT)),
            files: FileHosts::new(&base, FILE_DOMAINS),
            base,
            token: config.token,
        })
    }

    async fn send(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ProviderError> {
        let authorization = http::authorization(format!("Bearer {}", self.token.expose()));
        http::send(NAME, &self.token, authorization, builder).await
    }

    /// `{base}/predictions/{id}/{tail...}`, for an id that is safe in a path.
    fn prediction_url(&self, id: &str, tail: &[&str]) -> Result<Url, ProviderError> {
        if !http::plain_id(id) {
            return Err(ProviderError::new(
                NAME,
                ErrorKind::NotFound,
                format!("“{}” is not a Replicate prediction id", id.escape_debug()),
            ));
        }
        let mut segments = vec!["predictions", id];
        segments.extend_from_slice(tail);
        Ok(http::endpoint(&self.base, &segments))
    }

    /// Where Replicate finds an input image: inline for a small one, else uploaded with `POST
    /// /files` (multipart, field `content`) and named by the file's `urls.get`.
    async fn image_url(&self, image: &InputImage) -> Result<String, ProviderError> {
        let data = match http::inline_input(NAME, image)? {
            (_, Some(inline)) => return Ok(inline),
            (data, None) => data,
        };
        let ext = data.mime.rsplit('/').next().unwrap_or("png");
        let (content_type, body) = http::multipart_file("content", &format!("input.{ext}"), data);
        let request = self
            .client
            .post(http::endpoint(&self.base, &["files"]))
            .header("content-type", content_type)
            .body(body);
        let response = self.send(request).await?;
        if !response.status().is_success() {
            return Err(self.refused(response, "uploading the input image").await);
        }
        let file: Value =
            http::read_json(NAME, &self.token, response, "uploading the input image").await?;
        file["urls"]["get"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| {
                ProviderError::new(
                    NAME,
                    ErrorKind::Unavailable,
                    "uploading the input image: Replicate named no file URL",
                )
            })
    }

    async fn refused(&self, response: reqwest::Response, what: &str) -> ProviderError {
        Refusal::read(response, &self.token)
            .await
            .into_error(NAME, what)
    }

    async fn prediction(
        &self,
        response: reqwest::Response,
        what: &str,
    ) -> Result<Prediction, ProviderError> {
        http::read_json(NAME, &self.token, response, what).await
    }
}

/// `owner/name` or `owner/name:version`, each part plain (letters, digits, `-`, `_`, `.`), so
/// a model reference never becomes path syntax.
pub fn model_reference(model: &str) -> Option<(&str, &str, Option<&str>)> {
    let (path, version) = match model.split_once(':') {
        Some((path, version)) => (path, Some(version)),
        None => (model, None),
    };
    let (owner, name) = path.split_once('/')?;
    let plain = |s: &str| {
        !s.is_empty()
            && s.len() <= 100
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && s != "."
            && s != ".."
    };
    let version_ok = version.is_none_or(|v| {
        !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    (plain(owner) && plain(name) && version_ok).then_some((owner, name, version))
}

/// What a listed model makes (a picture for one not listed).
pub fn makes(model: &str) -> super::Makes {
    models::info()
        .model(model)
        .map_or(super::Makes::Image, |m| m.capability.makes())
}

/// The model input, with `num_outputs` asking for one result per job.
pub fn input(info: &ProviderInfo, request: &GenerationRequest) -> Value {
    let (inputs, counted) = info.request_shape(&request.model);
    request.model_input(&inputs, counted.then_some("num_outputs"))
}

/// A prediction, as far as the adapter reads it.
#[derive(Debug, Deserialize)]
struct Prediction {
    id: String,
    status: String,
    #[serde(default)]
    logs: Option<String>,
    #[serde(default)]
    output: Value,
    #[serde(default)]
    error: Value,
    #[serde(default)]
    metrics: Value,
}

/// A finished prediction's output: one URL, or a list of them.
fn outputs(output: &Value) -> Vec<Output> {
    let url = |v: &Value| {
        v.as_str().map(|u| Output::Url {
            url: u.to_string(),
            declared_mime: None,
        })
    };
    match output {
        Value::Array(items) => items.iter().filter_map(url).collect(),
        other => url(other).into_iter().collect(),
    }
}

#[async_trait::async_trait]
impl Provider for ReplicateProvider {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    /// `GET /models/{owner}/{name}` (its `latest_version`) or `GET
    /// /models/{owner}/{name}/versions/{id}`, then the version's `openapi_schema` mapped by
    /// [`schema`]. The model is pinned to the version read, so what runs is what was described.
    async fn describe_model(&self, reference: &str) -> Result<ModelInfo, ProviderError> {
        let Some((owner, name, version)) = model_reference(reference) else {
            return Err(ProviderError::new(
                NAME,
                ErrorKind::InvalidInput,
                format!(
                    "“{}” is not a Replicate model reference: write owner/name, or owner/name:version",
                    reference.escape_debug()
                ),
            ));
        };
        let path = format!("{owner}/{name}");
        let url = match version {
            None => http::endpoint(&self.base, &["models", owner, name]),
            Some(v) => http::endpoint(&self.base, &["models", owner, name, "versions", v]),
        };
        let response = self.send(self.client.get(url)).await?;
        if response.status() == StatusCode::NOT_FOUND {
            let what = match version {
                None => {
                    format!("Replicate has no model “{path}” (or it is private to another account)")
                }
                Some(v) => format!("Replicate has no version “{v}” of “{path}”"),
            };
            return Err(ProviderError::new(NAME, ErrorKind::NotFound, what));
        }
        if !response.status().is_success() {
            return Err(self.refused(response, "reading the model").await);
        }
        let body: Value = http::read_json(NAME, &self.token, response, "reading the model").await?;
        let (version_body, description) = match version {
            None => (
                &body["latest_version"],
                body["description"].as_str().unwrap_or(""),
            ),
            Some(_) => (&body, ""),
        };
        let Some(version_id) = version_body["id"].as_str().filter(|v| http::plain_id(v)) else {
            return Err(ProviderError::new(
                NAME,
                ErrorKind::InvalidInput,
                format!("“{path}” has no published version to run"),
            ));
        };
        schema::model_info(schema::Published {
            id: format!("{path}:{version_id}"),
            name: format!("{path} ({})", &version_id[..version_id.len().min(8)]),
            description,
            openapi_schema: &version_body["openapi_schema"],
        })
        .map_err(|e| ProviderError::new(NAME, ErrorKind::InvalidInput, e.to_string()))
    }

    /// `GET /account`: who the token belongs to; free, and 401 for a token Replicate does not
    /// know.
    async fn verify_key(&self) -> Result<(), ProviderError> {
        let url = http::endpoint(&self.base, &["account"]);
        let response = self.send(self.client.get(url)).await?;
        if response.status().is_success() {
            return Ok(());
        }
        Err(self.refused(response, "checking the token").await)
    }

    async fn submit(&self, request: &GenerationRequest) -> Result<Submitted, ProviderError> {
        let Some((owner, name, version)) = model_reference(&request.model) else {
            return Err(ProviderError::new(
                NAME,
                ErrorKind::InvalidInput,
                format!(
                    "“{}” is not a Replicate model: write owner/name, or owner/name:version",
                    request.model.escape_debug()
                ),
            ));
        };
        let mut input = input(&self.info, request);
        if let Some(image) = &request.input_image {
            input[image.field.as_str()] = Value::from(self.image_url(image).await?);
        }
        let (url, body) = match version {
            None => (
                http::endpoint(&self.base, &["models", owner, name, "predictions"]),
                json!({ "input": input }),
            ),
            Some(version) => (
                http::endpoint(&self.base, &["predictions"]),
                json!({ "version": version, "input": input }),
            ),
        };
        let response = self.send(self.client.post(url).json(&body)).await?;
        if !response.status().is_success() {
            return Err(self.refused(response, "submitting").await);
        }
        let prediction = self.prediction(response, "submitting").await?;
        Ok(Submitted::Queued {
            request_id: prediction.id,
        })
    }

    async fn poll(&self, request: RequestRef<'_>) -> Result<PollStatus, ProviderError> {
        let url = self.prediction_url(request.request_id, &[])?;
        let response = self.send(self.client.get(url)).await?;
        if !response.status().is_success() {
            return Err(self.refused(response, "checking the prediction").await);
        }
        let prediction = self.prediction(response, "checking the prediction").await?;
        match prediction.status.as_str() {
            "starting" => Ok(PollStatus::Queued { position: None }),
            "processing" => {
                // A model's log is its own text: it could echo anything it was sent.
                let logs = self.token.scrub(prediction.logs.as_deref().unwrap_or(""));
                let (progress, message) = super::logs::progress_of(&logs);
                Ok(PollStatus::Running { progress, message })
            }
            "succeeded" => {
                let found = outputs(&prediction.output);
                if found.is_empty() {
                    return Ok(PollStatus::Failed(ProviderError::new(
                        NAME,
                        ErrorKind::BadOutput,
                        "Replicate finished without an output file",
                    )));
                }
                Ok(
                    match prediction.metrics["predict_time"]
                        .as_f64()
                        .filter(|t| t.is_finite() && *t >= 0.0)
                    {
                        Some(seconds) => {
                            PollStatus::CompletedWithCost(found, ReportedCost::GpuSeconds(seconds))
                        }
                        None => PollStatus::Completed(found),
                    },
                )
            }
            "failed" => {
                let error = match &prediction.error {
                    Value::String(s) => s.clone(),
                    Value::Null => "no reason given".into(),
                    other => other.to_string(),
                };
                let error = self.token.scrub(&error);
                let kind = if error.to_ascii_lowercase().contains("nsfw") {
                    ErrorKind::ContentPolicy
                } else {
                    ErrorKind::InvalidInput
                };
                Ok(PollStatus::Failed(ProviderError::new(
                    NAME,
                    kind,
                    format!("the prediction failed at Replicate: {error}"),
                )))
            }
            "canceled" => Ok(PollStatus::Canceled),
            other => Ok(PollStatus::Running {
                progress: None,
                message: Some(format!("Replicate says {other}")),
            }),
        }
    }

    async fn cancel(&self, request: RequestRef<'_>) -> Result<CancelOutcome, ProviderError> {
        let url = self.prediction_url(request.request_id, &["cancel"])?;
        let response = self.send(self.client.post(url)).await?;
        match response.status() {
            StatusCode::NOT_FOUND => Ok(CancelOutcome::NotFound),
            code if code.is_success() => {
                let prediction = self.prediction(response, "cancelling").await?;
                Ok(match prediction.status.as_str() {
                    "succeeded" | "failed" => CancelOutcome::AlreadyFinished,
                    _ => CancelOutcome::Requested,
                })
            }
            _ => Err(self.refused(response, "cancelling").await),
        }
    }

    async fn fetch(&self, output: &Output) -> Result<Vec<u8>, ProviderError> {
        http::fetch_output(&self.client, NAME, &self.token, &self.files, output).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_references_are_owner_name_and_an_optional_version_and_nothing_else() {
        assert_eq!(
            model_reference("black-forest-labs/flux-schnell"),
            Some(("black-forest-labs", "flux-schnell", None))
        );
        assert_eq!(
            model_reference("stability-ai/sdxl:39ed52f2a78e"),
            Some(("stability-ai", "sdxl", Some("39ed52f2a78e")))
        );
        for bad in [
            "flux",
            "a/b/c",
            "../x",
            "a/..",
            "a/b:",
            "a/b:v/../x",
            "a b/c",
            "/x",
        ] {
            assert_eq!(model_reference(bad), None, "{bad}");
        }
    }

    #[test]
    fn outputs_are_one_url_or_a_list() {
        assert_eq!(outputs(&json!("https://replicate.delivery/a.png")).len(), 1);
        assert_eq!(
            outputs(&json!(["https://x/1.png", "https://x/2.png"])).len(),
            2
        );
        assert!(outputs(&Value::Null).is_empty());
    }
}
