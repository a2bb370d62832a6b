//! Provider keys: where each comes from, sealed storage for the ones set in the app, and the
//! hosted providers rebuilt when a key changes.
//!
//! A key reaches a provider from one of two places, and the first wins: configuration (a flag,
//! an environment variable or `art-factory.toml`, read-only here), or the app (the Settings
//! page), sealed in `provider_credentials` by the [`vault`]. Setting a key first tests it with
//! one cheap authenticated call ([`crate::providers::Provider::verify_key`]); a key that fails
//! is neither stored nor used. Keys never leave this module except toward the provider: what it
//! reports is a hint (the last four characters) and dates.

pub mod keyring;
pub mod vault;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use diesel::sql_types::{Bytea, Nullable, Text, Timestamptz};
use diesel::{sql_query, QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::DbError;
use crate::providers::limits::{Gate, Limited, RateLimits};
use crate::providers::{Provider, ProviderError, Providers};
use crate::secret::Secret;
use vault::{Sealed, Vault};

/// The most jobs at once a provider may be given on the Settings page.
pub const MAX_CONCURRENCY: u32 = 256;

/// Builds a provider from a key (its other settings, base URL and timeouts, are captured).
pub type Build = Arc<dyn Fn(Secret) -> Result<Arc<dyn Provider>, String> + Send + Sync>;

/// A hosted provider this app knows how to run, with or without a key yet.
pub struct Hosted {
    pub id: String,
    pub name: String,
    /// A key from configuration, and where it came from ("FAL_KEY or --fal-key").
    pub configured: Option<(Secret, String)>,
    pub limits: RateLimits,
    /// The rates were given by flag or config file: the Settings page cannot change them.
    pub limits_configured: bool,
    /// One gate per provider for the life of the process: a new key keeps the rate limits and
    /// any 429 pause of the old one.
    pub gate: Arc<Gate>,
    pub build: Build,
}

/// Where the key in force comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    None,
    /// Configuration, with where exactly; it overrides a key stored in the app.
    Configured {
        origin: String,
    },
    App,
}

/// A key stored in the app, as a person may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// The last four characters.
    pub hint: String,
    pub set_at: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
    /// False when the seal does not open under this data key (the key file was replaced).
    pub readable: bool,
}

/// One provider's keys, as the Settings page shows them.
#[derive(Debug, Clone)]
pub struct KeyStatus {
    pub provider: String,
    pub name: String,
    pub in_force: KeySource,
    /// The last four characters of the key in force.
    pub hint: Option<String>,
    pub stored: Option<StoredKey>,
    /// The rates in force, and whether configuration fixed them.
    pub limits: RateLimits,
    pub limits_configured: bool,
    /// Until when a 429 holds the provider, if it does.
    pub paused_until: Option<DateTime<Utc>>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("There is no hosted provider “{0}”.")]
    UnknownProvider(String),
    #[error("{0}")]
    Invalid(String),
    /// A cap on jobs at once out of range.
    #[error(
        "Jobs at once is a whole number from 1 to {MAX_CONCURRENCY}, or empty for the default."
    )]
    BadConcurrency,
    /// The key failed its test call; nothing was stored.
    #[error("{name} did not accept this key: {error}. Nothing was saved.")]
    Rejected { name: String, error: ProviderError },
    #[error("{0} has no key to test. Add one first.")]
    NoKey(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for KeyError {
    fn from(e: diesel::result::Error) -> Self {
        KeyError::Db(e.into())
    }
}

/// The longest key accepted from the form.
pub const KEY_MAX_CHARS: usize = 512;

/// Checks a pasted key's shape; surrounding whitespace is dropped.
pub fn parse_key(text: &str) -> Result<Secret, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Paste the key first.".into());
    }
    if text.chars().count() > KEY_MAX_CHARS {
        return Err(format!(
            "Keys are at most {KEY_MAX_CHARS} characters; this is longer. Paste only the key."
        ));
    }
    if text.chars().count() < 8 {
        return Err("That is too short to be a key. Paste the whole key.".into());
    }
    if !text.chars().all(|c| c.is_ascii_graphic()) {
        return Err(
            "Keys are letters, digits and punctuation, with no spaces. Paste only the key.".into(),
        );
    }
    Ok(Secret::new(text).expect("not empty"))
}

