//! Pipelines on the wire: a pipeline, its steps as the editor shows them (one flat form per
//! step, its kind an enum), and runs with each step's state and pictures.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ProductDto;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineDto {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub latest_version: i32,
    pub created_at: DateTime<Utc>,
}

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKindName {
    Input,
    #[default]
    Generate,
    ImageToImage,
    Upscale,
    CropResize,
    Variations,
    ContactSheet,
}

impl StepKindName {
    pub const ALL: [StepKindName; 7] = [
        StepKindName::Input,
        StepKindName::Generate,
        StepKindName::ImageToImage,
        StepKindName::Variations,
        StepKindName::Upscale,
        StepKindName::CropResize,
        StepKindName::ContactSheet,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StepKindName::Input => "input",
            StepKindName::Generate => "generate",
            StepKindName::ImageToImage => "image_to_image",
            StepKindName::Upscale => "upscale",
            StepKindName::CropResize => "crop_resize",
            StepKindName::Variations => "variations",
            StepKindName::ContactSheet => "contact_sheet",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            StepKindName::Input => "Input picture",
            StepKindName::Generate => "Generate",
            StepKindName::ImageToImage => "Image to image",
            StepKindName::Upscale => "Upscale",
            StepKindName::CropResize => "Crop / resize",
            StepKindName::Variations => "Variations",
            StepKindName::ContactSheet => "Contact sheet",
        }
    }

    /// It calls a provider with a prompt.
    pub fn prompted(self) -> bool {
        matches!(
            self,
            StepKindName::Generate | StepKindName::ImageToImage | StepKindName::Variations
        )
    }

    /// How many steps feed it: none, one, or any number.
    pub fn takes(self) -> Takes {
        match self {
            StepKindName::Input | StepKindName::Generate => Takes::Nothing,
            StepKindName::ContactSheet => Takes::Many,
            _ => Takes::One,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takes {
    Nothing,
    One,
    Many,
}

/// How a crop/resize step fits the picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FitName {
    #[default]
    Contain,
    Cover,
    Stretch,
}

/// One step as the editor holds it: every kind's fields, of which its kind uses some.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepForm {
    pub name: String,
    pub kind: StepKindName,
    pub provider: String,
    pub model: String,
    pub prompt: String,
    pub negative_prompt: String,
    /// The model's parameters as a JSON object (`{}` for none).
    pub params: String,
    pub count: u32,
    /// Upscale: by a provider's model (else Lanczos here, by `factor`).
    pub on_provider: bool,
    pub factor: f64,
    pub width: u32,
    pub height: u32,
    pub fit: FitName,
    pub columns: u32,
    pub title: String,
    pub labels: bool,
    /// A fixed seed; `None`: derived from the run seed.
    pub seed: Option<i64>,
    pub always_run: bool,
    /// The steps (by name) whose outputs it takes, in order.
    pub inputs: Vec<String>,
}

impl StepForm {
    /// A new step of `kind` called `name`, fed by `after` when it takes input.
    pub fn new(name: String, kind: StepKindName, after: Option<String>) -> Self {
        Self {
            name,
            kind,
            provider: "local".into(),
            model: match kind {
                StepKindName::ImageToImage | StepKindName::Variations => "remix".into(),
                _ => "aurora".into(),
            },
            prompt: String::new(),
            negative_prompt: String::new(),
            params: "{}".into(),
            count: 4,
            on_provider: false,
            factor: 2.0,
            width: 512,
            height: 512,
            fit: FitName::Contain,
            columns: 4,
            title: String::new(),
            labels: true,
            seed: None,
            always_run: false,
            inputs: match kind.takes() {
                Takes::Nothing => Vec::new(),
                _ => after.into_iter().collect(),
            },
        }
    }
}

