//! `/api/v1/products`: the gallery's list (its filters, search and keyset cursor), one
//! product's metadata and lineage, and its original and thumbnails.

use app::dto::{GalleryQuery, ProductDetailDto, ProductKind};
use app::error::AppError;
use axum::body::Body;
use axum::extract::{RawQuery, Request, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use factory::media::ThumbSize;
use factory::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::problem::{ApiResult, Id, Params, Problem};

/// Products per page unless `limit` says otherwise, and the most it may say.
const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 500;

/// The list's parameters: the gallery's own (the query string of a gallery address works as it
/// is), a page size, and the cursor of the page before. Unknown parameters are refused.
#[derive(Deserialize, IntoParams)]
#[allow(dead_code)] // Describes the parameters; they are read by the gallery's own parser.
pub struct ListQuery {
    /// Search in prompts and tags (words, "quoted phrases", -excluded).
    q: Option<String>,
    /// `newest` (default), `oldest`, `rating`, `random` or `relevance`.
    sort: Option<String>,
    /// The seed of `sort=random`.
    shuffle: Option<i64>,
    project: Option<i64>,
    batch: Option<i64>,
    provider: Option<String>,
    model: Option<String>,
    /// `image`, `upload`, `video`, `audio` or `model3d`.
    kind: Option<String>,
    /// Made on or after this day (`YYYY-MM-DD`).
    from: Option<String>,
    /// Made on or before this day (`YYYY-MM-DD`).
    to: Option<String>,
    /// At least this rating (0 to 5).
    rating: Option<i16>,
    /// A tag every product listed has; repeat for several.
    tag: Option<Vec<String>>,
    /// `1`: favourites only.
    fav: Option<String>,
    /// `1`: only products made from another product.
    derived: Option<String>,
    /// `hide` (default), `include` or `only`.
    rejected: Option<String>,
    /// `1`: the trash instead.
    trash: Option<String>,
    /// Products per page, 1 to 500 (default 100).
    limit: Option<i64>,
    /// The `next` of the page before.
    cursor: Option<String>,
}

/// One product in a list.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProductItem {
    pub id: i64,
    pub project_id: i64,
    pub kind: ProductKind,
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// The prompt's beginning.
    pub prompt: String,
    pub rating: Option<i16>,
    pub favourite: bool,
    pub rejected: bool,
    pub created_at: DateTime<Utc>,
    /// A name to save the original under (`art-factory-<id>.<ext>`).
    pub file_name: String,
    /// Where to download the original.
    pub original_url: String,
    /// Where to download the 256-pixel thumbnail (`?size=768` for the large one).
    pub thumbnail_url: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProductPage {
    pub products: Vec<ProductItem>,
    /// Pass as `cursor` for the next page; `None` on the last. Pages stay stable while new
    /// products arrive (they are after the first page's snapshot).
    pub next: Option<String>,
}

impl From<factory::gallery::Tile> for ProductItem {
    fn from(t: factory::gallery::Tile) -> Self {
        Self {
            file_name: format!("art-factory-{}.{}", t.id, t.ext),
            original_url: format!("/api/v1/products/{}/original", t.id),
            thumbnail_url: format!("/api/v1/products/{}/thumbnail", t.id),
            id: t.id,
            project_id: t.project_id,
            kind: ProductKind::from_engine(&t.kind),
            width: t.width,
            height: t.height,
            prompt: t.prompt,
            rating: t.rating,
            favourite: t.favourite,
            rejected: t.rejected,
            created_at: t.created_at,
        }
    }
}

/// Splits `limit` and `cursor` off a list's query string; the rest is the gallery's.
fn split_query(raw: &str) -> Result<(String, i64, Option<String>), AppError> {
    let mut gallery = Vec::new();
    let mut limit = DEFAULT_LIMIT;
    let mut cursor = None;
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=').unwrap_or((pair, "")) {
            ("limit", v) => {
                limit = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        AppError::invalid(
                            "limit",
                            format!("“limit” is a whole number from 1 to {MAX_LIMIT}, not “{v}”."),
                        )
                    })?
            }
            ("cursor", v) => cursor = Some(v.to_string()).filter(|c| !c.is_empty()),
            _ => gallery.push(pair),
        }
    }
    Ok((gallery.join("&"), limit, cursor))
}

#[utoipa::path(get, path = "/api/v1/products", tag = "products", params(ListQuery),
    responses((status = 200, body = ProductPage),
        (status = 422, description = "A parameter the gallery does not know, or a wrong value", body = Problem)))]
