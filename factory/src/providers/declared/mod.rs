//! Declarative HTTP providers: an API described by a TOML manifest in
//! `<data dir>/providers/*.toml` ([`manifest`]) instead of code. Loaded at start and on
//! "reload"; a manifest that cannot be used is reported with its file and line and left out.
//!
//! - Submit sends the body template with its placeholders filled (as JSON values, so a prompt
//!   cannot change the body's shape) and the key from the environment variable the manifest
//!   names in the header it names.
//! - With a `request_id` path the API answers later: polls read the status path, and the state,
//!   progress, error and pictures where the manifest says. Without one, the first answer holds
//!   the pictures.
//! - Pictures are URLs (downloaded from the API's host and the manifest's `file_hosts` only) or
//!   base64.
//! - Refusals are read like the built-in providers' (401: the key; 429: wait; 5xx: retry), and
//!   the key is scrubbed from every message.

pub mod manifest;
pub mod template;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use serde_json::{Map, Value};

use super::http::{self, FileHosts, Refusal};
use super::{
    CancelOutcome, ErrorKind, GenerationRequest, Output, PollStatus, Provider, ProviderError,
    ProviderInfo, RequestRef, Submitted,
};
use crate::secret::Secret;
use manifest::{Checked, Encoding, Method};
use template::{fill, fill_path};

pub struct DeclaredProvider {
    info: ProviderInfo,
    spec: Checked,
    /// The key from the environment; for an API without one, a random stand-in that is never
    /// sent (so scrubbing it changes nothing).
    key: Secret,
    client: reqwest::Client,
    hosts: FileHosts,
}

impl DeclaredProvider {
    pub fn new(spec: Checked, key: Option<Secret>) -> Self {
        let key = key.unwrap_or_else(|| {
            Secret::new(format!("no-key-{:032x}", rand::random::<u128>()))
                .expect("a non-empty text")
        });
        let domains: Vec<&str> = spec.file_hosts.iter().map(String::as_str).collect();
        Self {
            info: ProviderInfo {
                id: spec.id.clone(),
                name: spec.name.clone(),
                description: if spec.description.is_empty() {
                    format!("Described by its manifest, at {}.", spec.base_url)
                } else {
                    spec.description.clone()
                },
                remote_queue: spec.status.is_some(),
                any_model: false,
                models: spec.models.clone(),
            },
            hosts: FileHosts::new(&spec.base_url, &domains),
            client: http::client(http::DEFAULT_TIMEOUT),
            spec,
            key,
        }
    }

    fn error(&self, kind: ErrorKind, message: impl Into<String>) -> ProviderError {
        ProviderError::new(&self.spec.name, kind, message)
    }

    /// What the placeholders stand for in this request.
    fn vars(&self, request: &GenerationRequest) -> Result<Map<String, Value>, ProviderError> {
        let mut vars = request.params.clone();
        vars.insert("model".into(), Value::from(request.model.as_str()));
        vars.insert("prompt".into(), Value::from(request.prompt.as_str()));
        vars.insert(
            "negative_prompt".into(),
            Value::from(request.negative_prompt.as_str()),
        );
        vars.insert("seed".into(), Value::from(request.seed));
        if let Some(image) = &request.input_image {
            let data = image.data.as_deref().ok_or_else(|| {
                self.error(ErrorKind::InvalidInput, "the input picture was not loaded")
            })?;
            vars.insert("image".into(), Value::from(http::data_uri(data)));
        }
        Ok(vars)
    }

    async fn call(
        &self,
        method: Method,
        path: &[String],
        body: Option<&Value>,
    ) -> Result<reqwest::Response, ProviderError> {
        let segments: Vec<&str> = path.iter().map(String::as_str).collect();
        let url = http::endpoint(&self.spec.base_url, &segments);
        let mut builder = match method {
            Method::Post => self.client.post(url),
            Method::Put => self.client.put(url),
            Method::Get => self.client.get(url),
            Method::Delete => self.client.delete(url),
        };
        if let Some(body) = body {
            builder = builder.json(body);
        }
        if let Some((header, prefix, _)) = &self.spec.auth {
            let value = http::authorization(format!("{prefix}{}", self.key.expose()));
            builder = builder.header(header.as_str(), value);
        }
        builder
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| http::network_error(&self.spec.name, &self.key, &e))
    }

    /// A successful answer's JSON, or the refusal in words.
    async fn answer(
        &self,
        response: reqwest::Response,
        what: &str,
    ) -> Result<Value, ProviderError> {
        if !response.status().is_success() {
            return Err(Refusal::read(response, &self.key)
                .await
                .into_error(&self.spec.name, what));
        }
        http::read_json(&self.spec.name, &self.key, response, what).await
    }

    /// The pictures an answer holds, where the manifest says.
    fn outputs(&self, answer: &Value) -> Result<Vec<Output>, ProviderError> {
        let found = self.spec.images.all(answer);
        let outputs: Vec<Output> = found
            .into_iter()
            .filter_map(Value::as_str)
            .map(|text| match self.spec.encoding {
                Encoding::Url => Ok(Output::Url {
                    url: text.to_string(),
                    declared_mime: None,
                }),
                Encoding::Base64 => {
                    let data = text.rsplit_once(',').map_or(text, |(_, d)| d);
                    base64::engine::general_purpose::STANDARD
                        .decode(data.trim())
                        .map(|bytes| Output::Inline { bytes })
                        .map_err(|_| {
                            self.error(ErrorKind::BadOutput, "a picture was not valid base64")
                        })
                }
            })
            .collect::<Result<_, _>>()?;
        if outputs.is_empty() {
            return Err(self.error(
                ErrorKind::BadOutput,
                format!("the answer held no picture at “{}”", self.spec.images),
            ));
        }
        Ok(outputs)
    }
}

