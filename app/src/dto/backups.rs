//! A backup of the whole library, as Settings shows it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupDto {
    /// Where it is on the server.
    pub path: String,
    pub bytes: u64,
    pub made_at: DateTime<Utc>,
}

#[cfg(feature = "ssr")]
impl From<factory::backup::Listed> for BackupDto {
    fn from(l: factory::backup::Listed) -> Self {
        Self {
            path: l.path.display().to_string(),
            bytes: l.bytes,
            made_at: l.made_at,
        }
    }
}
