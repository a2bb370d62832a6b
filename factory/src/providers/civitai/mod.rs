//! `civitai`: Civitai's orchestration API, and its public catalog.
//!
//! A generation is a `textToImage` job: `POST {base}/v1/consumer/jobs?wait=false` with the
//! checkpoint's AIR, its `baseModel`, `params`, the LoRAs as `additionalNetworks` with their
//! strengths, and `quantity: 1`; the answer's `jobs[0].jobId` is the request id. `GET
//! {base}/v1/consumer/jobs/{jobId}` reports the job until `result.available` with a
//! `blobUrl`; its `lastEvent.type` tells a failure (`Failed`, `Rejected`, `Expired`, ...) from
//! waiting. `DELETE .../jobs/{jobId}?force=true` cancels. Errors are problem details; 402 means
//! the account is out of Buzz. The catalog ([`catalog`]) is the public REST API that the model
//! browser searches. See `../shared/PROVIDERS.md`.

pub mod air;
pub mod catalog;

use reqwest::{StatusCode, Url};
use serde_json::{json, Map, Value};

use super::http::{self, FileHosts, Refusal};
use super::ReportedCost;
use super::{
    CancelOutcome, Capability, ErrorKind, GenerationRequest, ModelInfo, Network, Output, ParamSpec,
    PollStatus, Provider, ProviderError, ProviderInfo, RequestRef, Submitted,
};
use crate::secret::Secret;
use air::Air;

pub const ID: &str = "civitai";
pub const NAME: &str = "Civitai";
pub const DEFAULT_BASE_URL: &str = "https://orchestration.civitai.com";
/// Domains Civitai's results are served from (its blob storage and CDN).
const FILE_DOMAINS: &[&str] = &[
    "civitai.com",
    "digitaloceanspaces.com",
    "civitai-delivery.com",
];

/// The samplers the orchestration API takes.
pub const SCHEDULERS: &[&str] = &[
    "EulerA",
    "Euler",
    "LMS",
    "Heun",
    "DPM2",
    "DPM2A",
    "DPM2SA",
    "DPM2M",
    "DPMSDE",
    "DPMFast",
    "DPMAdaptive",
    "LMSKarras",
    "DPM2Karras",
    "DPM2AKarras",
    "DPM2SAKarras",
    "DPM2MKarras",
    "DPMSDEKarras",
    "DDIM",
    "PLMS",
    "UniPC",
    "LCM",
    "DDPM",
    "DEIS",
];
/// The most LoRAs one job may add.
pub const MAX_NETWORKS: usize = 8;
/// The strengths a LoRA may be applied at.
pub const STRENGTH_RANGE: (f64, f64) = (-1.0, 2.0);

/// Checkpoints offered before anything is picked in the browser.
const LISTED: &[(&str, &str, &str)] = &[
    (
        "urn:air:sdxl:checkpoint:civitai:101055@128078",
        "SDXL 1.0 (base)",
        "Stability AI's SDXL base model, 1024×1024.",
    ),
    (
        "urn:air:sd1:checkpoint:civitai:4384@128713",
        "DreamShaper 8 (SD 1.5)",
        "A versatile SD 1.5 checkpoint, 512×768.",
    ),
];

#[derive(Debug, Clone)]
pub struct CivitaiConfig {
    pub token: Secret,
    /// `https://orchestration.civitai.com` unless set (tests, proxies).
    pub base_url: Option<String>,
    /// The catalog, for naming a checkpoint picked by AIR.
    pub catalog: catalog::Catalog,
    pub timeout: Option<std::time::Duration>,
}

pub struct CivitaiProvider {
    info: ProviderInfo,
    client: reqwest::Client,
    base: Url,
    token: Secret,
    files: FileHosts,
    catalog: catalog::Catalog,
}

/// The form's parameters for a checkpoint of `ecosystem` (sizes default to what it was
/// trained at).
pub fn params(ecosystem: &str) -> Vec<ParamSpec> {
    let side = if ecosystem == "sd1" { 512 } else { 1024 };
    vec![
        ParamSpec::integer(
            "width",
            "Width",
            "Pixels; a multiple of 8.",
            side,
            256,
            2048,
            8,
        ),
        ParamSpec::integer(
            "height",
            "Height",
            "Pixels; a multiple of 8.",
            side,
            256,
            2048,
            8,
        ),
        ParamSpec::choice(
            "scheduler",
            "Sampler",
            "How noise is removed step by step.",
            "EulerA",
            SCHEDULERS,
        ),
        ParamSpec::integer("steps", "Steps", "More steps refine detail.", 25, 1, 100, 1),
        ParamSpec::float(
            "cfgScale",
            "Guidance",
            "How closely to follow the prompt.",
            7.0,
            1.0,
            30.0,
        ),
        ParamSpec::integer(
            "clipSkip",
            "CLIP skip",
            "Text-encoder layers skipped; 2 suits most anime-style models.",
            2,
            1,
            12,
            1,
        ),
    ]
}

