//! Who may use the studio: its one password (an Argon2id hash in the database), the browser
//! sessions signed in with it ([`sessions`]), and the API tokens scripts use ([`tokens`]).
//!
//! Sessions and tokens are random 256-bit values the database keeps only as SHA-256, so a copy
//! of the database (or a backup) lets nobody in.

mod sessions;
pub mod tokens;

pub use sessions::*;

use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use diesel::sql_types::Text;
use diesel::{sql_query, QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

pub const MIN_PASSWORD_CHARS: usize = 12;

/// How long a session lasts unused, and at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    pub idle: Duration,
    pub absolute: Duration,
}

impl Default for Expiry {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(7 * 24 * 3600),
            absolute: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// A password as typed: never printed, wiped when dropped.
pub struct Password(Zeroizing<String>);

impl Password {
    /// A new password: at least [`MIN_PASSWORD_CHARS`] characters.
    pub fn new(text: String) -> Result<Self, String> {
        let text = Zeroizing::new(text);
        if text.chars().count() < MIN_PASSWORD_CHARS {
            return Err(format!(
                "The password needs at least {MIN_PASSWORD_CHARS} characters; a few unrelated words make a good one."
            ));
        }
        Ok(Self(text))
    }

    /// A password typed to sign in (any length; it is only compared).
    pub fn attempt(text: String) -> Self {
        Self(Zeroizing::new(text))
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([redacted])")
    }
}

fn argon2() -> Argon2<'static> {
    // 64 MiB and 3 passes: about a quarter of a second here, once per sign-in.
    let params = Params::new(64 * 1024, 3, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The password's hash in PHC form (`$argon2id$v=19$m=65536,t=3,p=1$salt$hash`). Slow on
/// purpose: call it off the async threads.
pub fn hash(password: &Password) -> String {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes).expect("16 bytes make a valid salt");
    argon2()
        .hash_password(password.0.as_bytes(), &salt)
        .expect("Argon2id hashes any password")
        .to_string()
}

/// Whether `password` is the one `hash` was made from (the parameters come from the hash).
/// Slow on purpose: call it off the async threads.
pub fn verify(hash: &str, password: &Password) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.0.as_bytes(), &parsed)
            .is_ok()
    })
}

#[derive(QueryableByName)]
struct HashRow {
    #[diesel(sql_type = Text)]
    hash: String,
}

/// The password's hash, if one is set.
pub async fn password_hash(conn: &mut AsyncPgConnection) -> QueryResult<Option<String>> {
    let rows: Vec<HashRow> = sql_query("SELECT hash FROM auth_password")
        .load(conn)
        .await?;
    Ok(rows.into_iter().next().map(|r| r.hash))
}

/// Sets the password (given its hash) and signs every session out, in one transaction.
pub async fn set_password(conn: &mut AsyncPgConnection, hash: &str) -> QueryResult<()> {
    sql_query(
        "WITH gone AS (DELETE FROM auth_sessions)
         INSERT INTO auth_password (hash) VALUES ($1)
         ON CONFLICT (id) DO UPDATE SET hash = EXCLUDED.hash, set_at = now()",
    )
    .bind::<Text, _>(hash)
    .execute(conn)
    .await
    .map(|_| ())
}

/// A fresh random 256-bit secret as 43 characters of base64url.
fn random_token() -> Zeroizing<String> {
    let bytes: Zeroizing<[u8; 32]> = Zeroizing::new(rand::random());
    Zeroizing::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(*bytes))
}

/// What the database keeps of a session or API token.
fn token_sha256(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let password = Password::new("correct horse battery staple".into()).unwrap();
        let hashed = hash(&password);
        assert!(
            hashed.starts_with("$argon2id$v=19$m=65536,t=3,p=1$"),
            "{hashed}"
        );
        assert!(!hashed.contains("horse"));
        assert!(verify(
            &hashed,
            &Password::attempt("correct horse battery staple".into())
        ));
        assert!(!verify(
            &hashed,
            &Password::attempt("correct horse battery stapler".into())
        ));
        assert!(!verify("not a hash", &Password::attempt("x".into())));
        assert!(Password::new("too short".into())
            .unwrap_err()
            .contains("at least 12"));
        assert_eq!(format!("{password:?}"), "Password([redacted])");
    }
}