/// The last four characters, for a person to recognise a key by.
pub fn hint(key: &Secret) -> String {
    let chars: Vec<char> = key.expose().chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

/// The hosted providers, their keys, and the live provider set they feed.
pub struct Credentials {
    vault: Vault,
    hosted: Vec<Hosted>,
    providers: Providers,
    /// One key change at a time, so the stored row and the live provider agree.
    changing: tokio::sync::Mutex<()>,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    provider: String,
    #[diesel(sql_type = Bytea)]
    nonce: Vec<u8>,
    #[diesel(sql_type = Bytea)]
    ciphertext: Vec<u8>,
    #[diesel(sql_type = Text)]
    hint: String,
    #[diesel(sql_type = Timestamptz)]
    set_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    verified_at: Option<DateTime<Utc>>,
}

impl Credentials {
    pub fn new(vault: Vault, hosted: Vec<Hosted>, providers: Providers) -> Self {
        Self {
            vault,
            hosted,
            providers,
            changing: tokio::sync::Mutex::new(()),
        }
    }

    /// Keeps every hosted provider's rate-limit state in the database, so all processes on it
    /// hold the limits together.
    pub fn share_limits(&self, pool: &crate::db::Pool) {
        for hosted in &self.hosted {
            hosted.gate.share(pool.clone(), &hosted.id);
        }
    }

    /// The vault that opens the keys stored in the app (for a backup under a passphrase).
    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// Where the data key that seals the stored keys is kept (a place, never the key).
    pub fn data_key_origin(&self) -> &str {
        self.vault.origin()
    }

    /// Puts every hosted provider with a key in force into the provider set. A stored key that
    /// does not open is skipped (and reported on the Settings page), never fatal.
    pub async fn install(&self, conn: &mut AsyncPgConnection) -> Result<Vec<String>, KeyError> {
        let _changing = self.changing.lock().await;
        let rows = load_rows(conn).await?;
        let limits: Vec<LimitRow> = sql_query(
            "SELECT provider, submissions_per_minute, calls_per_minute, concurrency
             FROM provider_limits",
        )
        .load(conn)
        .await?;
        for row in limits {
            if let Some(hosted) = self.hosted.iter().find(|h| h.id == row.provider) {
                if !hosted.limits_configured {
                    hosted.gate.set_limits(row.limits());
                }
            }
        }
        let mut installed = Vec::new();
        for hosted in &self.hosted {
            let key = match &hosted.configured {
                Some((key, _)) => Some(key.clone()),
                None => rows
                    .iter()
                    .find(|r| r.provider == hosted.id)
                    .and_then(|row| self.vault.open(&hosted.id, &sealed(row))),
            };
            match key {
                Some(key) => match self.put(hosted, key) {
                    Ok(()) => installed.push(hosted.id.clone()),
                    Err(e) => tracing::warn!("{} could not be set up: {e}", hosted.name),
                },
                None => self.providers.remove(&hosted.id),
            }
        }
        Ok(installed)
    }

    pub async fn statuses(&self, conn: &mut AsyncPgConnection) -> Result<Vec<KeyStatus>, KeyError> {
        let rows = load_rows(conn).await?;
        let pauses = crate::providers::limits::load_pauses(conn).await?;
        Ok(self
            .hosted
            .iter()
            .map(|hosted| {
                let row = rows.iter().find(|r| r.provider == hosted.id);
                let stored = row.map(|row| StoredKey {
                    hint: row.hint.clone(),
                    set_at: row.set_at,
                    verified_at: row.verified_at,
                    readable: self.vault.open(&hosted.id, &sealed(row)).is_some(),
                });
                let (in_force, hint_in_force) = match (&hosted.configured, &stored) {
                    (Some((key, origin)), _) => (
                        KeySource::Configured {
                            origin: origin.clone(),
                        },
                        Some(hint(key)),
                    ),
                    (None, Some(stored)) if stored.readable => {
                        (KeySource::App, Some(stored.hint.clone()))
                    }
                    _ => (KeySource::None, None),
                };
                KeyStatus {
                    provider: hosted.id.clone(),
                    name: hosted.name.clone(),
                    in_force,
                    hint: hint_in_force,
                    stored,
                    limits: hosted.gate.limits(),
                    limits_configured: hosted.limits_configured,
                    paused_until: pauses.get(&hosted.id).map(|p| p.until),
                }
            })
            .collect())
    }

    /// Tests `text` as `provider`'s key and, when the provider accepts it, stores it sealed and
    /// (unless configuration overrides it) puts it in force at once.
    pub async fn set(
        &self,
        conn: &mut AsyncPgConnection,
        provider: &str,
        text: &str,
    ) -> Result<(), KeyError> {
        let hosted = self.hosted(provider)?;
        let key = parse_key(text).map_err(KeyError::Invalid)?;
        let candidate = (hosted.build)(key.clone()).map_err(KeyError::Invalid)?;
        candidate
            .verify_key()
            .await
            .map_err(|error| KeyError::Rejected {
                name: hosted.name.clone(),
                error,
            })?;
        let _changing = self.changing.lock().await;
        store(conn, &self.vault, provider, &key, Some(Utc::now())).await?;
        if hosted.configured.is_none() {
            self.put(hosted, key).map_err(KeyError::Invalid)?;
        }
        Ok(())
    }

    /// Forgets the key stored in the app; without a configured key the provider stops taking
    /// new work (jobs already queued for it wait until a key is set again).
    pub async fn remove(
        &self,
        conn: &mut AsyncPgConnection,
        provider: &str,
    ) -> Result<(), KeyError> {
        let hosted = self.hosted(provider)?;
        let _changing = self.changing.lock().await;
        sql_query("DELETE FROM provider_credentials WHERE provider = $1")
            .bind::<Text, _>(provider)
            .execute(conn)
            .await?;
        if hosted.configured.is_none() {
            self.providers.remove(provider);
        }
        Ok(())
    }

    /// Tests the key in force with the provider's cheap authenticated call; records when a
    /// stored key passed.
    pub async fn test(&self, conn: &mut AsyncPgConnection, provider: &str) -> Result<(), KeyError> {
        let hosted = self.hosted(provider)?;
        let live = self
            .providers
            .get(provider)
            .ok_or_else(|| KeyError::NoKey(hosted.name.clone()))?;
        live.verify_key()
            .await
            .map_err(|error| KeyError::Rejected {
                name: hosted.name.clone(),
                error,
            })?;
        if hosted.configured.is_none() {
            sql_query("UPDATE provider_credentials SET verified_at = now() WHERE provider = $1")
                .bind::<Text, _>(provider)
                .execute(conn)
                .await?;
        }
        Ok(())
    }

    /// Sets a provider's rates from now on, in this process and for the next start.
    pub async fn set_limits(
        &self,
        conn: &mut AsyncPgConnection,
        provider: &str,
        limits: RateLimits,
    ) -> Result<(), KeyError> {
        let hosted = self.hosted(provider)?;
        if hosted.limits_configured {
            return Err(KeyError::Invalid(format!(
                "{}'s limits are set by --submissions-per-minute / --calls-per-minute / \
                 --provider-concurrency or art-factory.toml; change them there.",
                hosted.name
            )));
        }
        let valid = |n: Option<u32>| n.is_none_or(|n| (1..=100_000).contains(&n));
        if !valid(limits.submissions_per_minute) || !valid(limits.calls_per_minute) {
            return Err(KeyError::Invalid(
                "A rate is a whole number of calls a minute, from 1 to 100000, or empty for no limit."
                    .into(),
            ));
        }
        if limits
            .concurrency
            .is_some_and(|n| !(1..=MAX_CONCURRENCY).contains(&n))
        {
            return Err(KeyError::BadConcurrency);
        }
        let as_int = |n: Option<u32>| n.map(|n| n as i32);
        sql_query(
            "INSERT INTO provider_limits
                 (provider, submissions_per_minute, calls_per_minute, concurrency)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (provider) DO UPDATE SET
                 submissions_per_minute = EXCLUDED.submissions_per_minute,
                 calls_per_minute = EXCLUDED.calls_per_minute,
                 concurrency = EXCLUDED.concurrency, updated_at = now()",
        )
        .bind::<Text, _>(provider)
        .bind::<Nullable<diesel::sql_types::Integer>, _>(as_int(limits.submissions_per_minute))
        .bind::<Nullable<diesel::sql_types::Integer>, _>(as_int(limits.calls_per_minute))
        .bind::<Nullable<diesel::sql_types::Integer>, _>(as_int(limits.concurrency))
        .execute(conn)
        .await?;
        hosted.gate.set_limits(limits);
        Ok(())
    }

    fn hosted(&self, provider: &str) -> Result<&Hosted, KeyError> {
        self.hosted
            .iter()
            .find(|h| h.id == provider)
            .ok_or_else(|| KeyError::UnknownProvider(provider.to_string()))
    }

    fn put(&self, hosted: &Hosted, key: Secret) -> Result<(), String> {
        let provider = (hosted.build)(key)?;
        self.providers
            .add(Arc::new(Limited::new(provider, hosted.gate.clone())));
        Ok(())
    }
}

#[derive(QueryableByName)]
struct LimitRow {
    #[diesel(sql_type = Text)]
    provider: String,
    #[diesel(sql_type = Nullable<diesel::sql_types::Integer>)]
    submissions_per_minute: Option<i32>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Integer>)]
    calls_per_minute: Option<i32>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Integer>)]
    concurrency: Option<i32>,
}

