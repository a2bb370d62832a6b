//! Exports: a selection, a gallery view's result or a whole project as one ZIP, made while it
//! is sent (no copy of the files on disk). Each original carries its metadata: PNGs made here
//! get the `parameters` and `art-factory` chunks (imported files are left as they came, with
//! their own tool's); other formats get a `.json` sidecar. `metadata.jsonl` and `metadata.csv`
//! hold one row per product with every field, its tags, its token bindings and its lineage.
//!
//! Products are read 200 at a time; the metadata files are written to a spool file beside the
//! data directory as the archive goes, then sent last.

pub mod zip;

use std::collections::HashMap;
use std::io::Write;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::db::{get_conn, Pool};
use crate::gallery::{self, View};
use crate::media::png::{embed_metadata, ImageMetadata};
use crate::media::MediaStore;
use crate::products::Product;
use crate::schema::{products, projects};

/// Products read per query.
const CHUNK: usize = 200;

/// What to export.
#[derive(Debug, Clone)]
pub enum Selection {
    Ids(Vec<i64>),
    View(View),
    Project(i64),
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("Nothing to export: the selection is empty.")]
    Empty,
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error(transparent)]
    Gallery(#[from] gallery::GalleryError),
    #[error("the export could not be written: {0}")]
    Io(#[from] std::io::Error),
    /// The receiver went away (the download was cancelled).
    #[error("the download was stopped")]
    Stopped,
}

impl From<diesel::result::Error> for ExportError {
    fn from(e: diesel::result::Error) -> Self {
        ExportError::Db(e.into())
    }
}

/// How an export went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub products: usize,
    /// Products whose file was missing (listed in the metadata, not in the archive).
    pub missing: usize,
    pub bytes: u64,
}

/// One row of `metadata.jsonl` (and, flattened, of `metadata.csv`).
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub id: i64,
    pub project_id: i64,
    pub project: String,
    /// Its path in the archive; empty when its file was missing.
    pub file: String,
    pub kind: String,
    pub mime: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub bytes: i64,
    pub content_hash: String,
    pub created_at: DateTime<Utc>,
    pub prompt: String,
    pub negative_prompt: String,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub seed: Option<i64>,
    pub params: Value,
    pub bindings: Value,
    pub rating: Option<i16>,
    pub favourite: bool,
    pub rejected: bool,
    pub tags: Vec<String>,
    pub parent_id: Option<i64>,
    pub children: Vec<i64>,
    pub batch_id: Option<i64>,
    pub job_id: Option<i64>,
    /// How long a video or sound lasts.
    pub duration_ms: Option<i32>,
    /// What a video or sound holds, as probed (container, streams).
    pub av_info: Option<Value>,
}

const CSV_COLUMNS: &[&str] = &[
    "id",
    "project_id",
    "project",
    "file",
    "kind",
    "mime",
    "width",
    "height",
    "bytes",
    "content_hash",
    "created_at",
    "prompt",
    "negative_prompt",
    "provider",
    "model",
    "seed",
    "params",
    "bindings",
    "rating",
    "favourite",
    "rejected",
    "tags",
    "parent_id",
    "children",
    "batch_id",
    "job_id",
    "duration_ms",
    "av_info",
];

impl Record {
    fn csv_row(&self) -> String {
        let opt = |v: Option<String>| v.unwrap_or_default();
        let join = |v: &[i64]| v.iter().map(i64::to_string).collect::<Vec<_>>().join(";");
        let cells: Vec<String> = vec![
            self.id.to_string(),
            self.project_id.to_string(),
            self.project.clone(),
            self.file.clone(),
            self.kind.clone(),
            self.mime.clone(),
            opt(self.width.map(|v| v.to_string())),
            opt(self.height.map(|v| v.to_string())),
            self.bytes.to_string(),
            self.content_hash.clone(),
            self.created_at.to_rfc3339(),
            self.prompt.clone(),
            self.negative_prompt.clone(),
            opt(self.provider.clone()),
            opt(self.model.clone()),
            opt(self.seed.map(|v| v.to_string())),
            self.params.to_string(),
            self.bindings.to_string(),
            opt(self.rating.map(|v| v.to_string())),
            self.favourite.to_string(),
            self.rejected.to_string(),
            self.tags.join(";"),
            opt(self.parent_id.map(|v| v.to_string())),
            join(&self.children),
            opt(self.batch_id.map(|v| v.to_string())),
            opt(self.job_id.map(|v| v.to_string())),
            opt(self.duration_ms.map(|v| v.to_string())),
            opt(self.av_info.as_ref().map(Value::to_string)),
        ];
        let mut line = cells
            .iter()
            .map(|c| csv_cell(c))
            .collect::<Vec<_>>()
            .join(",");
        line.push_str("\r\n");
        line
    }
}