pub async fn list(
    State(engine): State<Engine>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<ProductPage>> {
    let (gallery, limit, cursor) = split_query(raw.as_deref().unwrap_or(""))?;
    let view = GalleryQuery::parse(&gallery)
        .and_then(|q| q.view())
        .map_err(|e| AppError::invalid("filter", e))?;
    let page = engine
        .gallery_page(&view, cursor.as_deref(), None, limit)
        .await?;
    Ok(Json(ProductPage {
        products: page.tiles.into_iter().map(Into::into).collect(),
        next: page.next.map(|c| c.encode()),
    }))
}

#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "products",
    params(("id" = i64, Path, description = "The product's id")),
    responses((status = 200, description = "Settings, tags, triage and lineage", body = ProductDetailDto),
        (status = 404, body = Problem)))]
pub async fn get(State(engine): State<Engine>, Id(id): Id) -> ApiResult<Json<ProductDetailDto>> {
    Ok(Json(app::api::products::detail(&engine, id).await?))
}

#[utoipa::path(get, path = "/api/v1/products/{id}/original", tag = "products",
    params(("id" = i64, Path, description = "The product's id")),
    responses((status = 200, description = "The file as made (PNG, JPEG, WebP, OpenEXR for a render, GLB for a 3D model), cached for a year; ranges supported", content_type = "application/octet-stream"),
        (status = 404, body = Problem)))]
pub async fn original(
    State(engine): State<Engine>,
    Id(id): Id,
    request: Request<Body>,
) -> ApiResult<Response> {
    let p = app::api::products::find(&engine, id).await?;
    let mime = factory::media::mime_of_ext(p.ext());
    let key = engine
        .media()
        .original_key(p.project_id, &p.content_hash, p.ext());
    let (Some(mime), Some(key)) = (mime, key) else {
        return Err(AppError::NotFound(format!("Product #{id} has no file to download.")).into());
    };
    let mut response = super::super::media::send(engine.media(), &key, mime, request).await;
    let disposition = format!("attachment; filename=\"art-factory-{id}.{}\"", p.ext());
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ThumbQuery {
    /// 256 (default) or 768 pixels on the long side.
    #[serde(default = "small")]
    size: u32,
}

fn small() -> u32 {
    256
}

#[utoipa::path(get, path = "/api/v1/products/{id}/thumbnail", tag = "products",
    params(("id" = i64, Path, description = "The product's id"), ThumbQuery),
    responses((status = 200, description = "WebP", content_type = "image/webp"),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn thumbnail(
    State(engine): State<Engine>,
    Id(id): Id,
    Params(query): Params<ThumbQuery>,
    request: Request<Body>,
) -> ApiResult<Response> {
    let size = ThumbSize::from_pixels(query.size).ok_or_else(|| {
        AppError::invalid(
            "size",
            format!("Thumbnails are 256 or 768 pixels, not {}.", query.size),
        )
    })?;
    let p = app::api::products::find(&engine, id).await?;
    let Some(key) = engine
        .media()
        .thumb_key(p.project_id, &p.content_hash, size)
    else {
        return Err(AppError::NotFound(format!("Product #{id} has no thumbnail.")).into());
    };
    Ok(
        super::super::media::send(engine.media(), &key, "image/webp", request)
            .await
            .into_response(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_and_cursor_are_split_off_and_the_rest_is_the_gallerys() {
        let (g, limit, cursor) = split_query("q=cat&limit=20&tag=a&cursor=abc&tag=b").unwrap();
        assert_eq!(
            (g.as_str(), limit, cursor.as_deref()),
            ("q=cat&tag=a&tag=b", 20, Some("abc"))
        );
        assert!(split_query("limit=0").is_err());
        assert!(split_query("limit=501").is_err());
        assert_eq!(
            split_query("").unwrap(),
            (String::new(), DEFAULT_LIMIT, None)
        );
    }

    #[test]
    fn every_documented_filter_is_one_the_gallery_reads() {
        let documented = "q=cat&sort=oldest&shuffle=3&project=1&batch=2&provider=offline\
            &model=m&kind=image&from=2026-01-01&to=2026-12-31&rating=3&tag=a&fav=1&derived=1\
            &rejected=include&trash=1";
        let parsed = GalleryQuery::parse(documented).unwrap();
        assert_eq!(parsed.tags, vec!["a".to_string()]);
        assert!(GalleryQuery::parse("colour=red").is_err());
    }
}
