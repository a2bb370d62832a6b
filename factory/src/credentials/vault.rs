//! The data key and the AEAD that seals provider keys with it.
//!
//! Keys set in the app are sealed with XChaCha20-Poly1305 (a random 24-byte nonce per seal, so
//! nonces never repeat in practice) under a 256-bit data key. The provider's id is the
//! associated data: a sealed key moved to another provider's row does not open. The data key
//! never enters the database: it lives in the OS keyring where the machine has one (see
//! [`KeyStore`]), otherwise in `credentials.key` in the data directory, 0600. A dump of the
//! database alone decrypts nothing, and a backup of the database without the key neither.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use super::keyring::{KeyringError, OsKeyring};
use crate::private_files;
use crate::secret::Secret;

/// The data key's file in the data directory.
pub const KEY_FILE: &str = "credentials.key";
/// Left in the data directory when the data key went into the OS keyring: from then on the
/// keyring is required, so that an unreachable keyring never silently makes a new key (under
/// which the stored provider keys would not open). It holds no secret.
pub const KEYRING_MARKER: &str = "credentials.keyring";
const NONCE_LEN: usize = 24;
/// Binds every sealed key to this format and to its provider.
const CONTEXT: &str = "art-factory provider key v1:";

/// A provider key sealed for one provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("could not read or create the data key {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "the data key in {origin} is damaged (it must hold 64 hexadecimal digits). Restore it \
         from a copy; without it the keys set in the app cannot be read and must be set again"
    )]
    Damaged { origin: String },
    #[error(
        "the data key for provider keys is in {origin}, which cannot be used: {source}. Start \
         art-factory where that keyring is unlocked (a desktop session), or set \
         data_key_store = \"file\" to start over with a new key in the data directory (the \
         keys set in the app must then be set again)"
    )]
    KeyringLost {
        origin: String,
        source: KeyringError,
    },
    #[error(
        "data_key_store = \"keyring\" but this machine has no OS keyring to use ({0}). Install \
         secret-tool (libsecret-tools) and run inside a desktop session, or use \
         data_key_store = \"auto\""
    )]
    NoKeyring(String),
}

/// Where the data key is kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KeyStore {
    /// The OS keyring when there is one and no key file exists yet; otherwise the key file.
    #[default]
    Auto,
    /// The OS keyring, or refuse to start.
    Keyring,
    /// `credentials.key` in the data directory.
    File,
}

impl std::str::FromStr for KeyStore {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "keyring" => Ok(Self::Keyring),
            "file" => Ok(Self::File),
            other => Err(format!(
                "unknown data key store {other:?}: use auto, keyring or file"
            )),
        }
    }
}

/// Seals and opens provider keys with the data key.
pub struct Vault {
    cipher: XChaCha20Poly1305,
    /// Where the data key lives, for messages.
    origin: String,
}

impl Vault {
    /// The vault for `data_dir`, its data key where `store` says, in this machine's keyring.
    pub fn load(data_dir: &Path, store: KeyStore) -> Result<Self, VaultError> {
        Self::load_with(data_dir, store, OsKeyring::detect())
    }

