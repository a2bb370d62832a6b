//! What every hosted adapter does over HTTP: check a configured base URL, send with the key,
//! read a JSON answer, and name a network failure by whether the request may have arrived.
//! [`refusal`] turns a refused answer into a [`ProviderError`] a person can act on;
//! [`download`] fetches outputs safely.

mod download;
pub mod local;
mod refusal;

use std::time::Duration;

use reqwest::Url;

pub use download::{
    check_image, check_output, download, fetch_output, FileHosts, MAX_CLIP_DOWNLOAD_BYTES,
    MAX_DOWNLOAD_BYTES,
};
pub use refusal::Refusal;

use super::{ErrorKind, ProviderError};
use crate::secret::Secret;

/// How long one call to a provider may take, unless its configuration says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// The client every adapter uses: bounded waits (`timeout` per call), and no automatic
/// redirects (downloads follow them by hand, checking each hop).
pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10).min(timeout))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("art-factory/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the HTTP client builds with static settings")
}

/// Parses a configured base URL: https anywhere, plain http only to this machine (tests and
/// local proxies), so a key never crosses a network unencrypted.
pub fn base_url(provider: &str, text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim())
        .map_err(|e| format!("{provider}: the base URL “{text}” is not a URL ({e})"))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(format!(
                "{provider}: the base URL {text} uses plain http, which would send the key unencrypted; \
                 use https (http is allowed only for 127.0.0.1 and localhost)"
            ))
        }
        other => return Err(format!("{provider}: the base URL must be https, not {other}")),
    }
    if url.host_str().is_none() {
        return Err(format!("{provider}: the base URL {text} has no host"));
    }
    Ok(url)
}

pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host_str() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// `base` joined with path segments; a segment with slashes (a model path) adds one segment per
/// part. Callers check ids with [`plain_id`] first, so an id never becomes path syntax.
pub fn endpoint(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    {
        let mut path = url
            .path_segments_mut()
            .expect("a base URL with a host has a path");
        path.pop_if_empty();
        for segment in segments {
            for part in segment.split('/').filter(|p| !p.is_empty()) {
                path.push(part);
            }
        }
    }
    url
}

/// Whether a provider's request id is safe to put in a URL path: letters, digits, `-` and `_`.
pub fn plain_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A failed connection, named by provider and host. Only a failure to connect (refused, no
/// such host, TLS) proves the request never left; anything later (a timeout, a reset, a body
/// cut short) may have reached the provider.
pub fn network_error(provider: &str, key: &Secret, error: &reqwest::Error) -> ProviderError {
    let what = if error.is_timeout() {
        "did not answer in time"
    } else if error.is_connect() {
        "could not be reached"
    } else {
        "broke off the connection"
    };
    let host = error
        .url()
        .and_then(|u| u.host_str())
        .unwrap_or("the provider");
    let cause = key.scrub(&error.without_url_ref().to_string());
    let failed = ProviderError::new(
        provider,
        ErrorKind::Network,
        format!("{host} {what} ({cause}); check the connection, the job will retry"),
    );
    if error.is_connect() {
        failed
    } else {
        failed.maybe_accepted()
    }
}

trait WithoutUrl {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    fn without_url_ref(&self) -> String {
        let mut text = self.to_string();
        if let Some(url) = self.url() {
            text = text.replace(&format!(" for url ({url})"), "");
        }
        text
    }
}

/// An `Authorization` header value, marked sensitive so no debug output of a request shows it.
pub fn authorization(value: String) -> reqwest::header::HeaderValue {
    let mut header = reqwest::header::HeaderValue::from_str(&value)
        .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static("invalid"));
    header.set_sensitive(true);
    header
}

/// Sends a request with the key's `Authorization` header, asking for JSON.
pub async fn send(
    provider: &str,
    key: &Secret,
    authorization: reqwest::header::HeaderValue,
    builder: reqwest::RequestBuilder,
) -> Result<reqwest::Response, ProviderError> {
    builder
        .header(reqwest::header::AUTHORIZATION, authorization)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| network_error(provider, key, &e))
}

/// Input images up to this size are sent inline as `data:` URIs; larger ones through the
/// provider's upload API.
pub const INLINE_IMAGE_MAX: usize = 512 * 1024;

/// `data:image/png;base64,...`
pub fn data_uri(data: &crate::providers::ImageData) -> String {
    use base64::Engine as _;
    format!(
        "data:{};base64,{}",
        data.mime,
        base64::engine::general_purpose::STANDARD.encode(&data.bytes)
    )
}