/// A pipeline with one of its versions open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineDetailDto {
    pub pipeline: PipelineDto,
    pub version: i32,
    pub steps: Vec<StepForm>,
    /// Every version, newest first.
    pub versions: Vec<(i32, DateTime<Utc>)>,
    /// The newest runs, newest first.
    pub runs: Vec<RunSummaryDto>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStateDto {
    Running,
    Succeeded,
    Failed,
    Canceled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStateDto {
    Waiting,
    Cached,
    Queued,
    Running,
    Succeeded,
    Failed,
    Blocked,
    Canceled,
}

impl StepStateDto {
    pub fn label(self) -> &'static str {
        match self {
            StepStateDto::Waiting => "waiting",
            StepStateDto::Cached => "cached",
            StepStateDto::Queued => "queued",
            StepStateDto::Running => "running",
            StepStateDto::Succeeded => "done",
            StepStateDto::Failed => "failed",
            StepStateDto::Blocked => "not run",
            StepStateDto::Canceled => "cancelled",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummaryDto {
    pub id: i64,
    pub version: i32,
    pub run_seed: i64,
    pub state: RunStateDto,
    pub rerun_of: Option<i64>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStepDto {
    pub name: String,
    pub state: StepStateDto,
    pub seed: Option<i64>,
    pub error: Option<String>,
    pub jobs_done: i64,
    pub jobs_total: i64,
    pub products: Vec<ProductDto>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDto {
    pub summary: RunSummaryDto,
    pub pipeline_id: i64,
    pub input_product_id: Option<i64>,
    pub steps: Vec<RunStepDto>,
}

/// What a run would do before it starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunPreviewDto {
    /// Step names the cache answers.
    pub cached: Vec<String>,
    pub to_run: usize,
    pub cost_micros: i64,
    /// Steps that would run on a model without a known price.
    pub unpriced: Vec<String>,
}

#[cfg(feature = "ssr")]
mod from_engine {
    use factory::pipelines::graph::{Fit, Link, ProviderCall, SeedRule, Step, StepKind, Upscale};
    use factory::pipelines::runs::{Run, RunState, RunView, StepState};
    use factory::pipelines::{Graph, Pipeline};

    use super::*;
    use crate::error::AppError;

    impl From<Pipeline> for PipelineDto {
        fn from(p: Pipeline) -> Self {
            Self {
                id: p.id,
                project_id: p.project_id,
                name: p.name,
                latest_version: p.latest_version,
                created_at: p.created_at,
            }
        }
    }

    impl From<&Run> for RunSummaryDto {
        fn from(r: &Run) -> Self {
            Self {
                id: r.id,
                version: r.version,
                run_seed: r.run_seed,
                state: match r.state() {
                    RunState::Running => RunStateDto::Running,
                    RunState::Succeeded => RunStateDto::Succeeded,
                    RunState::Failed => RunStateDto::Failed,
                    RunState::Canceled => RunStateDto::Canceled,
                },
                rerun_of: r.rerun_of,
                created_at: r.created_at,
            }
        }
    }

    impl From<RunView> for RunDto {
        fn from(v: RunView) -> Self {
            Self {
                summary: (&v.run).into(),
                pipeline_id: v.run.pipeline_id,
                input_product_id: v.run.input_product_id,
                steps: v
                    .steps
                    .into_iter()
                    .map(|s| RunStepDto {
                        state: match s.step.state() {
                            StepState::Waiting => StepStateDto::Waiting,
                            StepState::Cached => StepStateDto::Cached,
                            // A queued step whose jobs a worker holds is running.
                            StepState::Queued if s.jobs_in_flight > 0 || s.jobs_done > 0 => {
                                StepStateDto::Running
                            }
                            StepState::Queued => StepStateDto::Queued,
                            StepState::Running => StepStateDto::Running,
                            StepState::Succeeded => StepStateDto::Succeeded,
                            StepState::Failed => StepStateDto::Failed,
                            StepState::Blocked => StepStateDto::Blocked,
                            StepState::Canceled => StepStateDto::Canceled,
                        },
                        name: s.step.name,
                        seed: s.step.seed,
                        error: s.step.error,
                        jobs_done: s.jobs_done,
                        jobs_total: s.jobs_total,
                        products: s.products.into_iter().map(ProductDto::from).collect(),
                    })
                    .collect(),
            }
        }
    }

    impl StepForm {
        pub fn from_step(step: &Step) -> Self {
            let mut form = StepForm::new(step.name.clone(), StepKindName::Generate, None);
            form.seed = match step.seed {
                SeedRule::Fixed { seed } => Some(seed),
                SeedRule::Derived => None,
            };
            form.always_run = step.always_run;
            form.inputs = step
                .inputs
                .values()
                .flatten()
                .map(|l| l.step.clone())
                .collect();
            if let Some(call) = step.kind.call() {
                form.provider = call.provider.clone();
                form.model = call.model.clone();
                form.prompt = call.prompt.clone();
                form.negative_prompt = call.negative_prompt.clone();
                form.params = serde_json::Value::Object(call.params.clone()).to_string();
            }
            form.kind = match &step.kind {
                StepKind::Input {} => StepKindName::Input,
                StepKind::Generate { .. } => StepKindName::Generate,
                StepKind::ImageToImage { .. } => StepKindName::ImageToImage,
                StepKind::Variations { count, .. } => {
                    form.count = *count;
                    StepKindName::Variations
                }
                StepKind::Upscale { how } => {
                    match how {
                        Upscale::Lanczos { factor } => form.factor = *factor,
                        Upscale::Provider {
                            provider,
                            model,
                            params,
                        } => {
                            form.on_provider = true;
                            form.provider = provider.clone();
                            form.model = model.clone();
                            form.params = serde_json::Value::Object(params.clone()).to_string();
                        }
                    }
                    StepKindName::Upscale
                }
                StepKind::CropResize { width, height, fit } => {
                    (form.width, form.height) = (*width, *height);
                    form.fit = match fit {
                        Fit::Contain => FitName::Contain,
                        Fit::Cover => FitName::Cover,
                        Fit::Stretch => FitName::Stretch,
                    };
                    StepKindName::CropResize
                }
                StepKind::ContactSheet {
                    columns,
                    title,
                    labels,
                } => {
                    (form.columns, form.labels) = (*columns, *labels);
                    form.title = title.clone();
                    StepKindName::ContactSheet
                }
            };
            form
        }

        /// The engine's step; links name each source step's one output. `kinds` gives each
        /// step's kind by name, for the output's name.
        fn to_step(
            &self,
            index: usize,
            kinds: &std::collections::HashMap<&str, StepKindName>,
        ) -> Result<Step, AppError> {
            let params = || -> Result<serde_json::Map<String, serde_json::Value>, AppError> {
                match serde_json::from_str(self.params.trim()) {
                    Ok(serde_json::Value::Object(map)) => Ok(map),
                    _ if self.params.trim().is_empty() => Ok(Default::default()),
                    _ => Err(AppError::invalid(
                        &format!("steps.{index}.params"),
                        format!(
                            "Step “{}”: parameters must be a JSON object, like {{\"width\": 512}}.",
                            self.name
                        ),
                    )),
                }
            };
            let call = || -> Result<ProviderCall, AppError> {
                Ok(ProviderCall {
                    provider: self.provider.trim().to_string(),
                    model: self.model.trim().to_string(),
                    prompt: self.prompt.clone(),
                    negative_prompt: self.negative_prompt.clone(),
                    params: params()?,
                })
            };
            let kind = match self.kind {
                StepKindName::Input => StepKind::Input {},
                StepKindName::Generate => StepKind::Generate { call: call()? },
                StepKindName::ImageToImage => StepKind::ImageToImage { call: call()? },
                StepKindName::Variations => StepKind::Variations {
                    call: call()?,
                    count: self.count,
                },
                StepKindName::Upscale if self.on_provider => StepKind::Upscale {
                    how: Upscale::Provider {
                        provider: self.provider.trim().to_string(),
                        model: self.model.trim().to_string(),
                        params: params()?,
                    },
                },
                StepKindName::Upscale => StepKind::Upscale {
                    how: Upscale::Lanczos {
                        factor: self.factor,
                    },
                },
                StepKindName::CropResize => StepKind::CropResize {
                    width: self.width,
                    height: self.height,
                    fit: match self.fit {
                        FitName::Contain => Fit::Contain,
                        FitName::Cover => Fit::Cover,
                        FitName::Stretch => Fit::Stretch,
                    },
                },
                StepKindName::ContactSheet => StepKind::ContactSheet {
                    columns: self.columns,
                    title: self.title.clone(),
                    labels: self.labels,
                },
            };
            let mut inputs = std::collections::BTreeMap::new();
            let links: Vec<Link> = self
                .inputs
                .iter()
                .filter(|name| !name.trim().is_empty())
                .map(|name| Link {
                    step: name.clone(),
                    output: match kinds.get(name.as_str()) {
                        Some(StepKindName::Variations) => "images".into(),
                        _ => "image".into(),
                    },
                })
                .collect();
            if let Some(port) = kind.inputs().first() {
                if !links.is_empty() {
                    inputs.insert(port.name.to_string(), links);
                }
            }
            Ok(Step {
                name: self.name.trim().to_string(),
                kind,
                seed: match self.seed {
                    Some(seed) => SeedRule::Fixed { seed },
                    None => SeedRule::Derived,
                },
                always_run: self.always_run,
                inputs,
            })
        }
    }

    /// The engine's graph of the editor's steps (checked when saved).
    pub fn graph_of(steps: &[StepForm]) -> Result<Graph, AppError> {
        let kinds = steps.iter().map(|s| (s.name.trim(), s.kind)).collect();
        Ok(Graph {
            steps: steps
                .iter()
                .enumerate()
                .map(|(i, s)| s.to_step(i, &kinds))
                .collect::<Result<_, _>>()?,
        })
    }
}

#[cfg(feature = "ssr")]
pub use from_engine::graph_of;
