//! Writing a backup: the dump in its snapshot, the media files, the manifest.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use chrono::Utc;
use diesel::sql_types::{BigInt, Text};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use sha2::{Digest, Sha256};

use super::{
    db_err, hex, BackupError, FileEntry, Manifest, Source, DUMP, LEFT_OUT, MANIFEST, MEDIA,
};
use crate::export::zip::ZipWriter;
use crate::media::Key;

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

pub(super) async fn count(conn: &mut AsyncPgConnection, table: &str) -> Result<i64, BackupError> {
    let rows: Vec<Count> = diesel::sql_query(format!("SELECT count(*) AS n FROM \"{table}\""))
        .load(conn)
        .await
        .map_err(db_err)?;
    Ok(rows.into_iter().next().map_or(0, |c| c.n))
}

/// Runs `pg_dump` in a snapshot whose row counts it returns, into `path`.
pub(super) async fn dump(
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

/// An archive being written: the file, the ZIP's directory so far, the media files in it.
pub(super) struct Partial {
    out: std::io::BufWriter<std::fs::File>,
    zip: ZipWriter,
    files: Vec<FileEntry>,
}

/// Files read and hashed ahead of the writer, at most (memory stays bounded by this many files).
const READ_AHEAD: usize = 8;

/// A media file read and hashed, ready to be written.
struct ReadFile {
    key: Key,
    bytes: Vec<u8>,
    crc: u32,
    sha256: String,
}

/// Writes every media file into a new archive at `partial`. Reader threads read and hash files
/// (CRC-32 for the ZIP, SHA-256 for the manifest) while this thread writes the ones ready, so
/// hashing overlaps the disk's work; entries land in the order they are ready, and the
/// manifest lists them by name.
pub(super) fn write_media(source: &Source, partial: &Path) -> Result<Partial, BackupError> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let mut out =
        std::io::BufWriter::with_capacity(1 << 20, crate::private_files::create_new(partial)?);
    let mut zip = ZipWriter::new();
    let now = Utc::now();
    let keys: Vec<Key> = source
        .media
        .list()?
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    let next = AtomicUsize::new(0);
    let readers = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let (tx, rx) = std::sync::mpsc::sync_channel::<std::io::Result<ReadFile>>(READ_AHEAD);
    let mut files = std::thread::scope(|scope| {
        for _ in 0..readers {
            let (tx, keys, next, media) = (tx.clone(), &keys, &next, &source.media);
            scope.spawn(move || {
                while let Some(key) = keys.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let read = media.read(key).map(|bytes| ReadFile {
                        key: key.clone(),
                        crc: crc32fast::hash(&bytes),
                        sha256: hex(&Sha256::digest(&bytes)),
                        bytes,
                    });
                    // The writer stopped (an error): nothing more to read.
                    if tx.send(read).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut files = Vec::with_capacity(keys.len());
        for read in rx {
            let read = read?;
            let name = format!("{MEDIA}{}", read.key);
            let size = read.bytes.len() as u64;
            out.write_all(&zip.header(&name, now, read.crc, size))?;
            out.write_all(&read.bytes)?;
            files.push(FileEntry {
                name,
                sha256: read.sha256,
                bytes: size,
            });
        }
        Ok::<_, BackupError>(files)
    })?;
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Partial { out, zip, files })
}

/// Appends the dump (hashed in one pass, then copied) and the manifest, and closes the archive.
pub(super) fn finish_archive(
    partial: Partial,
    dump_path: &Path,
    tables: BTreeMap<String, i64>,
    keys: Option<super::SealedKeys>,
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
    let provider_keys = keys.map(|keys| {
        let json = serde_json::to_vec_pretty(&keys).expect("sealed keys serialise");
        let entry = zip.entry(super::keys::ENTRY, now, &json);
        out.write_all(&entry).map(|()| FileEntry {
            name: super::keys::ENTRY.into(),
            sha256: hex(&Sha256::digest(&json)),
            bytes: json.len() as u64,
        })
    });
    let provider_keys = provider_keys.transpose()?;
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
        provider_keys,
    };
    let json = serde_json::to_vec_pretty(&manifest).expect("the manifest serialises");
    out.write_all(&zip.entry(MANIFEST, now, &json))?;
    out.write_all(&zip.finish())?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok((manifest, count))
}