/// RFC 4180: quoted when it holds a comma, a quote or a line break.
fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// A spool file with the CRC and size of what went in, to be sent as one entry.
struct Spool {
    file: std::fs::File,
    path: std::path::PathBuf,
    crc: crc32fast::Hasher,
    size: u64,
}

impl Spool {
    fn new(dir: &std::path::Path, name: &str) -> std::io::Result<Self> {
        crate::private_files::create_dir_all(dir)?;
        let path = dir.join(format!(
            "{name}-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        Ok(Self {
            file: crate::private_files::create_new(&path)?,
            path,
            crc: crc32fast::Hasher::new(),
            size: 0,
        })
    }

    fn write(&mut self, text: &str) -> std::io::Result<()> {
        self.crc.update(text.as_bytes());
        self.size += text.len() as u64;
        self.file.write_all(text.as_bytes())
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Sends the archive of `selection` into `out`, chunk by chunk.
pub async fn export(
    pool: &Pool,
    media: &MediaStore,
    selection: Selection,
    out: mpsc::Sender<Vec<u8>>,
) -> Result<Summary, ExportError> {
    let mut conn = get_conn(pool).await?;
    let ids = ids_of(&mut conn, &selection).await?;
    if ids.is_empty() {
        return Err(ExportError::Empty);
    }
    let spool_dir = media.root().join("tmp");
    let mut jsonl = Spool::new(&spool_dir, "metadata.jsonl")?;
    let mut csv = Spool::new(&spool_dir, "metadata.csv")?;
    csv.write(&(CSV_COLUMNS.join(",") + "\r\n"))?;
    let mut zip = zip::ZipWriter::new();
    let mut summary = Summary::default();
    let send = |bytes: Vec<u8>| {
        let out = out.clone();
        async move { out.send(bytes).await.map_err(|_| ExportError::Stopped) }
    };
    for chunk in ids.chunks(CHUNK) {
        for record in records(&mut conn, chunk).await? {
            let (mut record, product) = record;
            summary.products += 1;
            match archived_file(media, &product).await {
                Some((bytes, sidecar)) => {
                    record.file =
                        format!("{}/{}.{}", slug(&record.project), product.id, product.ext());
                    summary.bytes += bytes.len() as u64;
                    send(zip.entry(&record.file, product.created_at, &bytes)).await?;
                    if sidecar {
                        let json = serde_json::to_vec_pretty(&record).expect("records serialise");
                        send(zip.entry(
                            &format!("{}.json", record.file),
                            product.created_at,
                            &json,
                        ))
                        .await?;
                    }
                }
                None => summary.missing += 1,
            }
            jsonl.write(&(serde_json::to_string(&record).expect("records serialise") + "\n"))?;
            csv.write(&record.csv_row())?;
        }
    }
    let now = Utc::now();
    for (name, spool) in [("metadata.jsonl", jsonl), ("metadata.csv", csv)] {
        let mut spool = spool;
        spool.file.flush()?;
        let crc = spool.crc.clone().finalize();
        send(zip.header(name, now, crc, spool.size)).await?;
        let mut file = tokio::fs::File::open(&spool.path).await?;
        let mut buffer = vec![0u8; 1 << 20];
        loop {
            let n = tokio::io::AsyncReadExt::read(&mut file, &mut buffer).await?;
            if n == 0 {
                break;
            }
            send(buffer[..n].to_vec()).await?;
        }
    }
    send(zip.finish()).await?;
    Ok(summary)
}

/// Every product id of the selection, in its order (trashed ones left out).
async fn ids_of(
    conn: &mut AsyncPgConnection,
    selection: &Selection,
) -> Result<Vec<i64>, ExportError> {
    Ok(match selection {
        Selection::Ids(ids) => {
            // A set: a selection may name 10,000 products.
            let found: std::collections::HashSet<i64> = products::table
                .filter(products::id.eq_any(ids))
                .filter(products::deleted_at.is_null())
                .select(products::id)
                .load::<i64>(conn)
                .await?
                .into_iter()
                .collect();
            ids.iter()
                .copied()
                .filter(|id| found.contains(id))
                .collect()
        }
        Selection::Project(project) => {
            products::table
                .filter(products::project_id.eq(project))
                .filter(products::deleted_at.is_null())
                .order(products::id.asc())
                .select(products::id)
                .load(conn)
                .await?
        }
        Selection::View(view) => {
            let mut ids = Vec::new();
            let mut cursor = None;
            loop {
                let page = gallery::page(conn, view, cursor.as_ref(), None, 500).await?;
                ids.extend(page.tiles.iter().map(|t| t.id));
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            ids
        }
    })
}

/// The records of `ids` (in that order), with their products.
async fn records(
    conn: &mut AsyncPgConnection,
    ids: &[i64],
) -> Result<Vec<(Record, Product)>, ExportError> {
    let mut found: HashMap<i64, Product> = products::table
        .filter(products::id.eq_any(ids))
        .select(Product::as_select())
        .load::<Product>(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let project_ids: Vec<i64> = found.values().map(|p| p.project_id).collect();
    let names: HashMap<i64, String> = projects::table
        .filter(projects::id.eq_any(project_ids))
        .select((projects::id, projects::name))
        .load::<(i64, String)>(conn)
        .await?
        .into_iter()
        .collect();
    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    for (id, name) in gallery::tags::of_products(conn, ids).await? {
        tags.entry(id).or_default().push(name);
    }
    #[derive(QueryableByName)]
    struct Child {
        #[diesel(sql_type = BigInt)]
        parent_id: i64,
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let mut children: HashMap<i64, Vec<i64>> = HashMap::new();
    let rows: Vec<Child> = diesel::sql_query(
        "SELECT parent_id, id FROM products WHERE parent_id = ANY($1) AND deleted_at IS NULL ORDER BY id",
    )
    .bind::<Array<BigInt>, _>(ids)
    .load(conn)
    .await?;
    for row in rows {
        children.entry(row.parent_id).or_default().push(row.id);
    }
    Ok(ids
        .iter()
        .filter_map(|id| found.remove(id))
        .map(|p| {
            let record = Record {
                id: p.id,
                project_id: p.project_id,
                project: names.get(&p.project_id).cloned().unwrap_or_default(),
                file: String::new(),
                kind: p.kind.clone(),
                mime: p.mime.clone(),
                width: p.width,
                height: p.height,
                bytes: p.bytes,
                content_hash: p.content_hash.clone(),
                created_at: p.created_at,
                prompt: p.prompt.clone(),
                negative_prompt: p.negative_prompt.clone(),
                provider: p.provider.clone(),
                model: p.model.clone(),
                seed: p.seed,
                params: p.params.clone(),
                bindings: p.bindings.clone(),
                rating: p.rating,
                favourite: p.favourite,
                rejected: p.rejected,
                tags: tags.remove(&p.id).unwrap_or_default(),
                parent_id: p.parent_id,
                children: children.remove(&p.id).unwrap_or_default(),
                batch_id: p.batch_id,
                job_id: p.job_id,
                duration_ms: p.duration_ms,
                av_info: p.av_info.clone(),
            };
            (record, p)
        })
        .collect())
}

/// The bytes to put in the archive for `product`, and whether it needs a sidecar; `None` when
/// its file is missing.
async fn archived_file(media: &MediaStore, product: &Product) -> Option<(Vec<u8>, bool)> {
    let key = media.original_key(product.project_id, &product.content_hash, product.ext())?;
    let bytes = media.read_async(&key).await.ok()?;
    let imported = product
        .provider
        .as_deref()
        .is_some_and(|p| p.starts_with("imported"));
    if product.mime != "image/png" {
        return Some((bytes, true));
    }
    if imported {
        // As it came, with its own tool's chunks.
        return Some((bytes, false));
    }
    let meta = ImageMetadata {
        prompt: product.prompt.clone(),
        negative_prompt: product.negative_prompt.clone(),
        provider: product.provider.clone().unwrap_or_default(),
        model: product.model.clone().unwrap_or_default(),
        seed: product.seed.unwrap_or_default(),
        width: product.width.unwrap_or_default() as u32,
        height: product.height.unwrap_or_default() as u32,
        params: product.params.as_object().cloned().unwrap_or_default(),
        bindings: product.bindings.as_object().cloned().unwrap_or_default(),
    };
    match embed_metadata(&bytes, &meta) {
        Ok(with) => Some((with, false)),
        Err(_) => Some((bytes, true)),
    }
}

/// A folder name from a project name: letters, digits and dashes.
fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect();
    let s = s
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if s.is_empty() {
        "project".into()
    } else {
        s
    }
}
