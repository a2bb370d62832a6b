//! `/media/{project}/{file}`: originals and thumbnails at content-hash URLs.
//!
//! A URL names the bytes (their SHA-256), so a response never changes and is cached for a year
//! as immutable. The file name is parsed into a hash and a known extension or thumbnail size;
//! the key is then built by the media store, never from the URL text. Files on disk are sent
//! with ranges and conditional requests; files in a bucket are streamed through (a browser that
//! has them is answered 304 without asking the bucket), or the browser is redirected to a
//! signed URL when the server is set up to presign.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use factory::media::{Key, MediaStore, Served, ThumbSize};
use factory::Engine;
use tower::ServiceExt;
use tower_http::services::ServeFile;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

pub async fn serve(
    State(engine): State<Engine>,
    Path((project_id, file)): Path<(i64, String)>,
    request: Request<Body>,
) -> Response {
    let Some((key, mime)) = resolve(engine.media(), project_id, &file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    send(engine.media(), &key, mime, request).await
}

/// Sends the file at `key` (a content-addressed original or thumbnail) with its type and the
/// year-long immutable caching.
pub(super) async fn send(
    media: &MediaStore,
    key: &Key,
    mime: &'static str,
    request: Request<Body>,
) -> Response {
    match media.serve(key).await {
        Ok(Served::File(path)) => send_file(path, mime, request).await,
        Ok(Served::Stream { size, body }) => {
            let etag = format!(
                "\"{}\"",
                key.as_str().rsplit('/').next().unwrap_or_default()
            );
            let headers = request.headers();
            // The bytes at a key never change: whatever copy the browser has is current.
            let fresh = headers
                .get(header::IF_NONE_MATCH)
                .is_some_and(|v| v.as_bytes() == etag.as_bytes() || v.as_bytes() == b"*")
                || headers.contains_key(header::IF_MODIFIED_SINCE);
            let mut response = if fresh {
                StatusCode::NOT_MODIFIED.into_response()
            } else {
                let mut response = Response::new(Body::from_stream(body));
                response
                    .headers_mut()
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(size));
                response
            };
            immutable(&mut response, mime);
            if let Ok(etag) = HeaderValue::from_str(&etag) {
                response.headers_mut().insert(header::ETAG, etag);
            }
            response
        }
        Ok(Served::Redirect { url, valid }) => {
            let Ok(location) = HeaderValue::from_str(&url) else {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            };
            // Cached for half the signature's life, so a cached redirect still works.
            let cache = format!("private, max-age={}", valid.as_secs() / 2);
            (
                StatusCode::TEMPORARY_REDIRECT,
                [
                    (header::LOCATION, location),
                    (
                        header::CACHE_CONTROL,
                        HeaderValue::from_str(&cache).expect("ASCII"),
                    ),
                ],
            )
                .into_response()
        }
        Ok(Served::Missing) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::warn!(%key, place = %media.describe(), error = %e, "a media file could not be read");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// The type and the year-long caching every answer with a file's bytes (or a 304) carries.
fn immutable(response: &mut Response, mime: &'static str) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
}

/// A file on disk, with ranges and conditional requests as `ServeFile` does them.
async fn send_file(
    path: std::path::PathBuf,
    mime: &'static str,
    request: Request<Body>,
) -> Response {
    match ServeFile::new(path).oneshot(request).await {
        Ok(response) => {
            let mut response = response.into_response();
            if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
                immutable(&mut response, mime);
            }
            response
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// `<hash>.<ext>` is an original, `<hash>-<size>.webp` a thumbnail, `<hash>-preview.webp` a
/// video's looping preview.
fn resolve(media: &MediaStore, project_id: i64, file: &str) -> Option<(Key, &'static str)> {
    let (stem, ext) = file.rsplit_once('.')?;
    match stem.split_once('-') {
        None => {
            let mime = factory::media::mime_of_ext(ext)?;
            Some((media.original_key(project_id, stem, ext)?, mime))
        }
        Some((hash, "preview")) if ext == "webp" => {
            Some((media.preview_key(project_id, hash)?, "image/webp"))
        }
        Some((hash, size)) if ext == "webp" => {
            let size = ThumbSize::from_pixels(size.parse().ok()?)?;
            Some((media.thumb_key(project_id, hash, size)?, "image/webp"))
        }
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_resolve_to_originals_thumbnails_and_previews_and_nothing_else() {
        let media = MediaStore::new("/data");
        let hash = "ab".repeat(32);
        let resolved = |file: &str| {
            resolve(&media, 3, file).map(|(key, mime)| (key.as_str().to_string(), mime))
        };
        let at = |rest: &str| format!("projects/3/{rest}");
        assert_eq!(
            resolved(&format!("{hash}.mp4")),
            Some((at(&format!("products/ab/{hash}.mp4")), "video/mp4"))
        );
        assert_eq!(
            resolved(&format!("{hash}.wav")),
            Some((at(&format!("products/ab/{hash}.wav")), "audio/wav"))
        );
        assert_eq!(
            resolved(&format!("{hash}.exr")),
            Some((at(&format!("products/ab/{hash}.exr")), "image/x-exr"))
        );
        assert_eq!(
            resolved(&format!("{hash}-preview.webp")),
            Some((at(&format!("thumbs/ab/{hash}-preview.webp")), "image/webp"))
        );
        assert_eq!(
            resolved(&format!("{hash}-256.webp")),
            Some((at(&format!("thumbs/ab/{hash}-256.webp")), "image/webp"))
        );
        for bad in [
            format!("{hash}.exe"),
            format!("{hash}-preview.png"),
            format!("{hash}-999.webp"),
            "../../etc/passwd".to_string(),
            format!("{}.mp4", "zz".repeat(32)),
        ] {
            assert_eq!(resolved(&bad), None, "{bad}");
        }
    }
}