impl LimitRow {
    fn limits(&self) -> RateLimits {
        let positive = |n: Option<i32>| n.and_then(|n| u32::try_from(n).ok());
        RateLimits {
            submissions_per_minute: positive(self.submissions_per_minute),
            calls_per_minute: positive(self.calls_per_minute),
            concurrency: positive(self.concurrency),
        }
    }
}

/// Stores `key` for `provider` sealed under `vault`, replacing the row there was.
pub async fn store(
    conn: &mut AsyncPgConnection,
    vault: &Vault,
    provider: &str,
    key: &Secret,
    verified_at: Option<DateTime<Utc>>,
) -> QueryResult<()> {
    let sealed = vault.seal(provider, key);
    sql_query(
        "INSERT INTO provider_credentials (provider, nonce, ciphertext, hint, verified_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (provider) DO UPDATE SET nonce = EXCLUDED.nonce,
             ciphertext = EXCLUDED.ciphertext, hint = EXCLUDED.hint, set_at = now(),
             verified_at = EXCLUDED.verified_at",
    )
    .bind::<Text, _>(provider)
    .bind::<Bytea, _>(&sealed.nonce)
    .bind::<Bytea, _>(&sealed.ciphertext)
    .bind::<Text, _>(hint(key))
    .bind::<Nullable<Timestamptz>, _>(verified_at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// A stored key, opened.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenedKey {
    pub provider: String,
    pub key: Secret,
    pub verified_at: Option<DateTime<Utc>>,
}

/// Every key stored in the app that opens under `vault`, and the providers whose rows do not.
pub async fn open_stored(
    conn: &mut AsyncPgConnection,
    vault: &Vault,
) -> QueryResult<(Vec<OpenedKey>, Vec<String>)> {
    let mut opened = Vec::new();
    let mut unreadable = Vec::new();
    for row in load_rows(conn).await? {
        match vault.open(&row.provider, &sealed(&row)) {
            Some(key) => opened.push(OpenedKey {
                provider: row.provider,
                key,
                verified_at: row.verified_at,
            }),
            None => unreadable.push(row.provider),
        }
    }
    Ok((opened, unreadable))
}

fn sealed(row: &Row) -> Sealed {
    Sealed {
        nonce: row.nonce.clone(),
        ciphertext: row.ciphertext.clone(),
    }
}

async fn load_rows(conn: &mut AsyncPgConnection) -> QueryResult<Vec<Row>> {
    sql_query(
        "SELECT provider, nonce, ciphertext, hint, set_at, verified_at
         FROM provider_credentials ORDER BY provider",
    )
    .load(conn)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pasted_key_is_trimmed_and_checked_for_shape() {
        assert_eq!(
            parse_key("  r8_0123456789\n").unwrap().expose(),
            "r8_0123456789"
        );
        assert!(parse_key("").unwrap_err().contains("Paste the key"));
        assert!(parse_key("short").unwrap_err().contains("too short"));
        assert!(parse_key("two words here")
            .unwrap_err()
            .contains("no spaces"));
        assert!(parse_key(&"x".repeat(600))
            .unwrap_err()
            .contains("at most 512"));
        assert_eq!(hint(&Secret::new("r8_0123456789").unwrap()), "6789");
    }
}
