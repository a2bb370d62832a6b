//! Pipelines: generators chained into a graph, with a cache that survives restarts.
//!
//! A pipeline is a versioned graph of steps ([`graph`]): generate, image-to-image, upscale,
//! crop/resize, variations and contact sheet, each with typed input and output ports. A step's
//! cache key ([`keys`]) covers everything its result depends on and nothing else, so a second
//! run of an unchanged pipeline with the same run seed runs nothing, and an edit re-runs exactly
//! the edited step and the steps after it.

pub mod driver;
pub mod graph;
pub mod keys;
pub mod local;
pub mod preview;
pub mod runs;
pub mod store;

pub use graph::{
    Fit, Graph, GraphError, Link, PortType, ProviderCall, SeedRule, Step, StepKind, Upscale,
};
pub use keys::{plan, KeyInputs, Planned, StepKey};
pub use preview::{preview, Preview, StepPreview};
pub use runs::{Run, RunError, RunRequest, RunState, RunStep, StepState};
pub use store::{Pipeline, PipelineError, PipelineName, Version};

#[cfg(test)]
mod tests;
