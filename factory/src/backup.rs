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
//! Provider keys stay out (their table's rows are not dumped): they are encrypted under a data
//! key that is never in a backup, and are set again after a restore.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Text};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::cluster::{ClusterOptions, RunningCluster};
use crate::export::zip::{ZipReader, ZipWriter};

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
    pub data_dir: PathBuf,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Made {
    pub path: PathBuf,
    pub bytes: u64,
    pub files: usize,
    pub manifest: Manifest,
}

/// Writes a backup of `source` to `out` (through a temporary file beside it, renamed at the end).
pub async fn backup(source: &Source, out: &Path) -> Result<Made, BackupError> {
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
        let dumping = dump(source, &dump_path, snapshot_taken);
        let copying = async {
            if taken.await.is_err() {
                return Err(BackupError::Database("the snapshot was not taken".into()));
            }
            let (source, partial) = (source.clone(), partial.clone());
            tokio::task::spawn_blocking(move || write_media(&source, &partial))
                .await
                .map_err(|e| BackupError::Io(std::io::Error::other(e)))?
        };
        let (dumped, copied) = tokio::join!(dumping, copying);
        let tables = dumped?;
        let archive = copied?;
        let dump_path = dump_path.clone();
        tokio::task::spawn_blocking(move || finish_archive(archive, &dump_path, tables))
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

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The app's tables (not the migrations' bookkeeping).
async fn table_names(conn: &mut AsyncPgConnection) -> Result<Vec<String>, BackupError> {
    let names: Vec<Name> = diesel::sql_query(
        "SELECT table_name::text AS name FROM information_schema.tables
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
           AND table_name <> '__diesel_schema_migrations' ORDER BY 1",
    )
    .load(conn)
    .await
    .map_err(db_err)?;
    Ok(names.into_iter().map(|n| n.name).collect())
}

async fn count(conn: &mut AsyncPgConnection, table: &str) -> Result<i64, BackupError> {
    let rows: Vec<Count> = diesel::sql_query(format!("SELECT count(*) AS n FROM \"{table}\""))
        .load(conn)
        .await
        .map_err(db_err)?;
    Ok(rows.into_iter().next().map_or(0, |c| c.n))
}

/// Runs `pg_dump` in a snapshot whose row counts it returns, into `path`.
async fn dump(
    source: &Source,
    path: &Path,
    snapshot_taken: tokio::sync::oneshot::Sender<()>,
) -> Result<BTreeMap<String, i64>, BackupError> {
    let mut conn = AsyncPgConnection::establish(&source.database_url)
        .await
        .map_err(db_err)?;
    diesel::sql_query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut conn)
        .await
        .map_err(db_err)?;
    let snapshot: Vec<Name> = diesel::sql_query("SELECT pg_export_snapshot() AS name")
        .load(&mut conn)
        .await
        .map_err(db_err)?;
    let snapshot = snapshot
        .into_iter()
        .next()
        .map(|n| n.name)
        .unwrap_or_default();
    let mut tables = BTreeMap::new();
    for table in table_names(&mut conn).await? {
        let n = if LEFT_OUT.contains(&table.as_str()) {
            0
        } else {
            count(&mut conn, &table).await?
        };
        tables.insert(table, n);
    }
    let _ = snapshot_taken.send(());
    let tool = crate::db::binaries::client_tool(&source.bin_dir, "pg_dump").ok_or_else(|| {
        BackupError::Tool {
            tool: "pg_dump",
            message: "it is not installed; install PostgreSQL's client tools (scripts/setup does)"
                .into(),
        }
    })?;
    let mut command = tokio::process::Command::new(&tool);
    command
        .arg("--format=custom")
        .arg(format!("--snapshot={snapshot}"))
        .arg("--no-owner")
        .arg("--no-privileges")
        .arg(format!("--file={}", path.display()))
        .arg(format!("--dbname={}", source.database_url));
    for table in LEFT_OUT {
        command.arg(format!("--exclude-table-data={table}"));
    }
    let output = command.output().await.map_err(|e| BackupError::Tool {
        tool: "pg_dump",
        message: format!("could not start {}: {e}", tool.display()),
    })?;
    let _ = diesel::sql_query("COMMIT").execute(&mut conn).await;
    if !output.status.success() {
        return Err(BackupError::Tool {
            tool: "pg_dump",
            message: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(tables)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every file under `root`, relative, in order.
fn files_under(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let kind = entry.file_type()?;
            let name = entry.file_name();
            if name.to_string_lossy().starts_with(".tmp-") {
                continue;
            }
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                out.push(
                    entry
                        .path()
                        .strip_prefix(root)
                        .expect("under the root")
                        .to_path_buf(),
                );
            }
        }
    }
    out.sort();
    Ok(out)
}

/// An archive being written: the file, the ZIP's directory so far, the media files in it.
struct Partial {
    out: std::io::BufWriter<std::fs::File>,
    zip: ZipWriter,
    files: Vec<FileEntry>,
}

fn write_media(source: &Source, partial: &Path) -> Result<Partial, BackupError> {
    let mut out =
        std::io::BufWriter::with_capacity(1 << 20, crate::private_files::create_new(partial)?);
    let mut zip = ZipWriter::new();
    let now = Utc::now();
    let projects = source.data_dir.join("projects");
    let mut files = Vec::new();
    for rel in files_under(&projects)? {
        let bytes = std::fs::read(projects.join(&rel))?;
        let name = format!("{MEDIA}projects/{}", rel.display());
        out.write_all(&zip.entry(&name, now, &bytes))?;
        files.push(FileEntry {
            name,
            sha256: hex(&Sha256::digest(&bytes)),
            bytes: bytes.len() as u64,
        });
    }
    Ok(Partial { out, zip, files })
}

