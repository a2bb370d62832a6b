//! The data key and the AEAD that seals provider keys with it.
//!
//! Keys set in the app are sealed with XChaCha20-Poly1305 (a random 24-byte nonce per seal, so
//! nonces never repeat in practice) under a 256-bit data key. The provider's id is the
//! associated data: a sealed key moved to another provider's row does not open. The data key
//! lives in `credentials.key` in the data directory, 0600, never in the database: a dump of the
//! database alone decrypts nothing, and a backup of the database without that file neither.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::private_files;
use crate::secret::Secret;

/// The data key's file in the data directory.
pub const KEY_FILE: &str = "credentials.key";
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
        "the data key {path} is damaged (it must hold 64 hexadecimal digits). Restore it from a \
         copy; without it the keys set in the app cannot be read and must be set again"
    )]
    Damaged { path: PathBuf },
}

/// Seals and opens provider keys with the data key.
pub struct Vault {
    cipher: XChaCha20Poly1305,
    /// Where the data key lives, for messages.
    origin: String,
}

impl Vault {
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
                parse_key(text.trim()).ok_or_else(|| VaultError::Damaged { path: path.clone() })?
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

/// Writes the key durably: a new 0600 file, fsynced, its name fsynced into the directory.
fn write_key(path: &Path, key: &[u8; 32]) -> io::Result<()> {
    let mut text = Zeroizing::new(String::with_capacity(65));
    for byte in key {
        text.push_str(&format!("{byte:02x}"));
    }
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
