//! `fal`: fal.ai's queue API.
//!
//! Submit is `POST {base}/{model id}`; status, result and cancel address the model's
//! `owner/app` (the model id without its subpath) plus the request id. Results are image URLs on
//! fal's CDN, fetched at once because fal deletes them within the hour. See
//! `../shared/PROVIDERS.md` for the protocol this follows.

use reqwest::{StatusCode, Url};
use serde::Deserialize;
use serde_json::{json, Value};

mod models;

use super::http::{self, FileHosts, Refusal};
use super::{
    CancelOutcome, ErrorKind, GenerationRequest, InputImage, Output, PollStatus, Provider,
    ProviderError, ProviderInfo, RequestRef, Submitted,
};
use crate::secret::Secret;
use models::info;

pub const ID: &str = "fal";
pub const NAME: &str = "fal.ai";
pub const DEFAULT_BASE_URL: &str = "https://queue.fal.run";
pub const DEFAULT_STORAGE_URL: &str = "https://rest.fal.ai";
/// Domains fal serves result files from.
const FILE_DOMAINS: &[&str] = &["fal.media", "fal.run", "fal.ai"];

pub use models::IMAGE_SIZES;

#[derive(Debug, Clone)]
pub struct FalConfig {
    pub key: Secret,
    /// `https://queue.fal.run` unless set (tests, proxies).
    pub base_url: Option<String>,
    /// How long one HTTP call to fal may take; [`http::DEFAULT_TIMEOUT`] unless set.
    pub timeout: Option<std::time::Duration>,
}

pub struct FalProvider {
    info: ProviderInfo,
    client: reqwest::Client,
    base: Url,
    /// fal's storage API, for input images too large to send inline: `https://rest.fal.ai`,
    /// or the configured base URL when there is one (a stand-in or proxy serves both).
    storage: Url,
    key: Secret,
    files: FileHosts,
}