#[async_trait::async_trait]
impl Provider for DeclaredProvider {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    async fn submit(&self, request: &GenerationRequest) -> Result<Submitted, ProviderError> {
        let body = fill(&self.spec.body, &self.vars(request)?);
        let response = self
            .call(
                self.spec.submit_method,
                &fill_path(&self.spec.submit_path, ""),
                Some(&body),
            )
            .await?;
        let answer = self.answer(response, "submitting").await?;
        let Some(id_path) = &self.spec.request_id else {
            return Ok(Submitted::Finished(self.outputs(&answer)?));
        };
        match id_path.text_in(&answer) {
            Some(id) if !id.is_empty() && id.len() <= 256 => {
                Ok(Submitted::Queued { request_id: id })
            }
            _ => Err(self
                .error(
                    ErrorKind::Unavailable,
                    format!("the answer held no request id at “{id_path}”"),
                )
                .maybe_accepted()),
        }
    }

    async fn poll(&self, request: RequestRef<'_>) -> Result<PollStatus, ProviderError> {
        let Some(status) = &self.spec.status else {
            return Ok(PollStatus::Failed(self.error(
                ErrorKind::NotFound,
                "this provider answers at once; there is nothing to ask about",
            )));
        };
        let path = fill_path(&status.path, request.request_id);
        let response = self.call(Method::Get, &path, None).await?;
        let answer = self.answer(response, "asking for the status").await?;
        let state = status.state.text_in(&answer).unwrap_or_default();
        let is = |list: &[String]| list.iter().any(|s| s.eq_ignore_ascii_case(&state));
        if is(&status.succeeded) {
            return Ok(match self.outputs(&answer) {
                Ok(outputs) => PollStatus::Completed(outputs),
                Err(e) => PollStatus::Failed(e),
            });
        }
        if is(&status.failed) {
            let why = status
                .error
                .as_ref()
                .and_then(|p| p.text_in(&answer))
                .unwrap_or_else(|| format!("it reports “{state}”"));
            let why: String = self.key.scrub(&why).chars().take(400).collect();
            return Ok(PollStatus::Failed(self.error(ErrorKind::InvalidInput, why)));
        }
        if is(&status.canceled) {
            return Ok(PollStatus::Canceled);
        }
        if is(&status.queued) {
            return Ok(PollStatus::Queued { position: None });
        }
        let progress = status
            .progress
            .as_ref()
            .and_then(|p| p.first(&answer))
            .and_then(Value::as_f64)
            .map(|p| if p > 1.0 { p / 100.0 } else { p } as f32);
        Ok(PollStatus::Running {
            progress,
            message: None,
        })
    }

    async fn cancel(&self, request: RequestRef<'_>) -> Result<CancelOutcome, ProviderError> {
        let Some((method, path)) = &self.spec.cancel else {
            // Nothing to ask: the job stops here, and what the provider makes is not fetched.
            return Ok(CancelOutcome::NotFound);
        };
        let response = self
            .call(*method, &fill_path(path, request.request_id), None)
            .await?;
        match response.status().as_u16() {
            200..=299 => Ok(CancelOutcome::Requested),
            404 => Ok(CancelOutcome::NotFound),
            409 => Ok(CancelOutcome::AlreadyFinished),
            _ => Err(Refusal::read(response, &self.key)
                .await
                .into_error(&self.spec.name, "cancelling")),
        }
    }

    async fn fetch(&self, output: &Output) -> Result<Vec<u8>, ProviderError> {
        http::fetch_output(
            &self.client,
            &self.spec.name,
            &self.key,
            &self.hosts,
            output,
        )
        .await
    }
}

impl std::fmt::Debug for DeclaredProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeclaredProvider")
            .field("id", &self.spec.id)
            .field("base_url", &self.spec.base_url.as_str())
            .finish()
    }
}

/// Where manifests are kept.
pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("providers")
}

/// What a load found: the providers to add, and a sentence per manifest left out.
#[derive(Default)]
pub struct Loaded {
    pub providers: Vec<Arc<DeclaredProvider>>,
    pub problems: Vec<String>,
}

/// Reads every `*.toml` in `dir`; `env` reads an environment variable (the key).
pub fn load_dir(dir: &Path, env: &dyn Fn(&str) -> Option<String>) -> Loaded {
    let mut loaded = Loaded::default();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return loaded;
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    for path in paths {
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match load_one(&path, env) {
            Ok(p) if loaded.providers.iter().any(|o| o.info.id == p.info.id) => {
                loaded.problems.push(format!(
                    "providers/{file}: a second manifest with the id “{}”",
                    p.info.id
                ))
            }
            Ok(p) => loaded.providers.push(Arc::new(p)),
            Err(e) => loaded.problems.push(format!("providers/{file} {e}")),
        }
    }
    loaded
}

fn load_one(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<DeclaredProvider, manifest::ManifestError> {
    let text = std::fs::read_to_string(path).map_err(|e| manifest::ManifestError {
        line: 1,
        message: format!("could not be read ({e})"),
    })?;
    let spec = manifest::check(&text)?;
    let key = match &spec.auth {
        None => None,
        Some((_, _, var)) => Some(env(var).and_then(Secret::new).ok_or_else(|| {
            manifest::ManifestError {
                line: manifest::key_env_line(&text),
                message: format!(
                    "the key's environment variable {var} is not set; set it before starting Art Factory"
                ),
            }
        })?),
    };
    Ok(DeclaredProvider::new(spec, key))
}