    /// As [`Vault::load`], with the keyring given (`None`: the machine has none).
    ///
    /// A data directory whose key is already in a file keeps it there; one whose key went
    /// into the keyring (the marker file says so) needs the keyring from then on. A new data
    /// directory under `Auto` puts its key in the keyring when one answers, else in a file.
    pub fn load_with(
        data_dir: &Path,
        store: KeyStore,
        keyring: Option<OsKeyring>,
    ) -> Result<Self, VaultError> {
        let in_keyring = data_dir.join(KEYRING_MARKER).exists();
        let has_file = data_dir.join(KEY_FILE).exists();
        match (store, keyring) {
            (KeyStore::File, _) => Self::open_dir(data_dir),
            (_, Some(keyring)) if in_keyring || !has_file => {
                match Self::open_keyring(data_dir, &keyring) {
                    Ok(vault) => Ok(vault),
                    // A keyring that never held this key may simply not answer here (no
                    // unlocked collection): under Auto the key file serves instead.
                    Err(VaultError::KeyringLost { source, .. })
                        if store == KeyStore::Auto && !in_keyring =>
                    {
                        tracing::warn!("{source}; the data key goes to a file instead");
                        Self::open_dir(data_dir)
                    }
                    Err(e) => Err(e),
                }
            }
            (_, None) if in_keyring => Err(VaultError::KeyringLost {
                origin: "the OS keyring".into(),
                source: KeyringError::Unreachable(
                    "no keyring tool or session bus in this environment".into(),
                ),
            }),
            (KeyStore::Keyring, None) => Err(VaultError::NoKeyring(
                "no secret-tool on PATH or no DBUS_SESSION_BUS_ADDRESS".into(),
            )),
            (KeyStore::Keyring, Some(_)) => Err(VaultError::NoKeyring(format!(
                "the data key is already in {}; move it into the keyring by hand or use \
                 data_key_store = \"file\"",
                data_dir.join(KEY_FILE).display()
            ))),
            (KeyStore::Auto, _) => Self::open_dir(data_dir),
        }
    }

    fn open_keyring(data_dir: &Path, keyring: &OsKeyring) -> Result<Self, VaultError> {
        let dir = fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
        let account = format!("data key for {}", dir.display());
        let origin = keyring.describe(&account);
        let lost = |source| VaultError::KeyringLost {
            origin: origin.clone(),
            source,
        };
        let marker = data_dir.join(KEYRING_MARKER);
        let key = match keyring.lookup(&account).map_err(lost)? {
            Some(hex) => parse_key(hex.trim()).ok_or_else(|| VaultError::Damaged {
                origin: origin.clone(),
            })?,
            None if marker.exists() => {
                return Err(lost(KeyringError::Unreachable(
                    "the keyring answers but holds no such entry (removed, or another keyring)"
                        .into(),
                )))
            }
            None => {
                let key: Zeroizing<[u8; 32]> = Zeroizing::new(rand::random());
                keyring.store(&account, &hex(&key)).map_err(lost)?;
                // Read it back before relying on it: a keyring that accepts and forgets
                // would lose every key sealed under it.
                let back = keyring.lookup(&account).map_err(lost)?;
                if back.as_deref().map(|h| h.trim()) != Some(hex(&key).as_str()) {
                    return Err(lost(KeyringError::Unreachable(
                        "the key stored in it did not read back".into(),
                    )));
                }
                let io = |source| VaultError::Io {
                    path: marker.clone(),
                    source,
                };
                private_files::create_dir_all(data_dir).map_err(io)?;
                fs::write(
                    &marker,
                    format!("The data key for provider keys is in {origin}.\n"),
                )
                .map_err(io)?;
                tracing::info!("made a new data key for provider keys in {origin}");
                key
            }
        };
        Ok(Self {
            cipher: XChaCha20Poly1305::new((&*key).into()),
            origin,
        })
    }

