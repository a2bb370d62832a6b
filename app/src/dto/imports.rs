//! An imported file's outcome on the wire (`POST /imports/{project}`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ImportOutcomeDto {
    /// A new product; `tool` names what wrote its metadata ("ComfyUI"), when anything did.
    Imported {
        product_id: i64,
        tool: Option<String>,
    },
    /// The same file is already in the project.
    AlreadyIn { product_id: i64 },
    /// Not imported, and why.
    Failed { reason: String },
}

#[cfg(feature = "ssr")]
impl From<factory::import::Outcome> for ImportOutcomeDto {
    fn from(o: factory::import::Outcome) -> Self {
        use factory::import::Outcome;
        match o {
            Outcome::Imported { product_id, tool } => Self::Imported {
                product_id,
                tool: tool.map(|t| t.name().to_string()),
            },
            Outcome::AlreadyIn { product_id } => Self::AlreadyIn { product_id },
            Outcome::Failed { reason } => Self::Failed { reason },
        }
    }
}
