//! Generation backends behind one trait.
//!
//! Every provider looks like a remote queue, because every hosted one is: `submit` hands over a
//! request and returns the provider's request id (committed by the engine before anything
//! else), `poll` reports progress until the outputs are ready, `cancel` asks to stop, and
//! `fetch` downloads an output. A provider that works in-process (the offline generator) may
//! answer `submit` with the finished outputs directly.
//!
//! One module per provider: [`local`] (the offline generator), [`fal`] and [`replicate`] (and
//! `civitai` to come) speak their providers' HTTP protocols against a configurable base URL.

pub mod a1111;
pub mod civitai;
pub mod comfyui;
pub mod declared;
pub mod fal;
pub mod http;
pub mod limits;
pub mod local;
pub mod logs;
pub mod params;
pub mod replicate;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use params::{ParamError, ParamKind, ParamSpec};

/// What a model makes from what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    TextToImage,
    ImageToImage,
    /// Renders a scene of 3D assets (the render engines; not offered on the Generate page).
    Render,
    TextToVideo,
    /// A clip that starts from a picture (its first frame).
    ImageToVideo,
    /// Music or sound effects from a description.
    TextToAudio,
    /// The prompt, spoken.
    TextToSpeech,
}

/// The kind of file a model makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Makes {
    Image,
    Video,
    Audio,
}

impl Capability {
    pub fn makes(self) -> Makes {
        match self {
            Capability::TextToImage | Capability::ImageToImage | Capability::Render => Makes::Image,
            Capability::TextToVideo | Capability::ImageToVideo => Makes::Video,
            Capability::TextToAudio | Capability::TextToSpeech => Makes::Audio,
        }
    }

    /// Whether a request must bring a picture to start from.
    pub fn needs_image(self) -> bool {
        matches!(self, Capability::ImageToImage | Capability::ImageToVideo)
    }
}

/// What a model calls the inputs every request has: its prompt (a speech model's `text`), and
/// its seed when it takes one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputNames {
    pub prompt: String,
    pub seed: Option<String>,
}

impl Default for InputNames {
    fn default() -> Self {
        Self {
            prompt: "prompt".into(),
            seed: Some("seed".into()),
        }
    }
}

