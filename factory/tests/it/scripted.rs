//! A provider with a remote queue whose behaviour each prompt scripts, for exercising the
//! engine's state machine: `ok`, `flaky:N` (N retryable submit failures, then ok), `refused`
//! (a validation error), `hang` (runs until cancelled); a prompt given a file with
//! [`Scripted::answer_with`] completes with those bytes. It counts submissions and cancels.

use std::collections::HashMap;
use std::sync::Mutex;

use factory::providers::local::generate_png;
use factory::providers::{
    CancelOutcome, Capability, ErrorKind, GenerationRequest, ModelInfo, Output, ParamSpec,
    PollStatus, Provider, ProviderError, ProviderInfo, RequestRef, Submitted,
};

pub const ID: &str = "scripted";

pub struct Scripted {
    info: ProviderInfo,
    inner: Mutex<State>,
}

#[derive(Default)]
struct State {
    next_id: u64,
    /// request id -> (request, polls so far, cancelled)
    requests: HashMap<String, (GenerationRequest, u32, bool)>,
    /// submissions per prompt (including failed ones)
    pub submissions: HashMap<String, u32>,
    pub cancels: Vec<String>,
    /// prompt -> the bytes its request completes with
    answers: HashMap<String, Vec<u8>>,
}

impl Scripted {
    pub fn new() -> Self {
        Self {
            info: ProviderInfo {
                id: ID.into(),
                name: "Scripted".into(),
                description: "test provider".into(),
                remote_queue: true,
                any_model: false,
                models: vec![ModelInfo {
                    id: "m".into(),
                    name: "M".into(),
                    description: String::new(),
                    capability: Capability::TextToImage,
                    negative_prompt: true,
                    image_input: None,
                    image_strength: None,
                    networks: false,
                    inputs: Default::default(),
                    params: vec![ParamSpec::integer("width", "Width", "", 64, 8, 256, 8)],
                }],
            },
            inner: Mutex::new(State::default()),
        }
    }

    pub fn submissions(&self, prompt: &str) -> u32 {
        self.inner
            .lock()
            .unwrap()
            .submissions
            .get(prompt)
            .copied()
            .unwrap_or(0)
    }

    /// A request for `prompt` completes with `bytes` (a video, a sound, a damaged file).
    pub fn answer_with(&self, prompt: &str, bytes: Vec<u8>) {
        let mut state = self.inner.lock().unwrap();
        state.answers.insert(prompt.to_string(), bytes);
    }

    pub fn cancels(&self) -> Vec<String> {
        self.inner.lock().unwrap().cancels.clone()
    }
}

fn png_for(request: &GenerationRequest) -> Vec<u8> {
    let mut local = request.clone();
    local.model = "aurora".into();
    local.params = serde_json::json!({"width": 64, "height": 64, "detail": 2})
        .as_object()
        .unwrap()
        .clone();
    generate_png(&local).unwrap()
}

#[async_trait::async_trait]
impl Provider for Scripted {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    async fn submit(&self, request: &GenerationRequest) -> Result<Submitted, ProviderError> {
        let mut state = self.inner.lock().unwrap();
        let count = state.submissions.entry(request.prompt.clone()).or_default();
        *count += 1;
        let count = *count;
        let prompt = request.prompt.split('#').next().unwrap_or("");
        if let Some(n) = prompt.strip_prefix("flaky:") {
            if count <= n.parse::<u32>().unwrap() {
                return Err(ProviderError::new(
                    "Scripted",
                    ErrorKind::Unavailable,
                    format!("overloaded (try {count})"),
                ));
            }
        }
        if prompt == "refused" {
            return Err(ProviderError::new(
                "Scripted",
                ErrorKind::InvalidInput,
                "the prompt was refused by the content filter",
            ));
        }
        state.next_id += 1;
        let id = format!("req-{}", state.next_id);
        state
            .requests
            .insert(id.clone(), (request.clone(), 0, false));
        Ok(Submitted::Queued { request_id: id })
    }

    async fn poll(&self, request: RequestRef<'_>) -> Result<PollStatus, ProviderError> {
        let request_id = request.request_id;
        let mut guard = self.inner.lock().unwrap();
        let state = &mut *guard;
        let Some((request, polls, cancelled)) = state.requests.get_mut(request_id) else {
            return Err(ProviderError::new(
                "Scripted",
                ErrorKind::NotFound,
                "no such request",
            ));
        };
        *polls += 1;
        if *cancelled {
            return Ok(PollStatus::Canceled);
        }
        if request.prompt.starts_with("hang") {
            return Ok(PollStatus::Running {
                progress: Some(0.5),
                message: None,
            });
        }
        match *polls {
            1 => Ok(PollStatus::Queued { position: Some(1) }),
            2 => Ok(PollStatus::Running {
                progress: Some(0.5),
                message: Some("denoising".into()),
            }),
            _ => {
                let bytes = match state.answers.get(&request.prompt) {
                    Some(bytes) => bytes.clone(),
                    None => png_for(request),
                };
                Ok(PollStatus::Completed(vec![Output::Inline { bytes }]))
            }
        }
    }

    async fn cancel(&self, request: RequestRef<'_>) -> Result<CancelOutcome, ProviderError> {
        let request_id = request.request_id;
        let mut state = self.inner.lock().unwrap();
        state.cancels.push(request_id.to_string());
        match state.requests.get_mut(request_id) {
            Some(entry) => {
                entry.2 = true;
                Ok(CancelOutcome::Requested)
            }
            None => Ok(CancelOutcome::NotFound),
        }
    }
}
