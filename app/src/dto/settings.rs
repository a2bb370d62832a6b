//! The Settings page's wire types: each hosted provider's keys (never the keys themselves) and
//! limits.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where the key a provider uses comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum KeySourceDto {
    None,
    /// Configuration (flag, environment, `art-factory.toml`); read-only in the app.
    Configured {
        origin: String,
    },
    App,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredKeyDto {
    pub hint: String,
    pub set_at: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
    /// False when this key cannot be opened with the data key on this machine.
    pub readable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderKeyDto {
    pub provider: String,
    pub name: String,
    pub in_force: KeySourceDto,
    /// The last four characters of the key in force.
    pub hint: Option<String>,
    pub stored: Option<StoredKeyDto>,
    pub submissions_per_minute: Option<u32>,
    pub calls_per_minute: Option<u32>,
    /// Jobs in flight at once; `None` is the worker's default.
    pub concurrency: Option<u32>,
    /// The rates come from flags or the config file (read-only here).
    pub limits_configured: bool,
    pub paused_until: Option<DateTime<Utc>>,
}

#[cfg(feature = "ssr")]
impl From<factory::credentials::KeyStatus> for ProviderKeyDto {
    fn from(status: factory::credentials::KeyStatus) -> Self {
        use factory::credentials::KeySource;
        Self {
            provider: status.provider,
            name: status.name,
            in_force: match status.in_force {
                KeySource::None => KeySourceDto::None,
                KeySource::Configured { origin } => KeySourceDto::Configured { origin },
                KeySource::App => KeySourceDto::App,
            },
            hint: status.hint,
            stored: status.stored.map(|s| StoredKeyDto {
                hint: s.hint,
                set_at: s.set_at,
                verified_at: s.verified_at,
                readable: s.readable,
            }),
            submissions_per_minute: status.limits.submissions_per_minute,
            calls_per_minute: status.limits.calls_per_minute,
            concurrency: status.limits.concurrency,
            limits_configured: status.limits_configured,
            paused_until: status.paused_until,
        }
    }
}