impl FalProvider {
    pub fn new(config: FalConfig) -> Result<Self, String> {
        let base = http::base_url(NAME, config.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL))?;
        let storage = match config.base_url {
            Some(_) => base.clone(),
            None => http::base_url(NAME, DEFAULT_STORAGE_URL)?,
        };
        Ok(Self {
            info: info(),
            storage,
            client: http::client(config.timeout.unwrap_or(http::DEFAULT_TIMEOUT)),
            files: FileHosts::new(&base, FILE_DOMAINS),
            base,
            key: config.key,
        })
    }

    /// `{base}/{owner}/{app}/requests/{id}/{tail...}`.
    fn request_url(&self, request: RequestRef<'_>, tail: &[&str]) -> Result<Url, ProviderError> {
        if !http::plain_id(request.request_id) {
            return Err(ProviderError::new(
                NAME,
                ErrorKind::NotFound,
                format!(
                    "“{}” is not a fal request id",
                    request.request_id.escape_debug()
                ),
            ));
        }
        let mut segments = vec![app_path(request.model), "requests", request.request_id];
        segments.extend_from_slice(tail);
        Ok(http::endpoint(&self.base, &segments))
    }

    async fn send(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ProviderError> {
        let authorization = http::authorization(format!("Key {}", self.key.expose()));
        http::send(NAME, &self.key, authorization, builder).await
    }

    /// Where fal finds an input image: inline for a small one, else uploaded to fal's storage
    /// (`POST {storage}/storage/upload/initiate`, then `PUT` the bytes to the `upload_url` it
    /// answers; the image is then its `file_url`).
    async fn image_url(&self, image: &InputImage) -> Result<String, ProviderError> {
        let data = match http::inline_input(NAME, image)? {
            (_, Some(inline)) => return Ok(inline),
            (data, None) => data,
        };
        let mut url = http::endpoint(&self.storage, &["storage", "upload", "initiate"]);
        url.set_query(Some("storage_type=fal-cdn-v3"));
        let ext = data.mime.rsplit('/').next().unwrap_or("png");
        let body = json!({"file_name": format!("input.{ext}"), "content_type": data.mime});
        let response = self.send(self.client.post(url).json(&body)).await?;
        if !response.status().is_success() {
            return Err(self.refused(response, "uploading the input image").await);
        }
        let initiated: Value = self.json(response, "uploading the input image").await?;
        let (Some(upload_url), Some(file_url)) = (
            initiated["upload_url"].as_str(),
            initiated["file_url"].as_str(),
        ) else {
            return Err(ProviderError::new(
                NAME,
                ErrorKind::Unavailable,
                "uploading the input image: fal named no upload address",
            ));
        };
        let target = http::upload_target(NAME, upload_url)?;
        let put = self
            .client
            .put(target)
            .header("content-type", data.mime.as_str())
            .body(data.bytes.clone())
            .send()
            .await
            .map_err(|e| http::network_error(NAME, &self.key, &e))?;
        if !put.status().is_success() {
            return Err(self.refused(put, "uploading the input image").await);
        }
        Ok(file_url.to_string())
    }

    async fn refused(&self, response: reqwest::Response, what: &str) -> ProviderError {
        let refusal = Refusal::read(response, &self.key).await;
        // fal names infrastructure failures in a header (runner_scheduling_failure, ...).
        let error_type = refusal
            .headers
            .get("x-fal-error-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut error = refusal.into_error(NAME, what);
        if let Some(kind) = error_type {
            error.message.push_str(&format!(" [{kind}]"));
            // fal itself answered, naming why it did not take the request: a refusal, not a
            // proxy's guess.
            error.maybe_accepted = false;
        }
        error
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        response: reqwest::Response,
        what: &str,
    ) -> Result<T, ProviderError> {
        http::read_json(NAME, &self.key, response, what).await
    }

    /// `GET .../requests/{id}`: the model's output, once the status is COMPLETED.
    async fn result(&self, request: RequestRef<'_>) -> Result<PollStatus, ProviderError> {
        let url = self.request_url(request, &[])?;
        let response = self.send(self.client.get(url)).await?;
        if !response.status().is_success() {
            let error = self.refused(response, "reading the result").await;
            // A request that failed at fal reports its error here; only trouble reaching it
            // is worth polling again.
            return if error.retryable() {
                Err(error)
            } else {
                Ok(PollStatus::Failed(error))
            };
        }
        let output: FalOutput = self.json(response, "reading the result").await?;
        Ok(outputs(output))
    }
}

/// What a listed model makes (a picture for one not listed).
pub fn makes(model: &str) -> super::Makes {
    info()
        .model(model)
        .map_or(super::Makes::Image, |m| m.capability.makes())
}

/// `fal-ai/flux/schnell` -> `fal-ai/flux`: status, result and cancel drop the subpath.
pub fn app_path(model: &str) -> &str {
    match model.match_indices('/').nth(1) {
        Some((i, _)) => &model[..i],
        None => model,
    }
}

/// The model input, with `num_images` asking for one result per job.
pub fn input(info: &ProviderInfo, request: &GenerationRequest) -> Value {
    let (inputs, counted) = info.request_shape(&request.model);
    request.model_input(&inputs, counted.then_some("num_images"))
}

#[derive(Deserialize)]
struct Enqueued {
    request_id: String,
}

#[derive(Deserialize)]
struct Status {
    status: String,
    queue_position: Option<u32>,
    #[serde(default)]
    logs: Option<Vec<LogLine>>,
    /// Set on a COMPLETED status when the request failed at fal.
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_type: Option<String>,
}

#[derive(Deserialize)]
struct LogLine {
    message: String,
}

/// A model's result: `images` (the picture models), `video` (the video models), `audio` (speech)
/// or `audio_file` (Stable Audio), each a file on fal's CDN.
#[derive(Deserialize)]
struct FalOutput {
    #[serde(default)]
    images: Vec<FalFile>,
    #[serde(default)]
    has_nsfw_concepts: Vec<bool>,
    #[serde(default)]
    video: Option<FalFile>,
    #[serde(default)]
    audio: Option<FalFile>,
    #[serde(default)]
    audio_file: Option<FalFile>,
}

#[derive(Deserialize)]
struct FalFile {
    url: String,
    content_type: Option<String>,
}

fn outputs(output: FalOutput) -> PollStatus {
    if let Some(clip) = output.video.or(output.audio).or(output.audio_file) {
        return PollStatus::Completed(vec![Output::Url {
            url: clip.url,
            declared_mime: clip.content_type,
        }]);
    }
    let flagged = |i: usize| output.has_nsfw_concepts.get(i).copied().unwrap_or(false);
    let kept: Vec<Output> = output
        .images
        .iter()
        .enumerate()
        .filter(|(i, _)| !flagged(*i))
        .map(|(_, image)| Output::Url {
            url: image.url.clone(),
            declared_mime: image.content_type.clone(),
        })
        .collect();
    if !kept.is_empty() {
        return PollStatus::Completed(kept);
    }
    let error = if output.images.is_empty() {
        ProviderError::new(NAME, ErrorKind::BadOutput, "fal finished without an image")
    } else {
        ProviderError::new(
            NAME,
            ErrorKind::ContentPolicy,
            "fal's safety checker blanked the image; change the prompt, or turn the safety checker off",
        )
    };
    PollStatus::Failed(error)
}

#[async_trait::async_trait]
impl Provider for FalProvider {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    async fn submit(&self, request: &GenerationRequest) -> Result<Submitted, ProviderError> {
        let url = http::endpoint(&self.base, &[request.model.as_str()]);
        let mut body = input(&self.info, request);
        if let Some(image) = &request.input_image {
            body[image.field.as_str()] = Value::from(self.image_url(image).await?);
        }
        let response = self.send(self.client.post(url).json(&body)).await?;
        if !response.status().is_success() {
            return Err(self.refused(response, "submitting").await);
        }
        let enqueued: Enqueued = self.json(response, "submitting").await?;
        Ok(Submitted::Queued {
            request_id: enqueued.request_id,
        })
    }

    async fn poll(&self, request: RequestRef<'_>) -> Result<PollStatus, ProviderError> {
        let mut url = self.request_url(request, &["status"])?;
        url.set_query(Some("logs=1"));
        let response = self.send(self.client.get(url)).await?;
        if !matches!(response.status(), StatusCode::OK | StatusCode::ACCEPTED) {
            return Err(self.refused(response, "checking the status").await);
        }
        let status: Status = self.json(response, "checking the status").await?;
        match status.status.as_str() {
            "IN_QUEUE" => Ok(PollStatus::Queued {
                position: status.queue_position,
            }),
            "IN_PROGRESS" => {
                // A model's log is its own text: it could echo anything it was sent.
                let logs: Vec<String> = status
                    .logs
                    .unwrap_or_default()
                    .into_iter()
                    .map(|line| line.message)
                    .collect();
                let (progress, message) =
                    super::logs::progress_of(&self.key.scrub(&logs.join("\n")));
                Ok(PollStatus::Running { progress, message })
            }
            "COMPLETED" => match status.error {
                Some(error) => {
                    let kind = match status.error_type.as_deref() {
                        Some("runner_scheduling_failure" | "request_timeout") => {
                            ErrorKind::Unavailable
                        }
                        _ => ErrorKind::InvalidInput,
                    };
                    Ok(PollStatus::Failed(ProviderError::new(
                        NAME,
                        kind,
                        format!("the generation failed at fal: {}", self.key.scrub(&error)),
                    )))
                }
                None => self.result(request).await,
            },
            other => Ok(PollStatus::Running {
                progress: None,
                message: Some(format!("fal says {other}")),
            }),
        }
    }

    /// fal has no account call on its queue API: asks for the status of a request that cannot
    /// exist (`GET /fal-ai/flux/requests/00000000-0000-0000-0000-000000000000/status`). A key
    /// fal does not know is refused with 401 before the lookup; a key it knows gets 404.
    async fn verify_key(&self) -> Result<(), ProviderError> {
        let probe = RequestRef {
            model: "fal-ai/flux",
            request_id: "00000000-0000-0000-0000-000000000000",
        };
        let response = self
            .send(self.client.get(self.request_url(probe, &["status"])?))
            .await?;
        let code = response.status();
        if code.is_success() || code == StatusCode::NOT_FOUND {
            return Ok(());
        }
        Err(self.refused(response, "checking the key").await)
    }

    async fn cancel(&self, request: RequestRef<'_>) -> Result<CancelOutcome, ProviderError> {
        let url = self.request_url(request, &["cancel"])?;
        let response = self.send(self.client.put(url)).await?;
        let code = response.status();
        let body: Value = response
            .json()
            .await
            .unwrap_or_else(|_| json!({ "status": Value::Null }));
        match body["status"].as_str() {
            Some("CANCELLATION_REQUESTED") => Ok(CancelOutcome::Requested),
            Some("ALREADY_COMPLETED") => Ok(CancelOutcome::AlreadyFinished),
            Some("NOT_FOUND") => Ok(CancelOutcome::NotFound),
            _ if code == StatusCode::NOT_FOUND => Ok(CancelOutcome::NotFound),
            _ => Err(ProviderError::new(
                NAME,
                if code.is_server_error() {
                    ErrorKind::Unavailable
                } else {
                    ErrorKind::InvalidInput
                },
                format!("cancelling failed with HTTP {}", code.as_u16()),
            )),
        }
    }

    async fn fetch(&self, output: &Output) -> Result<Vec<u8>, ProviderError> {
        match output {
            Output::Inline { bytes } => Ok(bytes.clone()),
            Output::Url { url, declared_mime } if url.starts_with("data:") => {
                let bytes = http::decode_data_uri(url).ok_or_else(|| {
                    ProviderError::new(NAME, ErrorKind::BadOutput, "an unreadable data: URI")
                })?;
                http::check_output(NAME, &bytes, declared_mime.as_deref())?;
                Ok(bytes)
            }
            other => http::fetch_output(&self.client, NAME, &self.key, &self.files, other).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_result_and_cancel_use_the_app_path_without_the_subpath() {
        assert_eq!(app_path("fal-ai/flux/schnell"), "fal-ai/flux");
        assert_eq!(app_path("fal-ai/flux/dev/image-to-image"), "fal-ai/flux");
        assert_eq!(app_path("fal-ai/fast-sdxl"), "fal-ai/fast-sdxl");
    }

    #[test]
    fn the_input_is_the_parameters_plus_prompt_seed_and_one_image() {
        let request = GenerationRequest {
            model: "fal-ai/flux/schnell".into(),
            prompt: "a fox".into(),
            negative_prompt: String::new(),
            seed: 42,
            params: json!({"image_size": "square", "num_inference_steps": 4})
                .as_object()
                .unwrap()
                .clone(),
            networks: Vec::new(),
            input_image: None,
            scene: None,
            made_from: None,
        };
        assert_eq!(
            input(&info(), &request),
            json!({"image_size": "square", "num_inference_steps": 4, "prompt": "a fox",
                   "seed": 42, "num_images": 1})
        );
    }

    #[test]
    fn images_the_safety_checker_flagged_are_not_kept() {
        let output: FalOutput = serde_json::from_value(json!({
            "images": [{"url": "https://v3.fal.media/a.png", "content_type": "image/png"}],
            "has_nsfw_concepts": [true]
        }))
        .unwrap();
        match outputs(output) {
            PollStatus::Failed(e) => assert_eq!(e.kind, ErrorKind::ContentPolicy),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_video_or_a_sound_is_the_one_output() {
        for key in ["video", "audio", "audio_file"] {
            let output: FalOutput = serde_json::from_value(json!({
                key: {"url": "https://v3.fal.media/a.mp4", "content_type": "video/mp4"}
            }))
            .unwrap();
            match outputs(output) {
                PollStatus::Completed(found) => assert_eq!(found.len(), 1, "{key}"),
                other => panic!("{key}: {other:?}"),
            }
        }
    }

    #[test]
    fn clip_models_take_no_count_and_kling_no_seed() {
        let request =
            |model: &str| GenerationRequest::simple(model, "waves", 3, Default::default());
        let kling = input(
            &info(),
            &request("fal-ai/kling-video/v1/standard/text-to-video"),
        );
        assert_eq!(kling, json!({"prompt": "waves"}));
        let ltx = input(&info(), &request("fal-ai/ltx-video"));
        assert_eq!(ltx, json!({"prompt": "waves", "seed": 3}));
        let flux = input(&info(), &request("fal-ai/flux/schnell"));
        assert_eq!(flux["num_images"], 1);
    }

    #[test]
    fn a_plain_http_base_off_this_machine_is_refused() {
        let config = FalConfig {
            key: Secret::new("k:s").unwrap(),
            base_url: Some("http://queue.fal.run".into()),
            timeout: None,
        };
        assert!(FalProvider::new(config).is_err());
    }

    #[test]
    fn data_uris_decode() {
        assert_eq!(
            http::decode_data_uri("data:image/png;base64,aGk="),
            Some(b"hi".to_vec())
        );
        assert_eq!(http::decode_data_uri("data:text/plain,hi"), None);
    }
}
