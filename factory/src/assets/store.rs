//! Assets in PostgreSQL and the media store. An upload is read and checked first; a refused one
//! leaves nothing behind. An accepted one is packed into one GLB, stored once per project
//! under its SHA-256, previewed by the built-in renderer (the preview is its thumbnail in the
//! gallery), and kept as a product of kind `model3d` with an `assets` row holding its name,
//! metadata and warnings, both written in one transaction. The same model uploaded again is
//! the same asset.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Jsonb, Nullable, Text, Timestamptz};
use diesel::{sql_query, QueryableByName};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::Value;

use super::gltf::{self, Info, Issue, Refused};
use crate::media::MediaStore;
use crate::products::Product;
use crate::projects::{self, ProjectError};
use crate::schema::products;

/// The size of the preview the built-in renderer makes for the thumbnails.
pub const PREVIEW_SIZE: u32 = 512;
pub const MODEL_MIME: &str = "model/gltf-binary";

#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error("There is no asset {0}; it may have been deleted.")]
    NotFound(i64),
    #[error("There is no project with id {0}; it may have been deleted.")]
    NoProject(i64),
    #[error("The model could not be stored: {0}")]
    Storage(String),
    #[error("the database failed: {0}")]
    Database(#[from] diesel::result::Error),
    #[error(transparent)]
    Unavailable(crate::db::DbError),
}

impl From<crate::db::DbError> for AssetError {
    fn from(e: crate::db::DbError) -> Self {
        match e {
            crate::db::DbError::Query(e) => AssetError::Database(e),
            other => AssetError::Unavailable(other),
        }
    }
}

/// A stored asset with its file's facts.
#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    pub id: i64,
    pub product_id: i64,
    pub project_id: i64,
    pub name: String,
    pub info: Info,
    pub warnings: Vec<Issue>,
    pub content_hash: String,
    /// The stored GLB's size.
    pub bytes: i64,
    pub thumbhash: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    product_id: i64,
    #[diesel(sql_type = BigInt)]
    project_id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Jsonb)]
    info: Value,
    #[diesel(sql_type = Jsonb)]
    warnings: Value,
    #[diesel(sql_type = Text)]
    content_hash: String,
    #[diesel(sql_type = BigInt)]
    bytes: i64,
    #[diesel(sql_type = Nullable<Text>)]
    thumbhash: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
}

impl Row {
    fn asset(self) -> Asset {
        Asset {
            id: self.id,
            product_id: self.product_id,
            project_id: self.project_id,
            name: self.name,
            // Written by this module from these types; a row that no longer reads shows empty
            // rather than failing the page.
            info: serde_json::from_value(self.info).unwrap_or_default(),
            warnings: serde_json::from_value(self.warnings).unwrap_or_default(),
            content_hash: self.content_hash,
            bytes: self.bytes,
            thumbhash: self.thumbhash,
            created_at: self.created_at,
        }
    }
}

const COLUMNS: &str = "a.id, a.product_id, a.project_id, a.name, a.info, a.warnings, \
    p.content_hash, p.bytes, p.thumbhash, a.created_at";

#[derive(Insertable)]
#[diesel(table_name = products)]
struct NewModel {
    project_id: i64,
    kind: &'static str,
    content_hash: String,
    path: String,
    mime: &'static str,
    width: Option<i32>,
    height: Option<i32>,
    bytes: i64,
    prompt: String,
    params: Value,
    thumbhash: Option<String>,
}