fn model(id: &str, name: &str, description: &str, ecosystem: &str) -> ModelInfo {
    ModelInfo {
        id: id.into(),
        name: name.into(),
        description: description.into(),
        capability: Capability::TextToImage,
        negative_prompt: true,
        image_input: None,
        image_strength: None,
        networks: true,
        inputs: Default::default(),
        params: params(ecosystem),
    }
}

fn info() -> ProviderInfo {
    ProviderInfo {
        id: ID.into(),
        name: NAME.into(),
        description: "Checkpoints and LoRAs from Civitai, run by Civitai's generator. Needs an \
                      API token; each job costs Buzz."
            .into(),
        remote_queue: true,
        any_model: true,
        models: LISTED
            .iter()
            .map(|(id, name, description)| {
                let ecosystem = Air::parse(id).expect("a listed AIR").ecosystem;
                model(id, name, description, &ecosystem)
            })
            .collect(),
    }
}

/// Checks the LoRAs of a job for `checkpoint`: each an AIR of a network from the same
/// ecosystem, at a strength in [`STRENGTH_RANGE`]. Errors are `(field, message)`.
pub fn check_networks(checkpoint: &str, networks: &[Network]) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    if networks.len() > MAX_NETWORKS {
        errors.push((
            "networks".to_string(),
            format!(
                "At most {MAX_NETWORKS} LoRAs per job; this has {}.",
                networks.len()
            ),
        ));
    }
    let ecosystem = Air::parse(checkpoint).ok().map(|a| a.ecosystem);
    for (i, network) in networks.iter().enumerate() {
        let field = format!("networks.{i}");
        match Air::parse(&network.id) {
            Err(e) => errors.push((field.clone(), format!("LoRA {}: {e}.", i + 1))),
            Ok(air) if !air.is_network() => errors.push((
                field.clone(),
                format!(
                    "LoRA {}: {} is a {}, not a LoRA.",
                    i + 1,
                    network.id,
                    air.kind
                ),
            )),
            Ok(air) if ecosystem.as_ref().is_some_and(|e| *e != air.ecosystem) => errors.push((
                field.clone(),
                format!(
                    "LoRA {}: it is for {}, and the checkpoint is {}.",
                    i + 1,
                    air.ecosystem,
                    ecosystem.clone().unwrap_or_default()
                ),
            )),
            Ok(_) => {}
        }
        let (min, max) = STRENGTH_RANGE;
        if !network.strength.is_finite() || network.strength < min || network.strength > max {
            errors.push((
                format!("{field}.strength"),
                format!(
                    "LoRA {} strength must be between {min} and {max}; got {}.",
                    i + 1,
                    network.strength
                ),
            ));
        }
    }
    errors
}

/// The job as the orchestration API takes it.
pub fn job_body(request: &GenerationRequest) -> Result<Value, String> {
    let checkpoint = Air::parse(&request.model)?;
    let base_model = checkpoint
        .base_model()
        .ok_or_else(|| format!("Civitai cannot run {} models here", checkpoint.ecosystem))?;
    let mut params: Map<String, Value> = request.params.clone();
    params.insert("prompt".into(), Value::from(request.prompt.as_str()));
    params.insert("seed".into(), Value::from(request.seed));
    if !request.negative_prompt.is_empty() {
        params.insert(
            "negativePrompt".into(),
            Value::from(request.negative_prompt.as_str()),
        );
    }
    let networks: Map<String, Value> = request
        .networks
        .iter()
        .map(|n| (n.id.clone(), json!({ "strength": n.strength })))
        .collect();
    let mut body = json!({
        "$type": "textToImage",
        "baseModel": base_model,
        "model": checkpoint.to_string(),
        "params": params,
        "quantity": 1,
    });
    if !networks.is_empty() {
        body["additionalNetworks"] = Value::Object(networks);
    }
    Ok(body)
}