impl InputNames {
    /// A model whose prompt goes in `prompt` and which takes no seed.
    pub fn unseeded(prompt: &str) -> Self {
        Self {
            prompt: prompt.into(),
            seed: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelInfo {
    /// The provider's model id (`fal-ai/flux/schnell`, `aurora`).
    pub id: String,
    pub name: String,
    pub description: String,
    pub capability: Capability,
    /// Whether the model takes a negative prompt (FLUX does not).
    pub negative_prompt: bool,
    /// The input an image is sent in, for a model that takes one (`image_url`, `image`).
    #[serde(default)]
    pub image_input: Option<String>,
    /// The parameter that says how far to move away from the input image (`strength`,
    /// `prompt_strength`); offered only with an input image.
    #[serde(default)]
    pub image_strength: Option<String>,
    /// Whether the model takes add-on networks (LoRAs).
    #[serde(default)]
    pub networks: bool,
    pub params: Vec<ParamSpec>,
    /// What it calls the prompt and the seed.
    #[serde(default)]
    pub inputs: InputNames,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProviderInfo {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Whether work lives in a queue at the provider (and so survives our restarts, costs money
    /// when submitted twice, and must be cancelled there).
    pub remote_queue: bool,
    /// Whether any model of the provider's catalog can be named by reference and described
    /// ([`Provider::describe_model`]), beyond the ones listed.
    #[serde(default)]
    pub any_model: bool,
    pub models: Vec<ModelInfo>,
}

impl ProviderInfo {
    pub fn model(&self, id: &str) -> Option<&ModelInfo> {
        self.models.iter().find(|m| m.id == id)
    }

    /// What `model` calls its prompt and seed, and whether it takes a count (image models do;
    /// a clip model makes one clip). A model not listed (one described on request) is an image
    /// model named the usual way.
    pub fn request_shape(&self, model: &str) -> (InputNames, bool) {
        match self.model(model) {
            Some(m) => (m.inputs.clone(), m.capability.makes() == Makes::Image),
            None => (InputNames::default(), true),
        }
    }

    pub fn capabilities(&self) -> Vec<Capability> {
        let mut caps: Vec<Capability> = Vec::new();
        for m in &self.models {
            if !caps.contains(&m.capability) {
                caps.push(m.capability);
            }
        }
        caps
    }
}

/// One generation, fully resolved.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GenerationRequest {
    pub model: String,
    pub prompt: String,
    pub negative_prompt: String,
    pub seed: i64,
    /// Validated against the model's [`ParamSpec`]s.
    pub params: Map<String, Value>,
    /// Add-on networks (LoRAs) with their strengths, for models that take them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub networks: Vec<Network>,
    /// The picture an image-to-image generation starts from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_image: Option<InputImage>,
    /// The product this is made for without being sent (a picture scored with music): its
    /// parent, for lineage only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub made_from: Option<i64>,
    /// The scene a render job draws, as it was when the job was queued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scene: Option<crate::render::jobs::SceneInput>,
}

/// The picture an image-to-image generation starts from: a product (which becomes the parent
/// of what is made), and the model input it goes in.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InputImage {
    pub product_id: i64,
    /// The model's input for it (`image_url`, `image`).
    pub field: String,
    /// The bytes, loaded by the worker just before submitting; never stored with the job.
    #[serde(skip)]
    pub data: Option<Arc<ImageData>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImageData {
    pub bytes: Vec<u8>,
    pub mime: String,
}

/// An add-on network (a LoRA) applied to a generation, named the provider's way (Civitai's
/// AIR), with its strength.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Network {
    pub id: String,
    pub strength: f64,
}

impl GenerationRequest {
    /// A request for `model` with only a prompt, a seed and parameters (no negative prompt,
    /// networks, input or scene).
    pub fn simple(model: &str, prompt: &str, seed: i64, params: Map<String, Value>) -> Self {
        Self {
            model: model.into(),
            prompt: prompt.into(),
            negative_prompt: String::new(),
            seed,
            params,
            networks: Vec::new(),
            input_image: None,
            made_from: None,
            scene: None,
        }
    }

    /// What a hosted model is sent: the validated parameters plus prompt, seed, the negative
    /// prompt when there is one, and one output per job (`count_field` is the provider's name
    /// for how many: fal's `num_images`, Replicate's `num_outputs`; `None` for a model that
    /// makes one clip and takes no count). `inputs` names the prompt and the seed the model's
    /// way.
    pub fn model_input(&self, inputs: &InputNames, count_field: Option<&str>) -> Value {
        let mut body = self.params.clone();
        body.insert(inputs.prompt.clone(), Value::from(self.prompt.as_str()));
        if let Some(seed) = &inputs.seed {
            body.insert(seed.clone(), Value::from(self.seed));
        }
        if let Some(count_field) = count_field {
            body.insert(count_field.into(), Value::from(1));
        }
        if !self.negative_prompt.is_empty() {
            body.insert(
                "negative_prompt".into(),
                Value::from(self.negative_prompt.as_str()),
            );
        }
        Value::Object(body)
    }
}

/// A result a provider reports: inline bytes, or a URL to download promptly.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Output {
    Inline {
        #[serde(skip)]
        bytes: Vec<u8>,
    },
    Url {
        url: String,
        declared_mime: Option<String>,
    },
}

/// A request waiting at a provider: the model it was submitted to, and the id the provider gave.
/// (fal addresses status, result and cancel by the model's `owner/app` path plus the id.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestRef<'a> {
    pub model: &'a str,
    pub request_id: &'a str,
}

#[derive(Debug)]
pub enum Submitted {
    /// Accepted into the provider's queue; poll with this id.
    Queued { request_id: String },
    /// Done already (in-process providers).
    Finished(Vec<Output>),
}

/// What a provider says a finished job cost, in its own terms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReportedCost {
    /// Civitai's currency.
    Buzz(f64),
    /// Replicate's `metrics.predict_time`.
    GpuSeconds(f64),
}

#[derive(Debug)]
pub enum PollStatus {
    /// Waiting at the provider, with its queue position when it says.
    Queued {
        position: Option<u32>,
    },
    Running {
        progress: Option<f32>,
        message: Option<String>,
    },
    Completed(Vec<Output>),
    /// Done, with what the provider says it cost.
    CompletedWithCost(Vec<Output>, ReportedCost),
    Failed(ProviderError),
    Canceled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    Requested,
    /// Too late: it finished (not an error).
    AlreadyFinished,
    /// The provider does not know the request (expired, or never arrived).
    NotFound,
}

/// What went wrong at a provider, in words a person can act on. Never holds a key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub struct ProviderError {
    pub provider: String,
    pub kind: ErrorKind,
    pub message: String,
    /// The provider's hint for when to try again (429 `Retry-After`).
    pub retry_after: Option<Duration>,
    /// The request was sent and may have been accepted all the same: a timeout or a broken
    /// connection after sending, a 5xx (perhaps from a proxy in front of the provider), an
    /// answer that could not be read. Only a failure that proves the request never arrived or
    /// was refused (no connection, a 4xx) leaves this false. For a submission it means that
    /// submitting again may pay twice.
    #[serde(default)]
    pub maybe_accepted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Could not reach the provider, or the connection broke.
    Network,
    RateLimited,
    /// The provider failed or is overloaded (5xx, scheduling failures, timeouts).
    Unavailable,
    /// The input was refused (422 and friends).
    InvalidInput,
    /// The key is missing, wrong, or out of credit.
    Unauthorized,
    ContentPolicy,
    /// The request id is unknown to the provider.
    NotFound,
    /// The output was not an acceptable file (too large, not the image it claimed).
    BadOutput,
}

impl ErrorKind {
    pub fn retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::Network | ErrorKind::RateLimited | ErrorKind::Unavailable
        )
    }
}