/// A name for the asset: the one given, or the model's file name without its extension.
fn asset_name(given: Option<&str>, file: &str) -> String {
    let given = given.map(str::trim).filter(|n| !n.is_empty());
    let name = given.unwrap_or_else(|| file.rsplit_once('.').map_or(file, |(stem, _)| stem));
    name.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// Checks, stores and records an upload in `project_id`.
pub async fn upload(
    conn: &mut AsyncPgConnection,
    media: &MediaStore,
    project_id: i64,
    files: Vec<(String, Vec<u8>)>,
    name: Option<&str>,
) -> Result<Asset, AssetError> {
    projects::get(conn, project_id).await.map_err(|e| match e {
        ProjectError::NotFound(id) => AssetError::NoProject(id),
        ProjectError::Database(e) => e.into(),
        other => AssetError::Storage(other.to_string()),
    })?;
    let media = media.clone();
    let (accepted, hash, key, thumbhash) = tokio::task::spawn_blocking(move || {
        let accepted = gltf::read(files)?;
        let model = crate::render::Model::from_glb(&accepted.glb).map_err(AssetError::Storage)?;
        let preview = crate::render::preview(&model, PREVIEW_SIZE);
        let (hash, key, thumbhash) = media
            .put_other(project_id, &accepted.glb, "glb", &preview)
            .map_err(|e| AssetError::Storage(e.to_string()))?;
        Ok::<_, AssetError>((accepted, hash, key, thumbhash))
    })
    .await
    .map_err(|e| AssetError::Storage(e.to_string()))??;
    let name = asset_name(name, &accepted.name);
    let info = serde_json::to_value(&accepted.info).expect("metadata serialises");
    let warnings = serde_json::to_value(accepted.report.warnings().collect::<Vec<_>>())
        .expect("issues serialise");
    let bytes = accepted.glb.len() as i64;
    conn.transaction(async |conn| {
        let existing: Option<Product> = products::table
            .filter(products::project_id.eq(project_id))
            .filter(products::content_hash.eq(&hash))
            .filter(products::kind.eq("model3d"))
            .select(Product::as_select())
            .first(conn)
            .await
            .optional()?;
        let product = match existing {
            Some(p) => p,
            None => {
                diesel::insert_into(products::table)
                    .values(NewModel {
                        project_id,
                        kind: "model3d",
                        content_hash: hash.clone(),
                        path: key.as_str().to_string(),
                        mime: MODEL_MIME,
                        width: None,
                        height: None,
                        bytes,
                        prompt: name.clone(),
                        params: serde_json::json!({}),
                        thumbhash: Some(thumbhash.clone()),
                    })
                    .returning(Product::as_returning())
                    .get_result(conn)
                    .await?
            }
        };
        sql_query(
            "INSERT INTO assets (product_id, project_id, name, info, warnings) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (product_id) DO NOTHING",
        )
        .bind::<BigInt, _>(product.id)
        .bind::<BigInt, _>(project_id)
        .bind::<Text, _>(&name)
        .bind::<Jsonb, _>(&info)
        .bind::<Jsonb, _>(&warnings)
        .execute(conn)
        .await?;
        let row: Row = sql_query(format!(
            "SELECT {COLUMNS} FROM assets a JOIN products p ON p.id = a.product_id WHERE a.product_id = $1"
        ))
        .bind::<BigInt, _>(product.id)
        .get_result(conn)
        .await?;
        Ok::<_, AssetError>(row.asset())
    })
    .await
}

pub async fn get(conn: &mut AsyncPgConnection, id: i64) -> Result<Asset, AssetError> {
    let row: Option<Row> = sql_query(format!(
        "SELECT {COLUMNS} FROM assets a JOIN products p ON p.id = a.product_id \
         WHERE a.id = $1 AND p.deleted_at IS NULL"
    ))
    .bind::<BigInt, _>(id)
    .get_result(conn)
    .await
    .optional()?;
    row.map(Row::asset).ok_or(AssetError::NotFound(id))
}

/// A project's assets, newest first: `limit` of them from before `before` (an asset id).
pub async fn list(
    conn: &mut AsyncPgConnection,
    project_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Asset>, AssetError> {
    let rows: Vec<Row> = sql_query(format!(
        "SELECT {COLUMNS} FROM assets a JOIN products p ON p.id = a.product_id \
         WHERE a.project_id = $1 AND p.deleted_at IS NULL AND a.id < $2 \
         ORDER BY a.id DESC LIMIT $3"
    ))
    .bind::<BigInt, _>(project_id)
    .bind::<BigInt, _>(before.unwrap_or(i64::MAX))
    .bind::<BigInt, _>(limit.clamp(1, 200))
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(Row::asset).collect())
}

/// The asset (id and name) whose file product `product_id` is, if it is one.
pub async fn of_product(
    conn: &mut AsyncPgConnection,
    product_id: i64,
) -> Result<Option<(i64, String)>, AssetError> {
    Ok(crate::db::id_and_name(
        conn,
        "SELECT id, name FROM assets WHERE product_id = $1",
        product_id,
    )
    .await?)
}

/// Which product holds asset `id`'s file (for the engine to publish and to serve).
pub async fn product(conn: &mut AsyncPgConnection, id: i64) -> Result<Product, AssetError> {
    let asset = get(conn, id).await?;
    Ok(products::table
        .find(asset.product_id)
        .select(Product::as_select())
        .first(conn)
        .await?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_come_from_the_person_or_the_file() {
        assert_eq!(super::asset_name(Some("  Castle  "), "x.glb"), "Castle");
        assert_eq!(super::asset_name(None, "tower.v2.gltf"), "tower.v2");
        assert_eq!(super::asset_name(Some(""), "a.glb"), "a");
        assert_eq!(super::asset_name(Some("a\u{7}b"), "a.glb"), "ab");
    }
}
