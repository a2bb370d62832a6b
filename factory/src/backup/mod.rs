//! Backup and restore of a whole library: one archive (the export module's ZIP) holding a
//! consistent dump of the database (`pg_dump`, custom format), every media file, and a
//! manifest with each file's SHA-256 and each table's row count.
//!
//! The dump and the counts come from one snapshot (`pg_export_snapshot` in a repeatable-read
//! transaction that `pg_dump --snapshot` joins), so the app keeps serving while it runs. Media
//! files are copied while `pg_dump` runs, from once the snapshot is taken; they are write-once
//! and content-addressed, so the copy finds every file the dump names (a trash emptied meanwhile is the exception, and shows as a missing file).
//!
//! A restore goes only into an empty data directory: it checks every entry's name and hash
//! while writing the files, restores the dump into a fresh managed cluster, brings the schema
//! up to date, and compares every table's row count with the manifest.
//!
//! Provider keys stay out of the dump (their table's rows are not dumped; they are sealed under
//! a data key that is never in a backup). When the person asks, they go in beside it, sealed
//! under a passphrase ([`keys`]), and a restore given that passphrase stores them again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub mod keys;
mod restore;
pub mod schedule;
mod write;

pub use keys::{Passphrase, SealedKeys};
pub use restore::{restore, RestoreOptions, Restored};
use write::{dump, finish_archive, write_media};

const MANIFEST: &str = "manifest.json";
const DUMP: &str = "database.dump";
const MEDIA: &str = "media/";
/// Tables whose rows are not backed up (see the module's note on keys).
const LEFT_OUT: &[&str] = &["provider_credentials"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    pub name: String,
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub app_version: String,
    pub created_at: DateTime<Utc>,
    /// Rows per table in the dump's snapshot.
    pub tables: BTreeMap<String, i64>,
    pub database: FileEntry,
    pub files: Vec<FileEntry>,
    /// The provider keys sealed under a passphrase, when the person asked for them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_keys: Option<FileEntry>,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Refused(String),
    #[error("the database could not be read or written: {0}")]
    Database(String),
    #[error("{tool} failed: {message}")]
    Tool { tool: &'static str, message: String },
    #[error("the backup is damaged: {0}")]
    Damaged(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl From<crate::export::zip::ZipError> for BackupError {
    fn from(e: crate::export::zip::ZipError) -> Self {
        BackupError::Damaged(e.to_string())
    }
}

fn db_err(e: impl std::fmt::Display) -> BackupError {
    BackupError::Database(e.to_string())
}

/// What a backup reads from.
#[derive(Debug, Clone)]
pub struct Source {
    /// The PostgreSQL binaries' directory (for `pg_dump`).
    pub bin_dir: PathBuf,
    pub database_url: String,
    /// The media files, in the data dir or a bucket.
    pub media: crate::media::MediaStore,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Made {
    pub path: PathBuf,
    pub bytes: u64,
    pub files: usize,
    pub manifest: Manifest,
}

/// Writes a backup of `source` to `out` (through a temporary file beside it, renamed at the
/// end), with `keys` beside the dump when given.
pub async fn backup(
    source: &Source,
    out: &Path,
    keys: Option<SealedKeys>,
) -> Result<Made, BackupError> {
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    crate::private_files::create_dir_all(dir)?;
    let partial = dir.join(format!(
        ".{}.partial",
        out.file_name().and_then(|n| n.to_str()).unwrap_or("backup")
    ));
    let dump_path = dir.join(format!(".{}.dump", std::process::id()));
    // The media files are copied while pg_dump runs, once its snapshot is taken.
    let result = async {
        let (snapshot_taken, taken) = tokio::sync::oneshot::channel::<()>();
        let started = std::time::Instant::now();
        let dumping = async {
            let dumped = dump(source, &dump_path, snapshot_taken).await;
            (dumped, started.elapsed())
        };
        let copying = async {
            if taken.await.is_err() {
                return Err(BackupError::Database("the snapshot was not taken".into()));
            }
            let (source, partial) = (source.clone(), partial.clone());
            let copied = tokio::task::spawn_blocking(move || write_media(&source, &partial))
                .await
                .map_err(|e| BackupError::Io(std::io::Error::other(e)))?;
            tracing::debug!(
                seconds = started.elapsed().as_secs_f64(),
                "backup: media copied"
            );
            copied
        };
        let ((dumped, dump_time), copied) = tokio::join!(dumping, copying);
        tracing::debug!(
            seconds = dump_time.as_secs_f64(),
            "backup: pg_dump finished"
        );
        let tables = dumped?;
        let archive = copied?;
        let dump_path = dump_path.clone();
        tokio::task::spawn_blocking(move || finish_archive(archive, &dump_path, tables, keys))
            .await
            .map_err(|e| BackupError::Io(std::io::Error::other(e)))?
    }
    .await;
    let _ = std::fs::remove_file(&dump_path);
    match result {
        Ok((manifest, files)) => {
            std::fs::rename(&partial, out)?;
            Ok(Made {
                path: out.to_path_buf(),
                bytes: std::fs::metadata(out)?.len(),
                files,
                manifest,
            })
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where backups made from the app go.
pub fn backups_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("backups")
}

/// A backup on disk.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub path: PathBuf,
    pub bytes: u64,
    pub made_at: DateTime<Utc>,
}

/// The backups in `dir`, newest first.
pub fn list(dir: &Path) -> Vec<Listed> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<Listed> = entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".zip"))
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            Some(Listed {
                path: e.path(),
                bytes: meta.len(),
                made_at: meta.modified().ok()?.into(),
            })
        })
        .collect();
    found.sort_by_key(|l| std::cmp::Reverse(l.made_at));
    found
}
