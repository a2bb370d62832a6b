//! `/media/{project}/{file}`: originals and thumbnails at content-hash URLs.
//!
//! A URL names the bytes (their SHA-256), so a response never changes and is cached for a year
//! as immutable. The file name is parsed into a hash and a known extension or thumbnail size;
//! the path is then built by the media store, never from the URL text.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use factory::media::{ImageFormat, ThumbSize};
use factory::Engine;
use tower::ServiceExt;
use tower_http::services::ServeFile;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

pub async fn serve(
    State(engine): State<Engine>,
    Path((project_id, file)): Path<(i64, String)>,
    request: Request<Body>,
) -> Response {
    let Some((path, mime)) = resolve(&engine, project_id, &file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    send(path, mime, request).await
}

/// Streams the file at `path` (a content-addressed original or thumbnail) with its type and
/// the year-long immutable caching; ranges and conditional requests as `ServeFile` does them.
pub(super) async fn send(
    path: std::path::PathBuf,
    mime: &'static str,
    request: Request<Body>,
) -> Response {
    if !path.is_file() {
        return StatusCode::NOT_FOUND.into_response();
    }
    match ServeFile::new(path).oneshot(request).await {
        Ok(response) => {
            let mut response = response.into_response();
            if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
                let headers = response.headers_mut();
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
                headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
                headers.insert(
                    "x-content-type-options",
                    HeaderValue::from_static("nosniff"),
                );
            }
            response
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// `<hash>.<ext>` is an original, `<hash>-<size>.webp` a thumbnail.
fn resolve(
    engine: &Engine,
    project_id: i64,
    file: &str,
) -> Option<(std::path::PathBuf, &'static str)> {
    let (stem, ext) = file.rsplit_once('.')?;
    let media = engine.media();
    match stem.split_once('-') {
        None => {
            let format = ImageFormat::from_ext(ext)?;
            Some((media.original_path(project_id, stem, ext)?, format.mime()))
        }
        Some((hash, size)) if ext == "webp" => {
            let size = ThumbSize::from_pixels(size.parse().ok()?)?;
            Some((media.thumb_path(project_id, hash, size)?, "image/webp"))
        }
        Some(_) => None,
    }
}