    /// The vault whose data key is `credentials.key` in `data_dir`, made on first use. A key
    /// file others can read is made private again (and said so in the log).
    pub fn open_dir(data_dir: &Path) -> Result<Self, VaultError> {
        let path = data_dir.join(KEY_FILE);
        let io = |source| VaultError::Io {
            path: path.clone(),
            source,
        };
        let key = match fs::read_to_string(&path) {
            Ok(text) => {
                let mode = fs::metadata(&path).map_err(io)?.permissions().mode();
                if mode & 0o077 != 0 {
                    tracing::warn!(
                        "{} could be read by other users (mode {:o}); made it 0600",
                        path.display(),
                        mode & 0o777
                    );
                    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).map_err(io)?;
                }
                parse_key(text.trim()).ok_or_else(|| VaultError::Damaged {
                    origin: path.display().to_string(),
                })?
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                private_files::create_dir_all(data_dir).map_err(io)?;
                let key: Zeroizing<[u8; 32]> = Zeroizing::new(rand::random());
                write_key(&path, &key).map_err(io)?;
                tracing::info!("made a new data key for provider keys: {}", path.display());
                key
            }
            Err(e) => return Err(io(e)),
        };
        Ok(Self {
            cipher: XChaCha20Poly1305::new((&*key).into()),
            origin: path.display().to_string(),
        })
    }

    /// Where the data key is kept.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn seal(&self, provider: &str, key: &Secret) -> Sealed {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let aad = format!("{CONTEXT}{provider}");
        let ciphertext = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: key.expose().as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 seals any message that fits in memory");
        Sealed {
            nonce: nonce.to_vec(),
            ciphertext,
        }
    }

    /// The key, or `None` when the seal does not open under this data key for this provider
    /// (another data key, another provider's row, or altered bytes).
    pub fn open(&self, provider: &str, sealed: &Sealed) -> Option<Secret> {
        if sealed.nonce.len() != NONCE_LEN {
            return None;
        }
        let aad = format!("{CONTEXT}{provider}");
        let plain = Zeroizing::new(
            self.cipher
                .decrypt(
                    XNonce::from_slice(&sealed.nonce),
                    Payload {
                        msg: &sealed.ciphertext,
                        aad: aad.as_bytes(),
                    },
                )
                .ok()?,
        );
        Secret::new(String::from_utf8(plain.to_vec()).ok()?)
    }
}

fn parse_key(hex: &str) -> Option<Zeroizing<[u8; 32]>> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut key = Zeroizing::new([0u8; 32]);
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(key)
}

fn hex(key: &[u8; 32]) -> Zeroizing<String> {
    let mut text = Zeroizing::new(String::with_capacity(65));
    for byte in key {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

/// Writes the key durably: a new 0600 file, fsynced, its name fsynced into the directory.
fn write_key(path: &Path, key: &[u8; 32]) -> io::Result<()> {
    let mut text = hex(key);
    text.push('\n');
    let mut file = private_files::create_new(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    if let Some(dir) = path.parent() {
        private_files::sync_dir(dir)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_key_opens_only_with_its_data_key_and_for_its_provider() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open_dir(dir.path()).unwrap();
        let mode = fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let key = Secret::new("r8_abcdefghijklmnop").unwrap();
        let sealed = vault.seal("replicate", &key);
        assert!(
            !sealed.ciphertext.windows(8).any(|w| w == b"abcdefgh"),
            "the clear text is not in the seal"
        );
        assert_ne!(
            vault.seal("replicate", &key),
            sealed,
            "a fresh nonce every time"
        );
        assert_eq!(vault.open("replicate", &sealed), Some(key.clone()));
        assert_eq!(vault.open("fal", &sealed), None, "bound to its provider");
        let mut altered = sealed.clone();
        altered.ciphertext[0] ^= 1;
        assert_eq!(vault.open("replicate", &altered), None);

        // The same directory opens the same data key; another directory makes another.
        let again = Vault::open_dir(dir.path()).unwrap();
        assert_eq!(again.open("replicate", &sealed), Some(key));
        let other = tempfile::tempdir().unwrap();
        assert_eq!(
            Vault::open_dir(other.path())
                .unwrap()
                .open("replicate", &sealed),
            None
        );
    }

    #[test]
    fn a_damaged_key_file_is_refused_and_a_readable_one_made_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        fs::write(&path, "not hex").unwrap();
        let error = Vault::open_dir(dir.path()).err().unwrap().to_string();
        assert!(
            error.contains("damaged") && error.contains("set again"),
            "{error}"
        );
        fs::write(&path, "ab".repeat(32)).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        Vault::open_dir(dir.path()).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