impl CivitaiProvider {
    pub fn new(config: CivitaiConfig) -> Result<Self, String> {
        let base = http::base_url(NAME, config.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL))?;
        let files = FileHosts::new(&base, FILE_DOMAINS);
        Ok(Self {
            info: info(),
            client: http::client(config.timeout.unwrap_or(http::DEFAULT_TIMEOUT)),
            files,
            base,
            token: config.token,
            catalog: config.catalog,
        })
    }

    async fn send(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ProviderError> {
        let authorization = http::authorization(format!("Bearer {}", self.token.expose()));
        http::send(NAME, &self.token, authorization, builder).await
    }

    fn job_url(&self, id: &str) -> Result<Url, ProviderError> {
        if !http::plain_id(id) {
            return Err(ProviderError::new(
                NAME,
                ErrorKind::NotFound,
                format!("“{}” is not a Civitai job id", id.escape_debug()),
            ));
        }
        Ok(http::endpoint(&self.base, &["v1", "consumer", "jobs", id]))
    }

    async fn refused(&self, response: reqwest::Response, what: &str) -> ProviderError {
        let mut error = Refusal::read(response, &self.token)
            .await
            .into_error(NAME, what);
        if error.message.contains("HTTP 402") {
            error.message = format!(
                "{what} was refused: the Civitai account is out of Buzz. Buy Buzz at civitai.com, \
                 then retry the job"
            );
        }
        error
    }
}

/// The job in a status answer: the answer itself, or the one with `id` in a `jobs` list (the
/// shape a status by token has).
fn job_of<'a>(body: &'a Value, id: &str) -> &'a Value {
    match body["jobs"].as_array() {
        Some(jobs) => jobs
            .iter()
            .find(|j| j["jobId"].as_str() == Some(id))
            .unwrap_or(&Value::Null),
        None => body,
    }
}

/// A job's results: `result` is one `{blobKey, available, blobUrl}` or a list of them.
fn results(job: &Value) -> Vec<&Value> {
    match &job["result"] {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        one => vec![one],
    }
}

#[async_trait::async_trait]
impl Provider for CivitaiProvider {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    /// A checkpoint by AIR, named from the catalog's `GET /model-versions/{id}` (which also
    /// proves it exists).
    async fn describe_model(&self, reference: &str) -> Result<ModelInfo, ProviderError> {
        let invalid = |m: String| ProviderError::new(NAME, ErrorKind::InvalidInput, m);
        let air = Air::parse(reference).map_err(invalid)?;
        if air.kind != "checkpoint" {
            return Err(invalid(format!(
                "{air} is a {}; choose a checkpoint as the model and add LoRAs below it",
                air.kind
            )));
        }
        if air.base_model().is_none() {
            return Err(invalid(format!(
                "Civitai cannot run {} checkpoints here (SD 1.5, SDXL, Pony, Illustrious and Flux can be)",
                air.ecosystem
            )));
        }
        let version = self.catalog.version(air.version_id).await?;
        let name = format!("{} — {}", version.model_name, version.name);
        let description = format!("{} checkpoint from Civitai.", version.base_model);
        Ok(model(&air.to_string(), &name, &description, &air.ecosystem))
    }

    /// `GET /v1/consumer/jobs/{a job id that cannot exist}`: a token Civitai does not know is
    /// refused (401) before the lookup; a known one gets 404. Generates and costs nothing.
    async fn verify_key(&self) -> Result<(), ProviderError> {
        let url = self.job_url("00000000-0000-0000-0000-000000000000")?;
        let response = self.send(self.client.get(url)).await?;
        if response.status().is_success() || response.status() == StatusCode::NOT_FOUND {
            return Ok(());
        }
        Err(self.refused(response, "checking the token").await)
    }

    async fn submit(&self, request: &GenerationRequest) -> Result<Submitted, ProviderError> {
        let body =
            job_body(request).map_err(|e| ProviderError::new(NAME, ErrorKind::InvalidInput, e))?;
        let mut url = http::endpoint(&self.base, &["v1", "consumer", "jobs"]);
        url.set_query(Some("wait=false"));
        let response = self.send(self.client.post(url).json(&body)).await?;
        if !response.status().is_success() {
            return Err(self.refused(response, "submitting").await);
        }
        let answer: Value = http::read_json(NAME, &self.token, response, "submitting").await?;
        match answer["jobs"][0]["jobId"].as_str() {
            Some(id) if http::plain_id(id) => Ok(Submitted::Queued {
                request_id: id.to_string(),
            }),
            _ => Err(ProviderError::new(
                NAME,
                ErrorKind::Unavailable,
                "submitting: Civitai's answer named no job id",
            )
            .maybe_accepted()),
        }
    }

