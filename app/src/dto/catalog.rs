//! The model browser's wire types: a search of a provider's catalog (Civitai) and the models a
//! project picked from it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CatalogKind {
    #[default]
    Checkpoint,
    Lora,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CatalogSort {
    #[default]
    HighestRated,
    MostDownloaded,
    Newest,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogVersionDto {
    pub id: u64,
    pub name: String,
    pub model_name: String,
    pub base_model: String,
    /// `None` when the generator cannot run this base model.
    pub air: Option<String>,
    pub preview_url: Option<String>,
    pub trained_words: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogModelDto {
    pub id: u64,
    pub name: String,
    pub kind: CatalogKind,
    pub creator: Option<String>,
    pub versions: Vec<CatalogVersionDto>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogPageDto {
    pub models: Vec<CatalogModelDto>,
    pub next_cursor: Option<String>,
}

/// A model picked for a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PickDto {
    pub air: String,
    pub kind: CatalogKind,
    pub name: String,
    pub base_model: String,
    pub preview_url: Option<String>,
    #[serde(default)]
    pub trained_words: Vec<String>,
}

impl PickDto {
    /// The pick for one version of a catalog model (`None` when it has no AIR).
    pub fn of(model: &CatalogModelDto, version: &CatalogVersionDto) -> Option<Self> {
        Some(Self {
            air: version.air.clone()?,
            kind: model.kind,
            name: format!("{} — {}", model.name, version.name),
            base_model: version.base_model.clone(),
            preview_url: version.preview_url.clone(),
            trained_words: version.trained_words.clone(),
        })
    }
}

#[cfg(feature = "ssr")]
mod from_engine {
    use super::*;
    use factory::providers::civitai::catalog::{CatalogPage, ModelKind};

    impl From<ModelKind> for CatalogKind {
        fn from(kind: ModelKind) -> Self {
            match kind {
                ModelKind::Checkpoint => CatalogKind::Checkpoint,
                ModelKind::Lora => CatalogKind::Lora,
            }
        }
    }

    impl From<CatalogKind> for ModelKind {
        fn from(kind: CatalogKind) -> Self {
            match kind {
                CatalogKind::Checkpoint => ModelKind::Checkpoint,
                CatalogKind::Lora => ModelKind::Lora,
            }
        }
    }

    impl From<CatalogPage> for CatalogPageDto {
        fn from(page: CatalogPage) -> Self {
            Self {
                models: page
                    .models
                    .into_iter()
                    .map(|m| CatalogModelDto {
                        id: m.id,
                        name: m.name,
                        kind: m.kind.into(),
                        creator: m.creator,
                        versions: m
                            .versions
                            .into_iter()
                            .map(|v| CatalogVersionDto {
                                id: v.id,
                                name: v.name,
                                model_name: v.model_name,
                                base_model: v.base_model,
                                air: v.air,
                                preview_url: v.preview_url,
                                trained_words: v.trained_words,
                            })
                            .collect(),
                    })
                    .collect(),
                next_cursor: page.next_cursor,
            }
        }
    }

    impl From<factory::picks::Pick> for PickDto {
        fn from(p: factory::picks::Pick) -> Self {
            Self {
                air: p.air,
                kind: p.kind.into(),
                name: p.name,
                base_model: p.base_model,
                preview_url: p.preview_url,
                trained_words: p.trained_words,
            }
        }
    }
}
