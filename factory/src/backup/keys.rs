//! Provider keys in a backup: only when the person asks, and then only under their passphrase.
//!
//! Argon2id turns the passphrase and a random salt into a key-encryption key; a random data key
//! seals the keys (XChaCha20-Poly1305) and the key-encryption key seals the data key. The
//! Argon2 parameters and the salt travel with the archive, so a later version can raise the
//! cost without losing older backups; a wrong passphrase fails to open the data key, and
//! nothing is written.

use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::BackupError;
use crate::credentials::OpenedKey;
use crate::secret::Secret;

/// The archive entry holding the sealed keys.
pub const ENTRY: &str = "provider-keys.json";
/// Ties each seal to this format and to its role.
const DATA_KEY_AAD: &[u8] = b"art-factory backup data key v1";
const KEYS_AAD: &[u8] = b"art-factory backup provider keys v1";

/// The cost of a new seal (OWASP's first Argon2id choice is 19 MiB and 2 passes; this is more).
const MEMORY_KIB: u32 = 64 * 1024;
const ITERATIONS: u32 = 3;
/// The most a backup may ask of the machine opening it (so a crafted archive cannot exhaust it).
const MAX_MEMORY_KIB: u32 = 1024 * 1024;
const MAX_ITERATIONS: u32 = 20;

pub const MIN_PASSPHRASE_CHARS: usize = 10;

/// A backup passphrase: never printed, wiped from memory when dropped.
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    /// A passphrase of at least [`MIN_PASSPHRASE_CHARS`] characters, kept exactly as typed.
    pub fn new(text: String) -> Result<Self, String> {
        let text = Zeroizing::new(text);
        if text.chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(format!(
                "The passphrase needs at least {MIN_PASSPHRASE_CHARS} characters; a few unrelated words make a good one."
            ));
        }
        Ok(Self(text))
    }
}

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase([redacted])")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kdf {
    pub algorithm: String,
    pub version: u32,
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    pub salt: String,
}

/// A nonce and a ciphertext, in base64.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sealed {
    pub nonce: String,
    pub ciphertext: String,
}

/// What the archive holds: which providers' keys (not secret), and the keys sealed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SealedKeys {
    pub format: u32,
    pub providers: Vec<String>,
    pub kdf: Kdf,
    pub data_key: Sealed,
    pub keys: Sealed,
}

#[derive(Serialize, Deserialize)]
struct Plain {
    provider: String,
    key: String,
    verified_at: Option<DateTime<Utc>>,
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(text: &str, what: &str) -> Result<Vec<u8>, BackupError> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| {
            BackupError::Damaged(format!("its sealed provider keys' {what} is not base64"))
        })
}

fn derive(passphrase: &Passphrase, kdf: &Kdf) -> Result<Zeroizing<[u8; 32]>, BackupError> {
    if kdf.algorithm != "argon2id" || kdf.version != 0x13 {
        return Err(BackupError::Refused(format!(
            "its provider keys are sealed with {} version {}, which this app does not read; use a newer Art Factory",
            kdf.algorithm, kdf.version
        )));
    }
    if kdf.memory_kib > MAX_MEMORY_KIB || kdf.iterations > MAX_ITERATIONS || kdf.parallelism > 16 {
        return Err(BackupError::Damaged(
            "its provider keys ask for more Argon2 memory or passes than any Art Factory writes"
                .into(),
        ));
    }
    let params = Params::new(kdf.memory_kib, kdf.iterations, kdf.parallelism, Some(32))
        .map_err(|e| BackupError::Damaged(format!("its Argon2 parameters are invalid: {e}")))?;
    let salt = unb64(&kdf.salt, "salt")?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.0.as_bytes(), &salt, &mut *out)
        .map_err(|e| BackupError::Damaged(format!("its Argon2 salt is invalid: {e}")))?;
    Ok(out)
}

fn seal(key: &[u8; 32], aad: &[u8], plain: &[u8]) -> Sealed {
    let nonce: [u8; 24] = rand::random();
    let ciphertext = XChaCha20Poly1305::new(key.into())
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad })
        .expect("XChaCha20-Poly1305 seals any message that fits in memory");
    Sealed {
        nonce: b64(&nonce),
        ciphertext: b64(&ciphertext),
    }
}

fn open(key: &[u8; 32], aad: &[u8], sealed: &Sealed) -> Option<Zeroizing<Vec<u8>>> {
    let nonce = unb64(&sealed.nonce, "nonce").ok()?;
    let ciphertext = unb64(&sealed.ciphertext, "ciphertext").ok()?;
    if nonce.len() != 24 {
        return None;
    }
    XChaCha20Poly1305::new(key.into())
        .decrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &ciphertext,
                aad,
            },
        )
        .ok()
        .map(Zeroizing::new)
}

/// The provider keys stored in the app, opened with `vault` and sealed under `passphrase` for a
/// backup (the sealing's key derivation runs on a blocking thread). Refused, with what to do,
/// when a stored key does not open or no key is stored.
pub async fn seal_stored(
    conn: &mut diesel_async::AsyncPgConnection,
    vault: &crate::credentials::vault::Vault,
    passphrase: Passphrase,
) -> Result<SealedKeys, BackupError> {
    let (opened, unreadable) = crate::credentials::open_stored(conn, vault)
        .await
        .map_err(|e| BackupError::Database(e.to_string()))?;
    if !unreadable.is_empty() {
        return Err(BackupError::Refused(format!(
            "The stored key for {} does not open with this data key; set it again in Settings, or back up without keys.",
            unreadable.join(", ")
        )));
    }
    if opened.is_empty() {
        return Err(BackupError::Refused(
            "No provider keys are stored in the app, so there are none to put in the backup (keys from the configuration or the environment live there, not in the library); back up without keys.".into(),
        ));
    }
    tokio::task::spawn_blocking(move || seal_keys(&passphrase, &opened))
        .await
        .map_err(|e| BackupError::Io(std::io::Error::other(e)))
}

