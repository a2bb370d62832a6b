//! Wire types: what the server sends the browser. Plain data, wasm-safe, no database types.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectDto {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub archived: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(feature = "ssr")]
impl From<factory::projects::Project> for ProjectDto {
    fn from(p: factory::projects::Project) -> Self {
        Self {
            archived: p.is_archived(),
            id: p.id,
            name: p.name,
            slug: p.slug,
            description: p.description,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// One job as the browser sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobDto {
    pub id: i64,
    pub batch_id: i64,
    pub project_id: i64,
    pub item_index: i32,
    pub provider: String,
    pub model: String,
    pub prompt: String,
    pub seed: i64,
    /// `queued`, `submitting`, `running`, `downloading`, `retry_wait`, `succeeded`, `failed`,
    /// `canceled`.
    pub state: String,
    /// Higher runs first (moved to the front).
    pub priority: i64,
    pub progress: Option<f32>,
    pub provider_status: Option<String>,
    pub error: Option<String>,
    pub attempts: i32,
    pub max_attempts: i32,
    pub possibly_duplicated: bool,
    pub cancel_requested: bool,
    pub run_after: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl JobDto {
    pub fn is_terminal(&self) -> bool {
        matches!(self.state.as_str(), "succeeded" | "failed" | "canceled")
    }

    pub fn is_waiting(&self) -> bool {
        matches!(self.state.as_str(), "queued" | "retry_wait")
    }
}

/// A stored result, with the URLs of its file and thumbnails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductDto {
    pub id: i64,
    pub project_id: i64,
    pub job_id: Option<i64>,
    pub batch_id: Option<i64>,
    pub url: String,
    pub thumb_url: String,
    pub preview_url: String,
    /// CSS colour for the thumbnail's box while it loads (the image's average, from ThumbHash).
    pub placeholder: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub prompt: String,
    pub seed: Option<i64>,
}

/// Where the media route serves a product's files (content-hash URLs, cached forever).
pub fn media_urls(project_id: i64, hash: &str, ext: &str) -> (String, String, String) {
    (
        format!("/media/{project_id}/{hash}.{ext}"),
        format!("/media/{project_id}/{hash}-256.webp"),
        format!("/media/{project_id}/{hash}-768.webp"),
    )
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueTotalsDto {
    pub queued: i64,
    pub running: i64,
    pub retry_wait: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub canceled: i64,
}

impl QueueTotalsDto {
    pub fn active(&self) -> i64 {
        self.queued + self.running + self.retry_wait
    }
}

/// What `/ws` and `/events` send. A client applies `Job`/`ProductCreated`/`Paused` in `seq`
/// order; a `Snapshot` replaces everything it knows (sent first, and again whenever the client
/// fell behind), and events with `seq` at or below the snapshot's are already in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveMessage {
    Snapshot {
        seq: u64,
        paused: bool,
        totals: QueueTotalsDto,
        jobs: Vec<JobDto>,
    },
    Job {
        seq: u64,
        job: JobDto,
    },
    ProductCreated {
        seq: u64,
        product: ProductDto,
    },
    Paused {
        seq: u64,
        paused: bool,
    },
}

impl LiveMessage {
    pub fn seq(&self) -> u64 {
        match self {
            LiveMessage::Snapshot { seq, .. }
            | LiveMessage::Job { seq, .. }
            | LiveMessage::ProductCreated { seq, .. }
            | LiveMessage::Paused { seq, .. } => *seq,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<factory::jobs::Job> for JobDto {
    fn from(job: factory::jobs::Job) -> Self {
        let prompt = job
            .input
            .get("prompt")
            .and_then(|p| p.as_str())
            .unwrap_or_default()
            .to_string();
        Self {
            state: job.state().as_str().to_string(),
            id: job.id,
            batch_id: job.batch_id,
            project_id: job.project_id,
            item_index: job.item_index,
            provider: job.provider,
            model: job.model,
            prompt,
            seed: job.seed,
            priority: job.priority,
            progress: job.progress,
            provider_status: job.provider_status,
            error: job.error,
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            possibly_duplicated: job.possibly_duplicated,
            cancel_requested: job.cancel_requested,
            run_after: job.run_after,
            updated_at: job.updated_at,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<factory::products::Product> for ProductDto {
    fn from(p: factory::products::Product) -> Self {
        let (url, thumb_url, preview_url) = media_urls(p.project_id, &p.content_hash, p.ext());
        Self {
            id: p.id,
            project_id: p.project_id,
            job_id: p.job_id,
            batch_id: p.batch_id,
            url,
            thumb_url,
            preview_url,
            placeholder: p
                .thumbhash
                .as_deref()
                .and_then(factory::media::placeholder_color),
            width: p.width,
            height: p.height,
            prompt: p.prompt,
            seed: p.seed,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<factory::jobs::queue::QueueTotals> for QueueTotalsDto {
    fn from(t: factory::jobs::queue::QueueTotals) -> Self {
        Self {
            queued: t.queued,
            running: t.submitting + t.running + t.downloading,
            retry_wait: t.retry_wait,
            succeeded: t.succeeded,
            failed: t.failed,
            canceled: t.canceled,
        }
    }
}

/// A model parameter the Generate form renders as a field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamDto {
    pub name: String,
    pub label: String,
    pub description: String,
    pub kind: ParamKindDto,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ParamKindDto {
    Integer {
        default: i64,
        min: i64,
        max: i64,
        step: i64,
    },
    Float {
        default: f64,
        min: f64,
        max: f64,
    },
    Bool {
        default: bool,
    },
    Choice {
        default: String,
        values: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelDto {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Whether the model takes a negative prompt.
    pub negative_prompt: bool,
    pub params: Vec<ParamDto>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderDto {
    pub id: String,
    pub name: String,
    pub description: String,
    pub models: Vec<ModelDto>,
}

/// Everything the Generate form offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerateOptionsDto {
    pub projects: Vec<ProjectDto>,
    pub providers: Vec<ProviderDto>,
    pub max_count: u32,
    /// Launches above this many items ask for a confirmation.
    pub confirm_above: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchedDto {
    pub batch_id: i64,
    pub jobs: Vec<JobDto>,
}

#[cfg(feature = "ssr")]
impl From<&factory::providers::ProviderInfo> for ProviderDto {
    fn from(info: &factory::providers::ProviderInfo) -> Self {
        use factory::providers::ParamKind;
        let param = |p: &factory::providers::ParamSpec| ParamDto {
            name: p.name.clone(),
            label: p.label.clone(),
            description: p.description.clone(),
            kind: match &p.kind {
                ParamKind::Integer {
                    default,
                    min,
                    max,
                    step,
                } => ParamKindDto::Integer {
                    default: *default,
                    min: *min,
                    max: *max,
                    step: *step,
                },
                ParamKind::Float { default, min, max } => ParamKindDto::Float {
                    default: *default,
                    min: *min,
                    max: *max,
                },
                ParamKind::Bool { default } => ParamKindDto::Bool { default: *default },
                ParamKind::Choice { default, values } => ParamKindDto::Choice {
                    default: default.clone(),
                    values: values.clone(),
                },
            },
        };
        Self {
            id: info.id.clone(),
            name: info.name.clone(),
            description: info.description.clone(),
            models: info
                .models
                .iter()
                .map(|m| ModelDto {
                    id: m.id.clone(),
                    name: m.name.clone(),
                    description: m.description.clone(),
                    negative_prompt: m.negative_prompt,
                    params: m.params.iter().map(param).collect(),
                })
                .collect(),
        }
    }
}

/// What the Generate form sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchForm {
    pub project_id: i64,
    pub provider: String,
    pub model: String,
    pub prompt: String,
    pub negative_prompt: String,
    /// A JSON object of the model's parameters.
    pub params: String,
    /// Combinatorial: images per combination. Random: how many images.
    pub count: u32,
    /// `combinatorial` (the default) or `random`.
    #[serde(default)]
    pub mode: String,
    /// `derived` (per-item seeds from the batch seed `seed`, or a random one), `fixed` (`seed`
    /// for every item) or `random` (a new seed per item).
    pub seed_mode: String,
    pub seed: Option<i64>,
    /// The person confirmed a launch above the warning threshold.
    #[serde(default)]
    pub confirmed: bool,
}

/// What the live preview shows while the prompt is typed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreviewDto {
    /// Items the launch would queue.
    pub total: u64,
    pub combinations: u64,
    /// The first few expanded prompts.
    pub examples: Vec<String>,
    /// Launching needs a confirmation (above the warning threshold).
    pub needs_confirm: bool,
    pub error: Option<PromptErrorDto>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptErrorDto {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// The Generate form as a template saves it (everything but the project).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TemplateForm {
    pub provider: String,
    pub model: String,
    /// A JSON object of the model's parameters.
    pub params: String,
    pub prompt: String,
    pub negative_prompt: String,
    pub mode: String,
    pub count: u32,
    pub seed_mode: String,
    pub seed: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateDto {
    pub id: i64,
    /// `None`: global.
    pub project_id: Option<i64>,
    pub name: String,
    pub form: TemplateForm,
    pub updated_at: DateTime<Utc>,
}

#[cfg(feature = "ssr")]
impl From<factory::library::templates::Template> for TemplateDto {
    fn from(t: factory::library::templates::Template) -> Self {
        Self {
            id: t.id,
            project_id: t.project_id,
            name: t.name,
            // A form saved by an older version lacks newer fields; they take their defaults.
            form: serde_json::from_value(t.form).unwrap_or_default(),
            updated_at: t.updated_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WildcardDto {
    pub id: i64,
    /// `None`: global.
    pub project_id: Option<i64>,
    pub name: String,
    pub values: Vec<String>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(feature = "ssr")]
impl From<factory::library::wildcards::Wildcard> for WildcardDto {
    fn from(w: factory::library::wildcards::Wildcard) -> Self {
        Self {
            id: w.id,
            project_id: w.project_id,
            name: w.name,
            values: w.values,
            updated_at: w.updated_at,
        }
    }
}

/// A token of a batch's prompt, offered as a grid axis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenDto {
    pub key: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridCellItemDto {
    pub job_id: i64,
    pub state: String,
    pub prompt: String,
    pub seed: i64,
    pub product: Option<ProductDto>,
}

/// A batch laid out by two axes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridDto {
    pub batch_id: i64,
    pub project_id: i64,
    pub prompt_template: String,
    /// Every axis on offer: the tokens, then `seed`.
    pub axes: Vec<TokenDto>,
    pub x: String,
    pub y: String,
    pub columns: Vec<String>,
    pub rows: Vec<String>,
    pub cells: Vec<Vec<Vec<GridCellItemDto>>>,
}
