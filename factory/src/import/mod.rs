//! Importing pictures made elsewhere: each file is sniffed (never trusted by its name), stored
//! once per project, and its generation metadata read into the product ([`crate::metadata`]).
//!
//! Two phases, so that a large import is searchable long before it is finished:
//! [`add`] checks the header, stores the original and inserts the product with its prompt and
//! settings (no pixels decoded); [`finish`] decodes it, makes the thumbnails and reads any text
//! hidden in the pixels. A file whose pixels turn out to be damaged is taken out again and
//! reported. [`run`] drives both over many files with progress and cancellation; running it
//! again skips what is already in, so an interrupted import resumes.

pub mod run;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::{json, Value};

use crate::media::{MediaError, MediaStore};
use crate::metadata::{self, Found};
use crate::schema::products;

pub use run::{run, Progress, Report};

/// What became of one file.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A new product; its tool when the file said how it was made.
    Imported {
        product_id: i64,
        tool: Option<metadata::Tool>,
    },
    /// The same file is already in the project.
    AlreadyIn { product_id: i64 },
    /// Not imported, and why (in words for the report).
    Failed { reason: String },
}

/// A product [`add`] inserted whose thumbnails are still to be made.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub product_id: i64,
    pub project_id: i64,
    pub hash: String,
    pub ext: String,
    /// Whether its file had no metadata (its pixels may hide some).
    pub bare: bool,
}

#[derive(Insertable)]
#[diesel(table_name = products)]
struct NewImport {
    project_id: i64,
    kind: &'static str,
    content_hash: String,
    path: String,
    mime: String,
    width: Option<i32>,
    height: Option<i32>,
    bytes: i64,
    prompt: String,
    negative_prompt: String,
    params: Value,
    provider: Option<String>,
    model: Option<String>,
    seed: Option<i64>,
    bindings: Value,
    created_at: DateTime<Utc>,
}

/// The provider a product shows for a file from `found`: the original provider for Art
/// Factory's own files, "imported: <tool>" for others, "imported" without metadata.
fn provider(found: Option<&Found>) -> String {
    match found {
        Some(f) => f
            .generation
            .provider
            .clone()
            .unwrap_or_else(|| format!("imported: {}", f.tool.name())),
        None => "imported".into(),
    }
}

/// Phase one for one file: stores it and inserts its product, searchable at once. `name` is
/// only reported (in the parameters), `modified` dates the product (never in the future).
/// Returns the outcome and, for a new product, what [`finish`] needs.
pub async fn add(
    conn: &mut AsyncPgConnection,
    media: &MediaStore,
    project_id: i64,
    name: &str,
    bytes: Vec<u8>,
    modified: Option<DateTime<Utc>>,
) -> (Outcome, Option<Pending>) {
    let failed = |reason: String| (Outcome::Failed { reason }, None);
    if bytes.is_empty() {
        return failed("the file is empty".into());
    }
    let media = media.clone();
    let size = bytes.len() as i64;
    let work = tokio::task::spawn_blocking(move || {
        let found = metadata::read(&bytes).map_err(|e| e.to_string())?;
        let original = media
            .put_original(project_id, &bytes)
            .map_err(|e| describe(&e))?;
        Ok::<_, String>((found, original))
    })
    .await;
    let (found, original) = match work {
        Ok(Ok(done)) => done,
        Ok(Err(reason)) => return failed(reason),
        Err(e) => return failed(format!("reading it failed: {e}")),
    };
    let bare = found.is_none();
    let tool = found.as_ref().map(|f| f.tool);
    let generation = found
        .as_ref()
        .map(|f| f.generation.clone())
        .unwrap_or_default();
    let mut params = generation.params.clone();
    params.insert(
        "imported".into(),
        json!({"file": name.chars().take(300).collect::<String>(), "tool": tool.map(|t| t.name())}),
    );
    let row = NewImport {
        project_id,
        kind: "image",
        mime: original.format.mime().to_string(),
        path: original.rel_path.clone(),
        // The pixels' size, whatever the metadata says.
        width: Some(original.width as i32),
        height: Some(original.height as i32),
        bytes: size,
        prompt: generation.prompt,
        negative_prompt: generation.negative_prompt,
        params: Value::Object(params),
        provider: Some(provider(found.as_ref())),
        model: generation.model,
        seed: generation.seed,
        bindings: Value::Object(generation.bindings),
        created_at: modified.map_or_else(Utc::now, |m| m.min(Utc::now())),
        content_hash: original.hash.clone(),
    };
    match insert_unless_present(conn, row).await {
        Ok(Ok(product_id)) => (
            Outcome::Imported { product_id, tool },
            Some(Pending {
                product_id,
                project_id,
                hash: original.hash,
                ext: original.format.ext().to_string(),
                bare,
            }),
        ),
        Ok(Err(product_id)) => (Outcome::AlreadyIn { product_id }, None),
        Err(e) => failed(format!("the database refused it: {e}")),
    }
}

