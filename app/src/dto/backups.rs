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

/// Daily backups: on or off, how many to keep, when the next is due, how the last went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupScheduleDto {
    pub enabled: bool,
    pub keep_last: i32,
    pub next_due_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

#[cfg(feature = "ssr")]
impl From<factory::backup::schedule::Schedule> for BackupScheduleDto {
    fn from(s: factory::backup::schedule::Schedule) -> Self {
        Self {
            enabled: s.enabled,
            keep_last: s.keep_last,
            next_due_at: s.next_due_at,
            last_error: s.last_error,
        }
    }
}