/// Appends the dump (hashed in one pass, then copied) and the manifest, and closes the archive.
fn finish_archive(
    partial: Partial,
    dump_path: &Path,
    tables: BTreeMap<String, i64>,
) -> Result<(Manifest, usize), BackupError> {
    use std::io::Read;
    let Partial {
        mut out,
        mut zip,
        files,
    } = partial;
    let now = Utc::now();
    let (mut crc, mut sha, mut size) = (crc32fast::Hasher::new(), Sha256::new(), 0u64);
    let mut dump = std::fs::File::open(dump_path)?;
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = dump.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        crc.update(&buffer[..n]);
        sha.update(&buffer[..n]);
        size += n as u64;
    }
    out.write_all(&zip.header(DUMP, now, crc.finalize(), size))?;
    std::io::copy(&mut std::fs::File::open(dump_path)?, &mut out)?;
    let count = files.len();
    let manifest = Manifest {
        format: 1,
        app_version: env!("CARGO_PKG_VERSION").into(),
        created_at: now,
        tables,
        database: FileEntry {
            name: DUMP.into(),
            sha256: hex(&sha.finalize()),
            bytes: size,
        },
        files,
    };
    let json = serde_json::to_vec_pretty(&manifest).expect("the manifest serialises");
    out.write_all(&zip.entry(MANIFEST, now, &json))?;
    out.write_all(&zip.finish())?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok((manifest, count))
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

#[derive(Debug, Clone, PartialEq)]
pub struct Restored {
    pub files: usize,
    pub bytes: u64,
    pub tables: usize,
    pub rows: i64,
}

/// A media entry's path inside the data directory, if its name is one this app writes
/// (`media/projects/<digits>/<products|thumbs>/<hh>/<file>`, nothing else).
fn media_path(name: &str) -> Option<PathBuf> {
    let rel = name.strip_prefix(MEDIA)?;
    let parts: Vec<&str> = rel.split('/').collect();
    let safe = |p: &str| {
        !p.is_empty()
            && p != "."
            && p != ".."
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
    };
    (parts.len() == 5
        && parts[0] == "projects"
        && parts[1].chars().all(|c| c.is_ascii_digit())
        && matches!(parts[2], "products" | "thumbs")
        && parts.iter().all(|p| safe(p)))
    .then(|| PathBuf::from(rel))
}

/// Restores the archive at `archive` into `data_dir`, which must be empty or absent.
pub async fn restore(
    archive: &Path,
    data_dir: &Path,
    bin_dir: Option<PathBuf>,
) -> Result<Restored, BackupError> {
    if std::fs::read_dir(data_dir).is_ok_and(|mut d| d.next().is_some()) {
        return Err(BackupError::Refused(format!(
            "{} is not empty; restore into a new, empty data directory (nothing is overwritten)",
            data_dir.display()
        )));
    }
    crate::private_files::create_dir_all(data_dir)?;
    let (archive, data) = (archive.to_path_buf(), data_dir.to_path_buf());
    let (manifest, files, bytes) = tokio::task::spawn_blocking(move || extract(&archive, &data))
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
        Ok(Restored {
            files,
            bytes,
            tables: manifest.tables.len(),
            rows,
        })
    }
    .await;
    let _ = std::fs::remove_file(&dump_path);
    let stopped = cluster.stop().await.map_err(db_err);
    let restored = result?;
    stopped?;
    Ok(restored)
}

/// Checks the archive against its manifest while writing every media file and the dump.
fn extract(archive: &Path, data_dir: &Path) -> Result<(Manifest, usize, u64), BackupError> {
    let mut zip = ZipReader::open(archive)?;
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
        if entry.name == MANIFEST {
            continue;
        }
        let Some(listed) = expected.get(entry.name.as_str()) else {
            return Err(BackupError::Damaged(format!(
                "{} is not in its manifest",
                entry.name
            )));
        };
        let target = if entry.name == DUMP {
            data_dir.join(".restore.dump")
        } else {
            let rel = media_path(&entry.name).ok_or_else(|| {
                BackupError::Damaged(format!("{} is not a media file name", entry.name))
            })?;
            data_dir.join(rel)
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
            return Err(BackupError::Damaged(format!(
                "{} does not match its SHA-256",
                entry.name
            )));
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
    use super::media_path;

    #[test]
    fn only_media_names_this_app_writes_become_paths() {
        let hash = "ab".repeat(32);
        assert!(media_path(&format!("media/projects/3/products/ab/{hash}.png")).is_some());
        assert!(media_path(&format!("media/projects/3/thumbs/ab/{hash}-256.webp")).is_some());
        for bad in [
            "media/projects/3/products/../../etc/passwd",
            "media/../x",
            "/etc/passwd",
            "media/projects/x/products/ab/f.png",
            "media/projects/3/other/ab/f.png",
            "media/projects/3/products/ab/f.png/extra",
            "database.dump",
        ] {
            assert!(media_path(bad).is_none(), "{bad}");
        }
    }
}
