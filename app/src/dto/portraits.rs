//! Character portraits on the wire: what to make (provider, model, style, which words change),
//! what was queued, and a character's portraits with their pictures.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{JobState, ProductDto};

/// Which words of a portrait change: 0 keeps the character's own outfit and the first pose and
/// scene; each higher number is another draw. The appearance words and the seed never change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct PortraitVariation {
    pub outfit: u32,
    pub pose: u32,
    pub scene: u32,
}

/// A portrait to queue. Everything may be left out: the offline generator, its first model,
/// the first built-in style, the character's own outfit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct PortraitOrderDto {
    pub provider: Option<String>,
    pub model: Option<String>,
    /// A built-in style's name ("Painted", "Ink sketch", ...) or a template that places
    /// `{subject}` and may use `{outfit}`, `{pose}` and `{scene}`.
    pub style: Option<String>,
    pub variation: PortraitVariation,
}

/// A queued portrait: its batch and job, and the exact request (the same character and style
/// always give the same one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct QueuedPortraitDto {
    pub batch_id: i64,
    pub job_ids: Vec<i64>,
    pub prompt: String,
    pub negative_prompt: String,
    pub seed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PortraitStyleDto {
    pub name: String,
    pub template: String,
}

/// One portrait of a character: its job's state and, once made, its picture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PortraitDto {
    pub batch_id: i64,
    /// The built-in style's name, or "Custom".
    pub style_name: String,
    pub style: String,
    pub variation: PortraitVariation,
    pub job_id: i64,
    pub state: JobState,
    pub error: Option<String>,
    pub product: Option<ProductDto>,
    pub created_at: DateTime<Utc>,
}

/// A character's portraits, newest first, and the styles to make more in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PortraitsDto {
    pub styles: Vec<PortraitStyleDto>,
    pub portraits: Vec<PortraitDto>,
}

/// The character a product is a portrait of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CharacterLinkDto {
    pub id: i64,
    pub name: String,
}

#[cfg(feature = "ssr")]
mod convert {
    use super::*;
    use factory::characters::portrait::{self, Variation};
    use factory::characters::portraits::{Portrait, PortraitOrder, Queued, Sitter};

    impl From<PortraitVariation> for Variation {
        fn from(v: PortraitVariation) -> Self {
            Variation {
                outfit: v.outfit,
                pose: v.pose,
                scene: v.scene,
            }
        }
    }

    impl From<PortraitOrderDto> for PortraitOrder {
        fn from(o: PortraitOrderDto) -> Self {
            PortraitOrder {
                provider: o.provider.filter(|p| !p.trim().is_empty()),
                model: o.model.filter(|m| !m.trim().is_empty()),
                style: o.style,
                variation: o.variation.into(),
            }
        }
    }

    impl From<Queued> for QueuedPortraitDto {
        fn from(q: Queued) -> Self {
            QueuedPortraitDto {
                batch_id: q.batch.id,
                job_ids: q.jobs.iter().map(|j| j.id).collect(),
                prompt: q.request.prompt,
                negative_prompt: q.request.negative_prompt,
                seed: q.request.seed,
            }
        }
    }

    impl From<Portrait> for PortraitDto {
        fn from(p: Portrait) -> Self {
            PortraitDto {
                batch_id: p.batch_id,
                style_name: portrait::style_name(&p.style).to_string(),
                style: p.style,
                variation: PortraitVariation {
                    outfit: p.variation.outfit,
                    pose: p.variation.pose,
                    scene: p.variation.scene,
                },
                job_id: p.job_id,
                state: p.state.into(),
                error: p.error,
                product: p.product.map(Into::into),
                created_at: p.created_at,
            }
        }
    }

    impl From<Sitter> for CharacterLinkDto {
        fn from(s: Sitter) -> Self {
            CharacterLinkDto {
                id: s.id,
                name: s.name,
            }
        }
    }

    /// The built-in styles.
    pub fn styles() -> Vec<PortraitStyleDto> {
        portrait::STYLES
            .iter()
            .map(|(name, template)| PortraitStyleDto {
                name: (*name).to_string(),
                template: (*template).to_string(),
            })
            .collect()
    }
}

#[cfg(feature = "ssr")]
pub use convert::styles;
