//! Projects on the wire.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