/// Inserts the product unless the project already holds the same file: `Ok(id)` for a new
/// one, `Err(id)` for the one already there. Imports of the same file racing each other are
/// serialised by a lock on the project and hash.
async fn insert_unless_present(
    conn: &mut AsyncPgConnection,
    row: NewImport,
) -> QueryResult<Result<i64, i64>> {
    conn.transaction(async move |conn| {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind::<diesel::sql_types::Integer, _>(row.project_id as i32)
            .bind::<diesel::sql_types::Text, _>(&row.content_hash)
            .execute(&mut *conn)
            .await?;
        let existing: Option<i64> = products::table
            .filter(products::project_id.eq(row.project_id))
            .filter(products::content_hash.eq(&row.content_hash))
            .select(products::id)
            .first(&mut *conn)
            .await
            .optional()?;
        if let Some(id) = existing {
            return Ok(Err(id));
        }
        let id: i64 = diesel::insert_into(products::table)
            .values(row)
            .returning(products::id)
            .get_result(&mut *conn)
            .await?;
        Ok(Ok(id))
    })
    .await
}

/// Phase two: thumbnails, the placeholder, and for a file without metadata any text hidden in
/// its pixels. A file whose pixels do not decode is removed again (row and file) and the
/// reason returned.
pub async fn finish(
    conn: &mut AsyncPgConnection,
    media: &MediaStore,
    pending: &Pending,
) -> Result<(), String> {
    let work = {
        let (media, pending) = (media.clone(), pending.clone());
        tokio::task::spawn_blocking(move || {
            let (thumbhash, rgba) =
                media.finish(pending.project_id, &pending.hash, &pending.ext)?;
            let hidden = pending
                .bare
                .then(|| metadata::read_stealth(rgba.width(), rgba.height(), rgba.as_raw()))
                .flatten();
            Ok::<_, MediaError>((thumbhash, hidden))
        })
        .await
        .map_err(|e| e.to_string())?
    };
    match work {
        Ok((thumbhash, hidden)) => {
            let update = diesel::update(products::table.find(pending.product_id));
            match hidden {
                Some(found) => {
                    let g = found.generation;
                    update
                        .set((
                            products::thumbhash.eq(thumbhash),
                            products::prompt.eq(g.prompt),
                            products::negative_prompt.eq(g.negative_prompt),
                            products::seed.eq(g.seed),
                            products::model.eq(g.model),
                            products::provider.eq(format!("imported: {}", found.tool.name())),
                            products::params
                                .eq(diesel::dsl::sql::<diesel::sql_types::Jsonb>("params || ")
                                    .bind::<diesel::sql_types::Jsonb, _>(Value::Object(g.params))),
                        ))
                        .execute(conn)
                        .await
                }
                None => {
                    update
                        .set(products::thumbhash.eq(thumbhash))
                        .execute(conn)
                        .await
                }
            }
            .map(|_| ())
            .map_err(|e| format!("the database refused it: {e}"))
        }
        Err(e) => {
            let reason = describe(&e);
            let _ = diesel::delete(products::table.find(pending.product_id))
                .execute(conn)
                .await;
            let still_used: i64 = products::table
                .filter(products::project_id.eq(pending.project_id))
                .filter(products::content_hash.eq(&pending.hash))
                .count()
                .get_result(conn)
                .await
                .unwrap_or(1);
            if still_used == 0 {
                let _ = media.remove(pending.project_id, &pending.hash, &pending.ext);
            }
            Err(reason)
        }
    }
}

/// Both phases for one file (the browser sends files one at a time).
pub async fn import_one(
    conn: &mut AsyncPgConnection,
    media: &MediaStore,
    project_id: i64,
    name: &str,
    bytes: Vec<u8>,
    modified: Option<DateTime<Utc>>,
) -> Outcome {
    let (outcome, pending) = add(conn, media, project_id, name, bytes, modified).await;
    if let Some(pending) = pending {
        if let Err(reason) = finish(conn, media, &pending).await {
            return Outcome::Failed { reason };
        }
    }
    outcome
}

/// A media error in the words of an import report.
fn describe(e: &MediaError) -> String {
    match e {
        MediaError::UnknownFormat => "it is not a PNG, JPEG, WebP or OpenEXR image".into(),
        MediaError::Undecodable { reason, .. } => format!("it is damaged ({reason})"),
        other => other.to_string(),
    }
}
