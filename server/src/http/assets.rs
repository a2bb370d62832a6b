//! The wire cost of the app itself: compressed answers and cached static files.
//!
//! - The wasm, JS and CSS of a release site carry their content hash in their names and are
//!   precompressed at build time (brotli and gzip, by cargo-leptos); leptos_axum's file handler
//!   serves the `.br`/`.gz` the browser accepts. Hashed names never change content, so they are
//!   cached for a year as immutable; unhashed ones (a debug site) are revalidated every time.
//! - Everything else the server makes — pages, server-function and API JSON — is compressed on
//!   the fly when the browser accepts it, at a modest level (the CPU is shared with the
//!   generators). Pictures, event streams, ZIP archives and answers already encoded are left
//!   as they are.

use axum::http::{header, HeaderValue, Uri};
use axum::response::Response;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::compression::{CompressionLayer, CompressionLevel};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Sets the caching of the site's own files (`/pkg/…`), unless the answer already has one.
pub fn cache(hashed: bool, uri: &Uri, mut response: Response) -> Response {
    if uri.path().starts_with("/pkg/")
        && response.status().is_success()
        && !response.headers().contains_key(header::CACHE_CONTROL)
    {
        let policy = if hashed { IMMUTABLE } else { "no-cache" };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

/// On-the-fly compression for what is worth compressing.
pub fn compression() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new()
        .quality(CompressionLevel::Precise(4))
        .compress_when(
            DefaultPredicate::new()
                .and(NotForContentType::const_new("application/zip"))
                .and(NotForContentType::const_new("application/octet-stream")),
        )
}