impl ProviderError {
    pub fn new(provider: &str, kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            kind,
            message: message.into(),
            retry_after: None,
            maybe_accepted: false,
        }
    }

    /// The same error, for a request that may have been accepted (see `maybe_accepted`).
    pub fn maybe_accepted(mut self) -> Self {
        self.maybe_accepted = true;
        self
    }

    pub fn retryable(&self) -> bool {
        self.kind.retryable()
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.provider, self.message)
    }
}

/// What in-process work says while it runs: how far along (0 to 1, when it knows) and a line
/// for people ("sample 12 of 32").
pub type Progress = tokio::sync::watch::Sender<Option<(Option<f32>, String)>>;

#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    fn info(&self) -> &ProviderInfo;

    async fn submit(&self, request: &GenerationRequest) -> Result<Submitted, ProviderError>;

    /// [`Provider::submit`] for a provider without a remote queue, reporting progress as it
    /// goes. The worker drops the future to stop the work (a cancel, a lost lease), so what it
    /// started (a process) must end when it is dropped.
    async fn run(
        &self,
        request: &GenerationRequest,
        _progress: &Progress,
    ) -> Result<Submitted, ProviderError> {
        self.submit(request).await
    }

    async fn poll(&self, request: RequestRef<'_>) -> Result<PollStatus, ProviderError>;

    async fn cancel(&self, request: RequestRef<'_>) -> Result<CancelOutcome, ProviderError>;

    /// Proves the key works with one cheap authenticated call that generates nothing and costs
    /// nothing. Providers without a key have nothing to prove.
    async fn verify_key(&self) -> Result<(), ProviderError> {
        Ok(())
    }

    /// Reads the published input schema of a model named by reference (for providers that run
    /// any model: Replicate's `owner/name[:version]`), as a model the form can offer.
    async fn describe_model(&self, reference: &str) -> Result<ModelInfo, ProviderError> {
        Err(ProviderError::new(
            &self.info().name,
            ErrorKind::InvalidInput,
            format!(
                "offers only the models it lists, not “{}”",
                reference.escape_debug()
            ),
        ))
    }

    /// The version of a model the provider reports apart from its name (a checkpoint's hash),
    /// for pipeline cache keys; `None` where the name says it all.
    fn model_version(&self, _model: &str) -> Option<String> {
        None
    }

    /// The provider's rate limits in this process, when it has any ([`limits::Limited`]).
    fn gate(&self) -> Option<&Arc<limits::Gate>> {
        None
    }

    /// The bytes of one output. Inline outputs need no download.
    async fn fetch(&self, output: &Output) -> Result<Vec<u8>, ProviderError> {
        match output {
            Output::Inline { bytes } => Ok(bytes.clone()),
            Output::Url { .. } => Err(ProviderError::new(
                &self.info().name,
                ErrorKind::BadOutput,
                "this provider returned a URL but cannot download it",
            )),
        }
    }
}

/// The providers this process can use, by id. Clones share one set, which changes while the
/// app runs (a key set or removed on the Settings page); [`Providers::version`] tells a reader
/// holding derived state (the worker's slots) that it changed.
#[derive(Clone, Default)]
pub struct Providers {
    by_id: Arc<RwLock<BTreeMap<String, Arc<dyn Provider>>>>,
    version: Arc<AtomicU64>,
}

impl Providers {
    /// The providers that need no configuration: the offline generator and the built-in
    /// render engine.
    pub fn builtin() -> Self {
        let providers = Self::default();
        providers.add(Arc::new(local::LocalProvider::new()));
        providers.add(Arc::new(crate::render::engines::RenderProvider(
            crate::render::engines::builtin::BuiltinEngine::new(),
        )));
        providers
    }

    /// Adds a provider, replacing one with the same id.
    pub fn add(&self, provider: Arc<dyn Provider>) {
        let id = provider.info().id.clone();
        self.by_id.write().unwrap().insert(id, provider);
        self.version.fetch_add(1, Ordering::Release);
    }

    /// Adds a hosted provider behind its rate limits; a 429 pauses it for at most
    /// `longest_pause`.
    pub fn add_limited(
        &self,
        provider: Arc<dyn Provider>,
        limits: limits::RateLimits,
        longest_pause: Duration,
    ) {
        let gate = Arc::new(limits::Gate::new(limits, longest_pause));
        self.add(Arc::new(limits::Limited::new(provider, gate)));
    }

    /// Takes a provider out (its key was removed). Jobs already running keep their handle.
    pub fn remove(&self, id: &str) {
        if self.by_id.write().unwrap().remove(id).is_some() {
            self.version.fetch_add(1, Ordering::Release);
        }
    }

    pub fn get(&self, id: &str) -> Option<Arc<dyn Provider>> {
        self.by_id.read().unwrap().get(id).cloned()
    }

    pub fn infos(&self) -> Vec<ProviderInfo> {
        let by_id = self.by_id.read().unwrap();
        by_id.values().map(|p| p.info().clone()).collect()
    }

    pub fn ids(&self) -> Vec<String> {
        self.by_id.read().unwrap().keys().cloned().collect()
    }

    /// Counts changes to the set.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }
}
