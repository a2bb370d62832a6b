//! Wildcard lists and templates on the wire.

use super::generate::empty_as_default;
use super::{ExpansionMode, SeedMode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The Generate form as a template saves it (everything but the project).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TemplateForm {
    pub provider: String,
    pub model: String,
    /// A JSON object of the model's parameters.
    pub params: String,
    pub prompt: String,
    pub negative_prompt: String,
    #[serde(default, deserialize_with = "empty_as_default")]
    pub mode: ExpansionMode,
    pub count: u32,
    #[serde(default, deserialize_with = "empty_as_default")]
    pub seed_mode: SeedMode,
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