/// Seals `keys` under `passphrase` (slow on purpose: Argon2id with 64 MiB).
pub fn seal_keys(passphrase: &Passphrase, keys: &[OpenedKey]) -> SealedKeys {
    let salt: [u8; 16] = rand::random();
    let kdf = Kdf {
        algorithm: "argon2id".into(),
        version: 0x13,
        memory_kib: MEMORY_KIB,
        iterations: ITERATIONS,
        parallelism: 1,
        salt: b64(&salt),
    };
    let kek = derive(passphrase, &kdf).expect("the built-in Argon2 parameters are valid");
    let data_key: Zeroizing<[u8; 32]> = Zeroizing::new(rand::random());
    let plain: Vec<Plain> = keys
        .iter()
        .map(|k| Plain {
            provider: k.provider.clone(),
            key: k.key.expose().to_string(),
            verified_at: k.verified_at,
        })
        .collect();
    let json = Zeroizing::new(serde_json::to_vec(&plain).expect("keys serialise"));
    for p in plain {
        drop(Zeroizing::new(p.key));
    }
    SealedKeys {
        format: 1,
        providers: keys.iter().map(|k| k.provider.clone()).collect(),
        data_key: seal(&kek, DATA_KEY_AAD, &*data_key),
        keys: seal(&data_key, KEYS_AAD, &json),
        kdf,
    }
}

/// The keys in `sealed`, or a refusal that says the passphrase does not open them.
pub fn open_keys(
    passphrase: &Passphrase,
    sealed: &SealedKeys,
) -> Result<Vec<OpenedKey>, BackupError> {
    if sealed.format != 1 {
        return Err(BackupError::Refused(format!(
            "its provider keys have format {}, newer than this app reads; use a newer Art Factory",
            sealed.format
        )));
    }
    let kek = derive(passphrase, &sealed.kdf)?;
    let data_key = open(&kek, DATA_KEY_AAD, &sealed.data_key).ok_or_else(|| {
        BackupError::Refused(
            "the passphrase does not open the provider keys in this backup; nothing was restored. Check it and run the restore again, or restore without the keys and set them in Settings.".into(),
        )
    })?;
    let data_key: Zeroizing<[u8; 32]> =
        Zeroizing::new(data_key.as_slice().try_into().map_err(|_| {
            BackupError::Damaged("its sealed data key has the wrong length".into())
        })?);
    let json = open(&data_key, KEYS_AAD, &sealed.keys)
        .ok_or_else(|| BackupError::Damaged("its sealed provider keys were altered".into()))?;
    let plain: Vec<Plain> = serde_json::from_slice(&json)
        .map_err(|_| BackupError::Damaged("its provider keys are unreadable".into()))?;
    plain
        .into_iter()
        .map(|p| {
            let key = Zeroizing::new(p.key);
            Ok(OpenedKey {
                key: Secret::new(key.as_str()).ok_or_else(|| {
                    BackupError::Damaged(format!("its key for {} is empty", p.provider))
                })?,
                provider: p.provider,
                verified_at: p.verified_at,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(provider: &str, text: &str) -> OpenedKey {
        OpenedKey {
            provider: provider.into(),
            key: Secret::new(text).unwrap(),
            verified_at: None,
        }
    }

    #[test]
    fn keys_open_with_their_passphrase_only_and_never_show_in_the_sealed_form() {
        let keys = vec![
            key("fal", "fal-key-id:fal-key-secret-1234"),
            key("replicate", "r8_abcdefghijklmnop"),
        ];
        let pass = Passphrase::new("correct horse battery".into()).unwrap();
        let sealed = seal_keys(&pass, &keys);
        let json = serde_json::to_string(&sealed).unwrap();
        assert!(!json.contains("fal-key-secret") && !json.contains("r8_abc"));
        assert_eq!(sealed.providers, ["fal", "replicate"]);
        assert_eq!(open_keys(&pass, &sealed).unwrap(), keys);

        let wrong = Passphrase::new("correct horse battery!".into()).unwrap();
        let refused = open_keys(&wrong, &sealed).unwrap_err().to_string();
        assert!(refused.contains("passphrase does not open"), "{refused}");

        let mut altered = sealed.clone();
        altered.keys.ciphertext = b64(b"not the sealed keys, and long enough");
        assert!(matches!(
            open_keys(&pass, &altered),
            Err(BackupError::Damaged(_))
        ));
        let mut greedy = sealed;
        greedy.kdf.memory_kib = 4 * 1024 * 1024;
        assert!(matches!(
            open_keys(&pass, &greedy),
            Err(BackupError::Damaged(_))
        ));
    }

    #[test]
    fn a_short_passphrase_is_refused_and_none_prints() {
        assert!(Passphrase::new("short".into())
            .unwrap_err()
            .contains("at least 10"));
        let pass = Passphrase::new("a long enough secret".into()).unwrap();
        assert_eq!(format!("{pass:?}"), "Passphrase([redacted])");
    }
}