    async fn poll(&self, request: RequestRef<'_>) -> Result<PollStatus, ProviderError> {
        let url = self.job_url(request.request_id)?;
        let response = self.send(self.client.get(url)).await?;
        if !response.status().is_success() {
            return Err(self.refused(response, "checking the job").await);
        }
        let body: Value = http::read_json(NAME, &self.token, response, "checking the job").await?;
        let job = job_of(&body, request.request_id);
        if job.is_null() {
            return Err(ProviderError::new(
                NAME,
                ErrorKind::NotFound,
                "Civitai no longer knows this job",
            ));
        }
        let ready: Vec<Output> = results(job)
            .into_iter()
            .filter(|r| r["available"].as_bool() == Some(true))
            .filter_map(|r| r["blobUrl"].as_str())
            .map(|url| Output::Url {
                url: url.to_string(),
                declared_mime: None,
            })
            .collect();
        if !ready.is_empty() {
            return Ok(
                match job["cost"].as_f64().filter(|c| c.is_finite() && *c >= 0.0) {
                    Some(buzz) => PollStatus::CompletedWithCost(ready, ReportedCost::Buzz(buzz)),
                    None => PollStatus::Completed(ready),
                },
            );
        }
        let event = job["lastEvent"]["type"].as_str().unwrap_or("");
        let failed = |why: &str, kind| {
            Ok(PollStatus::Failed(ProviderError::new(
                NAME,
                kind,
                format!("the job {why} at Civitai"),
            )))
        };
        match event {
            "Failed" | "LateRejected" => failed("failed", ErrorKind::Unavailable),
            "Rejected" => failed(
                "was rejected (no worker could run it)",
                ErrorKind::Unavailable,
            ),
            "Expired" | "ClaimExpired" if job["scheduled"] == false => {
                failed("expired before it ran", ErrorKind::Unavailable)
            }
            "Deleted" => Ok(PollStatus::Canceled),
            "Claimed" | "Updated" | "Succeeded" => Ok(PollStatus::Running {
                progress: None,
                message: Some(match event {
                    "Succeeded" => "finished; waiting for the image to be stored".into(),
                    _ => "a Civitai worker is generating".into(),
                }),
            }),
            _ => Ok(PollStatus::Queued { position: None }),
        }
    }

    async fn cancel(&self, request: RequestRef<'_>) -> Result<CancelOutcome, ProviderError> {
        let mut url = self.job_url(request.request_id)?;
        url.set_query(Some("force=true"));
        let response = self.send(self.client.delete(url)).await?;
        match response.status() {
            StatusCode::NOT_FOUND => Ok(CancelOutcome::NotFound),
            code if code.is_success() => Ok(CancelOutcome::Requested),
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

    fn network(id: &str, strength: f64) -> Network {
        Network {
            id: id.into(),
            strength,
        }
    }

    #[test]
    fn loras_are_checked_for_shape_kind_ecosystem_and_strength() {
        let checkpoint = "urn:air:sdxl:checkpoint:civitai:101055@128078";
        assert!(
            check_networks(checkpoint, &[network("urn:air:sdxl:lora:civitai:1@2", 0.8)]).is_empty()
        );
        let errors = check_networks(
            checkpoint,
            &[
                network("lora please", 0.5),
                network("urn:air:sdxl:checkpoint:civitai:1@2", 0.5),
                network("urn:air:sd1:lora:civitai:1@2", 0.5),
                network("urn:air:sdxl:lora:civitai:1@2", 2.5),
            ],
        );
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "networks.0",
                "networks.1",
                "networks.2",
                "networks.3.strength"
            ]
        );
        assert!(
            errors[3].1.contains("between -1 and 2; got 2.5"),
            "{}",
            errors[3].1
        );
        assert!(errors[2].1.contains("for sd1"), "{}", errors[2].1);
    }

    #[test]
    fn a_job_is_sent_with_its_base_model_params_and_loras() {
        let request = GenerationRequest {
            model: "urn:air:sd1:checkpoint:civitai:4384@128713".into(),
            prompt: "a fox".into(),
            negative_prompt: "blurry".into(),
            seed: 9,
            params: json!({"steps": 20}).as_object().unwrap().clone(),
            networks: vec![network("urn:air:sd1:lora:civitai:58390@62833", 0.7)],
            input_image: None,
            scene: None,
            made_from: None,
        };
        let body = job_body(&request).unwrap();
        assert_eq!(body["$type"], "textToImage");
        assert_eq!(body["baseModel"], "SD_1_5");
        assert_eq!(body["params"]["negativePrompt"], "blurry");
        assert_eq!(body["params"]["seed"], 9);
        assert_eq!(body["quantity"], 1);
        assert_eq!(
            body["additionalNetworks"]["urn:air:sd1:lora:civitai:58390@62833"]["strength"],
            0.7
        );
    }
}
