//! The Generate form, its options, the live preview, and X/Y grids on the wire.

use super::{JobDto, JobState, ProductDto, ProjectDto};
use serde::{Deserialize, Serialize};

/// How a prompt becomes a batch's items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum ExpansionMode {
    /// Every combination, each `count` times.
    #[default]
    Combinatorial,
    /// `count` items sampled from the batch seed.
    Random,
}

/// Where each item's seed comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum SeedMode {
    /// From the batch seed and the item's choices (a random batch seed when none is given).
    #[default]
    Derived,
    /// The same seed for every item.
    Fixed,
    /// A new random seed for every item.
    Random,
}

/// Reads a stored form's mode: an empty value (written by older versions) is the default;
/// anything else must name a mode.
pub(super) fn empty_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + serde::de::DeserializeOwned,
{
    let value = serde_json::Value::deserialize(deserializer)?;
    match value {
        serde_json::Value::String(ref s) if s.is_empty() => Ok(T::default()),
        serde_json::Value::Null => Ok(T::default()),
        other => serde_json::from_value(other).map_err(serde::de::Error::custom),
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
    /// Whether LoRAs can be added to it.
    #[serde(default)]
    pub networks: bool,
    /// Whether it can start from an input image, and whether it must.
    #[serde(default)]
    pub takes_image: bool,
    #[serde(default)]
    pub needs_image: bool,
    /// The parameter that only means something with an input image (its strength).
    #[serde(default)]
    pub image_strength: Option<String>,
    pub params: Vec<ParamDto>,
    /// What it makes: `Image`, `Video` or `Audio`.
    pub makes: super::ProductKind,
    /// What it does, in words (`Image to video`, `Speech`).
    pub capability: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderDto {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Whether any model of its catalog can be loaded by reference.
    pub any_model: bool,
    /// Whether its catalog can be browsed (Civitai's model browser).
    pub browsable: bool,
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
impl From<&factory::providers::ParamSpec> for ParamDto {
    fn from(p: &factory::providers::ParamSpec) -> Self {
        use factory::providers::ParamKind;
        Self {
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
        }
    }
}

#[cfg(feature = "ssr")]
impl From<&factory::providers::ModelInfo> for ModelDto {
    fn from(m: &factory::providers::ModelInfo) -> Self {
        use factory::providers::{Capability, Makes};
        Self {
            id: m.id.clone(),
            name: m.name.clone(),
            description: m.description.clone(),
            negative_prompt: m.negative_prompt,
            networks: m.networks,
            takes_image: m.image_input.is_some(),
            needs_image: m.capability.needs_image(),
            image_strength: m.image_strength.clone(),
            params: m.params.iter().map(Into::into).collect(),
            makes: match m.capability.makes() {
                Makes::Image => super::ProductKind::Image,
                Makes::Video => super::ProductKind::Video,
                Makes::Audio => super::ProductKind::Audio,
            },
            capability: match m.capability {
                Capability::TextToImage | Capability::Render => "Text to image",
                Capability::ImageToImage => "Image to image",
                Capability::TextToVideo => "Text to video",
                Capability::ImageToVideo => "Image to video",
                Capability::TextToAudio => "Music and sound",
                Capability::TextToSpeech => "Speech",
            }
            .into(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<&factory::providers::ProviderInfo> for ProviderDto {
    fn from(info: &factory::providers::ProviderInfo) -> Self {
        Self {
            id: info.id.clone(),
            name: info.name.clone(),
            description: info.description.clone(),
            any_model: info.any_model,
            browsable: info.id == factory::providers::civitai::ID,
            models: info.models.iter().map(Into::into).collect(),
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
    #[serde(default)]
    pub mode: ExpansionMode,
    /// With `Derived`, `seed` is the batch seed (random when absent); with `Fixed`, every
    /// item's seed.
    pub seed_mode: SeedMode,
    pub seed: Option<i64>,
    /// The person confirmed a launch above the warning threshold.
    #[serde(default)]
    pub confirmed: bool,
    /// LoRAs, for models that take them.
    #[serde(default)]
    pub networks: Vec<NetworkDto>,
    /// The product an image-to-image launch starts from.
    #[serde(default)]
    pub input_image: Option<i64>,
    /// The product the results are made for without starting from it (music scored for a
    /// picture): recorded as their parent.
    #[serde(default)]
    pub made_from: Option<i64>,
}

/// A launch as the REST API takes it (`POST /api/v1/launches`): the Generate form's fields, with
/// the model's parameters as a JSON object. Unknown fields are refused, so a misspelt one is not
/// silently ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LaunchSpec {
    pub project_id: i64,
    pub provider: String,
    pub model: String,
    /// The prompt, in the prompt language (`{red|blue}`, `__wildcard__`, ...).
    pub prompt: String,
    #[serde(default)]
    pub negative_prompt: String,
    /// The model's parameters (see its schema on the Generate page); missing ones take their defaults.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub params: serde_json::Map<String, serde_json::Value>,
    /// Combinatorial: images per combination. Random: how many images.
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default)]
    pub mode: ExpansionMode,
    #[serde(default)]
    pub seed_mode: SeedMode,
    /// With `derived`, the batch seed (random when absent); with `fixed`, every item's seed.
    #[serde(default)]
    pub seed: Option<i64>,
    /// Needed to queue more items than the confirmation threshold in Settings.
    #[serde(default)]
    pub confirmed: bool,
    /// LoRAs, for models that take them.
    #[serde(default)]
    pub networks: Vec<NetworkDto>,
    /// The product an image-to-image launch starts from.
    #[serde(default)]
    pub input_image: Option<i64>,
    /// The product the results are made for without starting from it (music scored for a
    /// picture): recorded as their parent.
    #[serde(default)]
    pub made_from: Option<i64>,
}

fn one() -> u32 {
    1
}

impl LaunchForm {
    /// The form as a launch: its parameters text must be a JSON object.
    pub fn spec(self) -> Result<LaunchSpec, crate::error::AppError> {
        let params = match serde_json::from_str::<serde_json::Value>(&self.params) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => {
                return Err(crate::error::AppError::invalid(
                    "params",
                    "The parameters must be a JSON object.",
                ))
            }
        };
        Ok(LaunchSpec {
            project_id: self.project_id,
            provider: self.provider,
            model: self.model,
            prompt: self.prompt,
            negative_prompt: self.negative_prompt,
            params,
            count: self.count,
            mode: self.mode,
            seed_mode: self.seed_mode,
            seed: self.seed,
            confirmed: self.confirmed,
            networks: self.networks,
            input_image: self.input_image,
            made_from: self.made_from,
        })
    }
}

/// A LoRA applied to a launch (Civitai: its AIR), with its strength.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NetworkDto {
    pub id: String,
    pub strength: f64,
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

/// A token of a batch's prompt, offered as a grid axis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenDto {
    pub key: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridCellItemDto {
    pub job_id: i64,
    pub state: JobState,
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
