//! The render engines, each a provider without a remote queue: [`builtin`] (the CPU rasteriser
//! of [`crate::render`], always there) and [`blender`] (Cycles on the CPU, headless, when
//! Blender is installed). A render job names its engine; the engine reads the scene snapshot
//! and the merged GLB the worker loaded into the request.

pub mod blender;
pub mod builtin;

use serde::{Deserialize, Serialize};

use crate::providers::{
    CancelOutcome, ErrorKind, GenerationRequest, Output, ParamSpec, PollStatus, Progress, Provider,
    ProviderError, ProviderInfo, Providers, RequestRef, Submitted,
};
use crate::render::jobs::{OutputFormat, SceneInput};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Builtin,
    Blender,
}

impl Engine {
    pub const ALL: [Engine; 2] = [Engine::Builtin, Engine::Blender];

    /// The provider that runs it.
    pub fn provider_id(self) -> &'static str {
        match self {
            Engine::Builtin => builtin::ID,
            Engine::Blender => blender::ID,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Engine::Builtin => "built-in",
            Engine::Blender => "Blender",
        }
    }

    pub fn from_provider(id: &str) -> Option<Engine> {
        Engine::ALL.into_iter().find(|e| e.provider_id() == id)
    }
}

/// What a person does to get an engine that is missing.
pub fn how_to_install(engine: Engine) -> String {
    match engine {
        Engine::Builtin => "it is part of the app and always available".into(),
        Engine::Blender => {
            "Blender was not found. Install it with `apt install blender python3-numpy` \
             (Debian, Ubuntu) or `scripts/setup`, or set ART_FACTORY_BLENDER to the blender \
             program, then restart Art Factory."
                .into()
        }
    }
}

/// Whether an engine can render here, and if not, why and what to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineStatus {
    pub engine: Engine,
    pub name: String,
    pub available: bool,
    /// What it is (Blender's version), or how to install it.
    pub detail: String,
    /// The output formats it writes.
    pub formats: Vec<OutputFormat>,
    pub default_samples: u32,
    pub max_samples: u32,
}

pub fn statuses(providers: &Providers) -> Vec<EngineStatus> {
    Engine::ALL
        .into_iter()
        .map(|engine| {
            let provider = providers.get(engine.provider_id());
            let (formats, default_samples, max_samples) = match engine {
                Engine::Builtin => (
                    builtin::FORMATS,
                    builtin::DEFAULT_SAMPLES,
                    builtin::MAX_SAMPLES,
                ),
                Engine::Blender => (
                    blender::FORMATS,
                    blender::DEFAULT_SAMPLES,
                    blender::MAX_SAMPLES,
                ),
            };
            EngineStatus {
                engine,
                name: engine.name().to_string(),
                available: provider.is_some(),
                detail: match &provider {
                    Some(p) => p.info().description.clone(),
                    None => how_to_install(engine),
                },
                formats: formats.to_vec(),
                default_samples,
                max_samples,
            }
        })
        .collect()
}

/// The most pixels on a side of a render.
pub const MAX_SIDE: i64 = 4096;

/// The parameters every engine takes.
fn params(
    formats: &[OutputFormat],
    default_samples: u32,
    max_samples: u32,
    samples: &str,
) -> Vec<ParamSpec> {
    let formats: Vec<&str> = formats.iter().map(|f| f.as_str()).collect();
    vec![
        ParamSpec::integer("width", "Width", "Pixels across.", 512, 16, MAX_SIDE, 1),
        ParamSpec::integer("height", "Height", "Pixels down.", 512, 16, MAX_SIDE, 1),
        ParamSpec::choice(
            "format",
            "Format",
            "The file the render is written as.",
            formats[0],
            &formats,
        ),
        ParamSpec::integer(
            "samples",
            "Samples",
            samples,
            default_samples as i64,
            1,
            max_samples as i64,
            1,
        ),
    ]
}

/// A render's order as the engine reads it: the scene with its GLB, and the checked parameters.
pub struct Order<'a> {
    pub scene: &'a SceneInput,
    pub glb: &'a [u8],
    pub width: u32,
    pub height: u32,
    pub format: OutputFormat,
    pub samples: u32,
}

impl<'a> Order<'a> {
    pub fn of(provider: &str, request: &'a GenerationRequest) -> Result<Order<'a>, ProviderError> {
        let invalid = |what: &str| ProviderError::new(provider, ErrorKind::InvalidInput, what);
        let scene = request
            .scene
            .as_ref()
            .ok_or_else(|| invalid("a render job needs a scene"))?;
        let glb = scene
            .glb
            .as_deref()
            .ok_or_else(|| invalid("the scene's models were not loaded"))?;
        let int = |name: &str| request.params.get(name).and_then(serde_json::Value::as_u64);
        Ok(Order {
            scene,
            glb,
            width: int("width").unwrap_or(512) as u32,
            height: int("height").unwrap_or(512) as u32,
            format: request
                .params
                .get("format")
                .and_then(|f| serde_json::from_value(f.clone()).ok())
                .unwrap_or(OutputFormat::Png),
            samples: int("samples").unwrap_or(1) as u32,
        })
    }
}

/// An engine: draws an order into the bytes of its picture, reporting progress.
#[async_trait::async_trait]
pub trait Renderer: Send + Sync {
    fn info(&self) -> &ProviderInfo;

    async fn render(
        &self,
        order: &Order<'_>,
        progress: &Progress,
    ) -> Result<Vec<u8>, ProviderError>;
}

/// An engine as a provider without a remote queue: a render is done when `run` returns, and
/// dropping it stops the engine.
pub struct RenderProvider<R>(pub R);

#[async_trait::async_trait]
impl<R: Renderer> Provider for RenderProvider<R> {
    fn info(&self) -> &ProviderInfo {
        self.0.info()
    }

    async fn submit(&self, request: &GenerationRequest) -> Result<Submitted, ProviderError> {
        let (progress, _) = tokio::sync::watch::channel(None);
        self.run(request, &progress).await
    }

    async fn run(
        &self,
        request: &GenerationRequest,
        progress: &Progress,
    ) -> Result<Submitted, ProviderError> {
        let order = Order::of(&self.0.info().name, request)?;
        let bytes = self.0.render(&order, progress).await?;
        Ok(Submitted::Finished(vec![Output::Inline { bytes }]))
    }

    async fn poll(&self, _request: RequestRef<'_>) -> Result<PollStatus, ProviderError> {
        Err(ProviderError::new(
            &self.0.info().name,
            ErrorKind::NotFound,
            "renders run in this process; there is nothing to poll",
        ))
    }

    async fn cancel(&self, _request: RequestRef<'_>) -> Result<CancelOutcome, ProviderError> {
        Ok(CancelOutcome::NotFound)
    }
}
