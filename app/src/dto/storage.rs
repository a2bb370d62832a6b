//! Settings → Storage on the wire.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectUsageDto {
    pub project_id: i64,
    pub name: String,
    pub products: i64,
    pub originals: u64,
    pub thumbnails: u64,
    pub trash: u64,
}

/// What a check of the files found (and repaired, when asked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageCheckDto {
    pub orphans: usize,
    /// The first few, for the report.
    pub orphan_examples: Vec<String>,
    pub missing_originals: Vec<i64>,
    pub missing_thumbnails: usize,
    pub repaired: bool,
}

#[cfg(feature = "ssr")]
mod convert {
    use super::*;

    impl From<factory::storage::ProjectUsage> for ProjectUsageDto {
        fn from(u: factory::storage::ProjectUsage) -> Self {
            Self {
                project_id: u.project_id,
                name: u.name,
                products: u.products,
                originals: u.originals,
                thumbnails: u.thumbnails,
                trash: u.trash,
            }
        }
    }

    impl From<factory::storage::Check> for StorageCheckDto {
        fn from(c: factory::storage::Check) -> Self {
            Self {
                orphans: c.orphans.len(),
                orphan_examples: c
                    .orphans
                    .iter()
                    .take(20)
                    .map(|key| key.to_string())
                    .collect(),
                missing_originals: c.missing_originals,
                missing_thumbnails: c.missing_thumbnails.len(),
                repaired: c.repaired,
            }
        }
    }
}
