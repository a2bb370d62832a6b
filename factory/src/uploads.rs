//! Pictures a person uploads or pastes: checked (an image, not too large, decodable), stored
//! once per project in the media store, and kept as a product of kind `upload`, so they can be
//! the input of an image-to-image generation and head its lineage.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;

use crate::db::DbError;
use crate::media::{ImageFormat, MediaError, MediaStore};
use crate::products::Product;
use crate::projects::{self, ProjectError};
use crate::schema::products;

/// The largest upload accepted.
pub const MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("The picture is empty. Choose or paste an image file.")]
    Empty,
    #[error(
        "The picture is {:.1} MB; uploads are at most {} MB. Make it smaller, or save it as JPEG or WebP.",
        *.0 as f64 / 1_048_576.0,
        MAX_UPLOAD_BYTES / 1_048_576
    )]
    TooLarge(usize),
    #[error("That is not an image this app can use: {0}. Use a PNG, JPEG or WebP file.")]
    NotAnImage(String),
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error("could not store the picture: {0}")]
    Storage(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for UploadError {
    fn from(e: diesel::result::Error) -> Self {
        UploadError::Db(e.into())
    }
}

#[derive(Insertable)]
#[diesel(table_name = products)]
struct NewUpload {
    project_id: i64,
    kind: &'static str,
    content_hash: String,
    path: String,
    mime: String,
    width: Option<i32>,
    height: Option<i32>,
    bytes: i64,
    params: Value,
    thumbhash: Option<String>,
}

/// Stores `bytes` as an upload in `project_id`; the same picture uploaded again is the same
/// product.
pub async fn store(
    conn: &mut AsyncPgConnection,
    media: &MediaStore,
    project_id: i64,
    bytes: Vec<u8>,
) -> Result<Product, UploadError> {
    if bytes.is_empty() {
        return Err(UploadError::Empty);
    }
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(UploadError::TooLarge(bytes.len()));
    }
    projects::get(conn, project_id).await?;
    let media = media.clone();
    let stored = tokio::task::spawn_blocking(move || media.put(project_id, &bytes))
        .await
        .map_err(|e| UploadError::Storage(e.to_string()))?
        .map_err(|e| match e {
            MediaError::Write { .. } => UploadError::Storage(e.to_string()),
            other => UploadError::NotAnImage(other.to_string()),
        })?;
    let existing: Option<Product> = products::table
        .filter(products::project_id.eq(project_id))
        .filter(products::content_hash.eq(&stored.hash))
        .filter(products::kind.eq("upload"))
        .select(Product::as_select())
        .first(conn)
        .await
        .optional()?;
    if let Some(product) = existing {
        return Ok(product);
    }
    Ok(diesel::insert_into(products::table)
        .values(NewUpload {
            project_id,
            kind: "upload",
            content_hash: stored.hash,
            path: stored.rel_path,
            mime: stored.format.mime().to_string(),
            width: Some(stored.width as i32),
            height: Some(stored.height as i32),
            bytes: stored.bytes as i64,
            params: Value::Object(Default::default()),
            thumbhash: Some(stored.thumbhash),
        })
        .returning(Product::as_returning())
        .get_result(conn)
        .await?)
}

/// The bytes of product `id`, as an input image for a provider.
pub async fn load_input(
    conn: &mut AsyncPgConnection,
    media: &MediaStore,
    id: i64,
) -> Result<crate::providers::ImageData, String> {
    let product = crate::products::get(conn, id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("the input picture #{id} was deleted"))?;
    let key = media
        .original_key(product.project_id, &product.content_hash, product.ext())
        .ok_or_else(|| format!("the input picture #{id} has no file"))?;
    let format = ImageFormat::from_ext(product.ext()).ok_or_else(|| {
        format!(
            "#{id} is not a picture ({}); choose an image as the input",
            product.mime
        )
    })?;
    let bytes = media
        .read_async(&key)
        .await
        .map_err(|e| format!("the input picture #{id} could not be read: {e}"))?;
    if format.browser_shows() {
        return Ok(crate::providers::ImageData {
            bytes,
            mime: product.mime,
        });
    }
    // Providers take PNG, JPEG or WebP: an OpenEXR render goes as the sRGB picture its
    // thumbnails show.
    let png = tokio::task::spawn_blocking(move || {
        let rgba = crate::media::srgb::display_rgba(crate::media::decode_image(&bytes, format)?);
        crate::media::png::encode_rgba(&rgba).map_err(|e| MediaError::Undecodable {
            format: "image/png",
            reason: e.to_string(),
        })
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("the input picture #{id} could not be converted: {e}"))?;
    Ok(crate::providers::ImageData {
        bytes: png,
        mime: "image/png".into(),
    })
}
