//! A provider that finishes every request at once with no output: what is left to measure is
//! the queue (the benchmarks).

use std::sync::Arc;

use crate::providers::{
    CancelOutcome, Capability, GenerationRequest, ModelInfo, PollStatus, Provider, ProviderError,
    ProviderInfo, RequestRef, Submitted,
};

pub const ID: &str = "noop";
pub const MODEL: &str = "none";

pub struct Noop(ProviderInfo);

#[async_trait::async_trait]
impl Provider for Noop {
    fn info(&self) -> &ProviderInfo {
        &self.0
    }
    async fn submit(&self, _: &GenerationRequest) -> Result<Submitted, ProviderError> {
        Ok(Submitted::Finished(Vec::new()))
    }
    async fn poll(&self, _: RequestRef<'_>) -> Result<PollStatus, ProviderError> {
        Ok(PollStatus::Completed(Vec::new()))
    }
    async fn cancel(&self, _: RequestRef<'_>) -> Result<CancelOutcome, ProviderError> {
        Ok(CancelOutcome::NotFound)
    }
}

/// `count` jobs for the no-op provider in `project_id` (confirmed, random seeds).
pub fn launch(project_id: i64, count: u32) -> crate::batches::LaunchRequest {
    crate::batches::LaunchRequest {
        project_id,
        provider: ID.into(),
        model: MODEL.into(),
        prompt: "benchmark".into(),
        negative_prompt: String::new(),
        params: Default::default(),
        count,
        seed: crate::batches::SeedChoice::Random,
        mode: crate::prompt::Mode::Combinatorial,
        confirmed: true,
        networks: Vec::new(),
        input_image: None,
        made_from: None,
    }
}

pub fn noop() -> Arc<Noop> {
    Arc::new(Noop(ProviderInfo {
        id: ID.into(),
        name: "No-op".into(),
        description: String::new(),
        remote_queue: false,
        any_model: false,
        models: vec![ModelInfo {
            id: MODEL.into(),
            name: "None".into(),
            description: String::new(),
            capability: Capability::TextToImage,
            negative_prompt: true,
            image_input: None,
            image_strength: None,
            networks: false,
            inputs: Default::default(),
            params: Vec::new(),
        }],
    }))
}