/// An input image's bytes (loaded by the worker), and its `data:` URI when it is small enough
/// to send inline.
pub fn inline_input<'a>(
    provider: &str,
    image: &'a crate::providers::InputImage,
) -> Result<(&'a crate::providers::ImageData, Option<String>), ProviderError> {
    let data = image.data.as_deref().ok_or_else(|| {
        ProviderError::new(
            provider,
            ErrorKind::InvalidInput,
            "the input image was not loaded",
        )
    })?;
    let inline = (data.bytes.len() <= INLINE_IMAGE_MAX).then(|| data_uri(data));
    Ok((data, inline))
}

/// A `multipart/form-data` body holding one file part named `field`: its content type (with
/// the boundary) and its bytes.
pub fn multipart_file(
    field: &str,
    filename: &str,
    data: &crate::providers::ImageData,
) -> (String, Vec<u8>) {
    let boundary = format!("art-factory-{:016x}", rand::random::<u64>());
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\nContent-Type: {}\r\n\r\n",
        data.mime
    )
    .into_bytes();
    body.extend_from_slice(&data.bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The bytes of a base64 `data:` URI (at most a download's worth).
pub fn decode_data_uri(uri: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let (header, data) = uri.strip_prefix("data:")?.split_once(',')?;
    if !header.ends_with(";base64") || data.len() > MAX_DOWNLOAD_BYTES / 3 * 4 {
        return None;
    }
    base64::engine::general_purpose::STANDARD.decode(data).ok()
}

/// A URL a provider told us to send bytes to: https, or http to this machine (stand-ins).
pub fn upload_target(provider: &str, text: &str) -> Result<Url, ProviderError> {
    let refused = || {
        ProviderError::new(
            provider,
            ErrorKind::Unavailable,
            format!("{provider} gave an upload address that is not https"),
        )
    };
    let url = Url::parse(text).map_err(|_| refused())?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        _ => Err(refused()),
    }
}

/// The largest JSON answer read (a model's published schema is the largest, tens of KB).
pub const MAX_JSON_BYTES: usize = 4 * 1024 * 1024;

/// A successful answer's JSON body, read up to [`MAX_JSON_BYTES`]. One that cannot be read
/// means the provider took the request and we cannot tell what it said (its id, say):
/// `maybe_accepted`.
pub async fn read_json<T: serde::de::DeserializeOwned>(
    provider: &str,
    key: &Secret,
    response: reqwest::Response,
    what: &str,
) -> Result<T, ProviderError> {
    let unexpected = |why: String| {
        ProviderError::new(
            provider,
            ErrorKind::Unavailable,
            format!("{what}: {provider} answered with something unexpected ({why})"),
        )
        .maybe_accepted()
    };
    let Some(body) = read_capped(provider, key, response, MAX_JSON_BYTES).await? else {
        return Err(unexpected(format!(
            "an answer larger than {} MB",
            MAX_JSON_BYTES / (1024 * 1024)
        )));
    };
    serde_json::from_slice(&body).map_err(|e| unexpected(e.to_string()))
}

/// A body of at most `cap` bytes, or `None` when it is longer (read no further).
pub(crate) async fn read_capped(
    provider: &str,
    key: &Secret,
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Option<Vec<u8>>, ProviderError> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| network_error(provider, key, &e))?
    {
        if body.len() + chunk.len() > cap {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_only_for_this_machine() {
        assert!(base_url("fal.ai", "https://queue.fal.run").is_ok());
        assert!(base_url("fal.ai", "http://127.0.0.1:9000").is_ok());
        assert!(base_url("fal.ai", "http://localhost:9000/").is_ok());
        let err = base_url("fal.ai", "http://queue.fal.run").unwrap_err();
        assert!(err.contains("unencrypted"), "{err}");
        assert!(base_url("fal.ai", "ftp://x").is_err());
        assert!(base_url("fal.ai", "not a url").is_err());
    }

    #[test]
    fn endpoints_keep_model_paths() {
        let base = Url::parse("https://queue.fal.run/").unwrap();
        let url = endpoint(&base, &["fal-ai/flux", "requests", "abc-123", "status"]);
        assert_eq!(
            url.as_str(),
            "https://queue.fal.run/fal-ai/flux/requests/abc-123/status"
        );
        assert!(plain_id("2f1c-44_A"));
        assert!(!plain_id("../admin"));
        assert!(!plain_id(""));
    }
}
