//! Restoring a backup into an empty data directory.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::keys::{self, Passphrase, SealedKeys};
use super::write::count;
use super::{db_err, BackupError, FileEntry, Manifest, DUMP, MANIFEST, MEDIA};
use crate::credentials::vault::{KeyStore, Vault};
use crate::credentials::OpenedKey;
use crate::db::cluster::{ClusterOptions, RunningCluster};
use crate::export::zip::ZipReader;
use crate::media::MediaStore;

#[derive(Debug)]
pub struct RestoreOptions {
    /// The PostgreSQL binaries' directory (`None`: found on the machine).
    pub bin_dir: Option<PathBuf>,
    /// Opens the provider keys in the backup, if it has them.
    pub passphrase: Option<Passphrase>,
    /// Where the new data directory keeps the data key that seals restored keys.
    pub key_store: KeyStore,
    /// The bucket the pictures go into, which must hold none yet (`None`: the data directory).
    pub bucket: Option<MediaStore>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Restored {
    pub files: usize,
    pub bytes: u64,
    pub tables: usize,
    pub rows: i64,
    /// Providers whose keys were restored.
    pub keys: Vec<String>,
    /// Providers whose keys are in the backup but were not restored (no passphrase given).
    pub keys_left: Vec<String>,
}

/// A media entry's key, if its name is one this app writes
/// (`media/projects/<digits>/<products|thumbs>/<hh>/<file>`, nothing else).
fn media_key(name: &str) -> Option<crate::media::Key> {
    crate::media::MediaStore::parse_key(name.strip_prefix(MEDIA)?)
}

/// Restores the archive at `archive` into `data_dir`, which must be empty or absent.
pub async fn restore(
    archive: &Path,
    data_dir: &Path,
    options: RestoreOptions,
) -> Result<Restored, BackupError> {
    if std::fs::read_dir(data_dir).is_ok_and(|mut d| d.next().is_some()) {
        return Err(BackupError::Refused(format!(
            "{} is not empty; restore into a new, empty data directory (nothing is overwritten)",
            data_dir.display()
        )));
    }
    if let Some(bucket) = options.bucket.clone() {
        let place = bucket.describe();
        let held = tokio::task::spawn_blocking(move || bucket.list())
            .await
            .map_err(|e| BackupError::Io(std::io::Error::other(e)))??;
        if !held.is_empty() {
            return Err(BackupError::Refused(format!(
                "{place} already holds {} pictures' files; restore into an empty bucket or prefix \
                 (nothing is overwritten)",
                held.len()
            )));
        }
    }
    // The keys open (or the passphrase is refused) before anything is written.
    let (opened, keys_left) = {
        let archive = archive.to_path_buf();
        let passphrase = options.passphrase;
        tokio::task::spawn_blocking(move || {
            let Some(sealed) = read_sealed_keys(&archive)? else {
                return Ok::<_, BackupError>((Vec::new(), Vec::new()));
            };
            match passphrase {
                Some(passphrase) => Ok((keys::open_keys(&passphrase, &sealed)?, Vec::new())),
                None => Ok((Vec::new(), sealed.providers)),
            }
        })
        .await
        .map_err(|e| BackupError::Io(std::io::Error::other(e)))??
    };
    let bin_dir = options.bin_dir;
    crate::private_files::create_dir_all(data_dir)?;
    let (archive, data, bucket) = (
        archive.to_path_buf(),
        data_dir.to_path_buf(),
        options.bucket,
    );
    let (manifest, files, bytes) =
        tokio::task::spawn_blocking(move || extract(&archive, &data, bucket.as_ref()))
            .await
            .map_err(|e| BackupError::Io(std::io::Error::other(e)))??;
    let dump_path = data_dir.join(".restore.dump");
    let cluster = RunningCluster::start(ClusterOptions {
        dir: data_dir.join("postgres"),
        bin_dir,
        fsync: true,
    })
    .await
    .map_err(db_err)?;
    let result = async {
        let tool = crate::db::binaries::client_tool(&cluster.binaries().dir, "pg_restore")
            .ok_or_else(|| BackupError::Tool {
                tool: "pg_restore",
                message: "it is not installed; install PostgreSQL's client tools (scripts/setup does)".into(),
            })?;
        let output = tokio::process::Command::new(&tool)
            .arg("--no-owner")
            .arg("--no-privileges")
            .arg("--exit-on-error")
            .arg(format!("--dbname={}", cluster.database_url()))
            .arg(&dump_path)
            .output()
            .await
            .map_err(|e| BackupError::Tool {
                tool: "pg_restore",
                message: format!("could not start {}: {e}", tool.display()),
            })?;
        if !output.status.success() {
            return Err(BackupError::Tool {
                tool: "pg_restore",
                message: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            });
        }
        let mut conn = AsyncPgConnection::establish(cluster.database_url()).await.map_err(db_err)?;
        let mut rows = 0;
        for (table, expected) in &manifest.tables {
            let found = count(&mut conn, table).await?;
            if found != *expected {
                return Err(BackupError::Damaged(format!(
                    "the table {table} has {found} rows after the restore, the backup recorded {expected}"
                )));
            }
            rows += found;
        }
        // A backup from an older version gets the newer schema.
        crate::db::run_migrations(cluster.database_url()).await.map_err(db_err)?;
        let keys = store_keys(&mut conn, data_dir, options.key_store, &opened).await?;
        Ok(Restored {
            files,
            bytes,
            tables: manifest.tables.len(),
            rows,
            keys,
            keys_left,
        })
    }
    .await;
    let _ = std::fs::remove_file(&dump_path);
    let stopped = cluster.stop().await.map_err(db_err);
    let restored = result?;
    stopped?;
    Ok(restored)
}

/// The sealed provider keys in the archive, if it holds any (checked against the manifest).
fn read_sealed_keys(archive: &Path) -> Result<Option<SealedKeys>, BackupError> {
    let mut zip = ZipReader::open(archive)?;
    let manifest = read_manifest(&mut zip)?;
    let Some(listed) = manifest.provider_keys else {
        return Ok(None);
    };
    let entry = zip.find(keys::ENTRY).cloned().ok_or_else(|| {
        BackupError::Damaged("its manifest lists provider keys that are not in it".into())
    })?;
    let mut json = Vec::new();
    if zip.copy_to(&entry, &mut json)? != listed.sha256 {
        return Err(BackupError::Damaged(
            "its provider keys do not match their SHA-256".into(),
        ));
    }
    serde_json::from_slice(&json)
        .map(Some)
        .map_err(|e| BackupError::Damaged(format!("its provider keys are unreadable: {e}")))
}

/// Seals `opened` under the new data directory's data key and stores them.
async fn store_keys(
    conn: &mut AsyncPgConnection,
    data_dir: &Path,
    key_store: KeyStore,
    opened: &[OpenedKey],
) -> Result<Vec<String>, BackupError> {
    if opened.is_empty() {
        return Ok(Vec::new());
    }
    let vault = Vault::load(data_dir, key_store)
        .map_err(|e| BackupError::Refused(format!("the provider keys could not be stored: {e}")))?;
    for key in opened {
        crate::credentials::store(conn, &vault, &key.provider, &key.key, key.verified_at)
            .await
            .map_err(db_err)?;
    }
    Ok(opened.iter().map(|k| k.provider.clone()).collect())
}

fn read_manifest(zip: &mut ZipReader) -> Result<Manifest, BackupError> {
    let manifest_entry = zip.find(MANIFEST).cloned().ok_or_else(|| {
        BackupError::Damaged("it has no manifest; is it an Art Factory backup?".into())
    })?;
    let mut json = Vec::new();
    zip.copy_to(&manifest_entry, &mut json)?;
    let manifest: Manifest = serde_json::from_slice(&json)
        .map_err(|e| BackupError::Damaged(format!("its manifest is unreadable: {e}")))?;
    if manifest.format != 1 {
        return Err(BackupError::Refused(format!(
            "this backup has format {}, newer than this app reads; use a newer Art Factory",
            manifest.format
        )));
    }
    Ok(manifest)
}

/// Checks the archive against its manifest while writing every media file (into the data dir,
/// or `bucket`) and the dump.
fn extract(
    archive: &Path,
    data_dir: &Path,
    bucket: Option<&MediaStore>,
) -> Result<(Manifest, usize, u64), BackupError> {
    let mut zip = ZipReader::open(archive)?;
    let manifest = read_manifest(&mut zip)?;
    let expected: BTreeMap<&str, &FileEntry> = manifest
        .files
        .iter()
        .chain(std::iter::once(&manifest.database))
        .map(|f| (f.name.as_str(), f))
        .collect();
    let mut seen = 0usize;
    let mut bytes = 0u64;
    let entries = zip.entries.clone();
    for entry in entries {
        // The sealed keys were read (and checked) before anything was written.
        if entry.name == MANIFEST || entry.name == keys::ENTRY {
            continue;
        }
        let Some(listed) = expected.get(entry.name.as_str()) else {
            return Err(BackupError::Damaged(format!(
                "{} is not in its manifest",
                entry.name
            )));
        };
        let damaged = |what: &str| BackupError::Damaged(format!("{} {what}", entry.name));
        let target = if entry.name == DUMP {
            data_dir.join(".restore.dump")
        } else {
            let key = media_key(&entry.name).ok_or_else(|| damaged("is not a media file name"))?;
            if let Some(bucket) = bucket {
                // Checked whole before it is stored: a bucket has no half-written files to
                // clean up.
                let mut bytes_read =
                    Vec::with_capacity((entry.size as usize).min(crate::media::MAX_FILE_BYTES));
                if zip.copy_to(&entry, &mut bytes_read)? != listed.sha256 {
                    return Err(damaged("does not match its SHA-256"));
                }
                bucket.put_raw(&key, &bytes_read)?;
                seen += 1;
                bytes += entry.size;
                continue;
            }
            data_dir.join(key.as_str())
        };
        if let Some(dir) = target.parent() {
            crate::private_files::create_dir_all(dir)?;
        }
        let mut file =
            std::io::BufWriter::new(crate::private_files::create_new(&target).map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!("could not write {}: {e}", target.display()),
                )
            })?);
        let sha = zip.copy_to(&entry, &mut file)?;
        file.flush()?;
        if sha != listed.sha256 {
            return Err(damaged("does not match its SHA-256"));
        }
        seen += 1;
        bytes += entry.size;
    }
    if seen != expected.len() {
        return Err(BackupError::Damaged(format!(
            "{} of its {} files are missing",
            expected.len() - seen,
            expected.len()
        )));
    }
    Ok((manifest, seen - 1, bytes))
}

#[cfg(test)]
mod tests {
    use super::media_key;

    #[test]
    fn only_media_names_this_app_writes_become_paths() {
        let hash = "ab".repeat(32);
        assert!(media_key(&format!("media/projects/3/products/ab/{hash}.png")).is_some());
        assert!(media_key(&format!("media/projects/3/thumbs/ab/{hash}-256.webp")).is_some());
        for bad in [
            "media/projects/3/products/../../etc/passwd",
            "media/../x",
            "/etc/passwd",
            "media/projects/x/products/ab/f.png",
            "media/projects/3/other/ab/f.png",
            "media/projects/3/products/ab/f.png/extra",
            "database.dump",
        ] {
            assert!(media_key(bad).is_none(), "{bad}");
        }
    }
}
