//! What every hosted adapter does over HTTP: check a configured base URL, turn a refused answer
//! into a [`ProviderError`] a person can act on, and download outputs safely (size cap, a few
//! redirects at most, only from hosts the provider serves files from, bytes checked against the
//! type they claim).

use std::time::Duration;

use reqwest::header::{HeaderMap, LOCATION, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use serde_json::Value;

use super::{ErrorKind, ProviderError};
use crate::media::ImageFormat;
use crate::secret::Secret;

/// Largest output we download (a 4K PNG is about 30 MB).
pub const MAX_DOWNLOAD_BYTES: usize = 64 * 1024 * 1024;
const MAX_REDIRECTS: usize = 3;

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

fn is_loopback(url: &Url) -> bool {
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

/// A successful answer's JSON body. One that cannot be read means the provider took the
/// request and we cannot tell what it said (its id, say): `maybe_accepted`.
pub async fn read_json<T: serde::de::DeserializeOwned>(
    provider: &str,
    key: &Secret,
    response: reqwest::Response,
    what: &str,
) -> Result<T, ProviderError> {
    let text = response
        .text()
        .await
        .map_err(|e| network_error(provider, key, &e))?;
    serde_json::from_str(&text).map_err(|e| {
        ProviderError::new(
            provider,
            ErrorKind::Unavailable,
            format!("{what}: {provider} answered with something unexpected ({e})"),
        )
        .maybe_accepted()
    })
}

/// A non-success answer from a provider's API, read into words.
pub struct Refusal {
    pub status: StatusCode,
    pub detail: String,
    pub retry_after: Option<Duration>,
    pub headers: HeaderMap,
}

impl Refusal {
    pub async fn read(response: reqwest::Response, key: &Secret) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        let detail = key.scrub(&detail_of(&body));
        let retry_after = wait_asked(&headers, &detail);
        Self {
            status,
            detail,
            retry_after,
            headers,
        }
    }

    /// The error for this answer; `what` says what was being done ("submitting").
    pub fn into_error(self, provider: &str, what: &str) -> ProviderError {
        let code = self.status.as_u16();
        let detail = if self.detail.is_empty() {
            self.status
                .canonical_reason()
                .unwrap_or("no reason given")
                .to_string()
        } else {
            self.detail
        };
        let (kind, advice) = match code {
            401 | 403 => (
                ErrorKind::Unauthorized,
                "the key was refused; check the key in the configuration",
            ),
            402 => (
                ErrorKind::Unauthorized,
                "the account is out of credit; top it up at the provider",
            ),
            404 => (ErrorKind::NotFound, "the provider does not know it"),
            408 | 500..=599 => (
                ErrorKind::Unavailable,
                "the provider is having trouble; the job will retry",
            ),
            429 => (
                ErrorKind::RateLimited,
                "too many requests; the job will retry later",
            ),
            _ => (ErrorKind::InvalidInput, "the input was refused"),
        };
        let mut error = ProviderError::new(
            provider,
            kind,
            format!("{what} failed with HTTP {code}: {detail} ({advice})"),
        );
        error.retry_after = self.retry_after;
        // A 4xx is the provider refusing the request; a 5xx may come from a proxy in front of
        // it, or from the provider failing after it took the request.
        error.maybe_accepted = self.status.is_server_error();
        error
    }
}

/// How long a refused call was told to wait: `Retry-After`, else the draft standard's
/// `RateLimit-Reset` (seconds), else a "resets in ~30s" in the message itself (Replicate's
/// throttling answer says it only there).
fn wait_asked(headers: &HeaderMap, detail: &str) -> Option<Duration> {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
    };
    header(RETRY_AFTER.as_str())
        .and_then(|v| parse_retry_after(v, chrono::Utc::now()))
        .or_else(|| {
            header("ratelimit-reset")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs)
        })
        .or_else(|| resets_in(detail))
}

/// "Request was throttled. Your rate limit resets in ~30s." -> 30 s.
fn resets_in(detail: &str) -> Option<Duration> {
    let after = &detail[detail.find("resets in")? + "resets in".len()..];
    let digits: String = after
        .trim_start()
        .trim_start_matches('~')
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok().map(Duration::from_secs)
}

/// `Retry-After` as seconds (`120`) or an HTTP date (`Wed, 21 Oct 2026 07:28:00 GMT`). The
/// worker caps it (a provider, or a proxy, can ask for any wait at all).
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (at.with_timezone(&chrono::Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

/// The readable part of an error body: the fields a problem-details answer names as invalid
/// (`invalid_fields`), a JSON `detail` (string, or a validation list of `{loc, msg}`), `error`
/// or `message`; else the text itself, shortened.
pub fn detail_of(body: &str) -> String {
    let Ok(json) = serde_json::from_str::<Value>(body) else {
        return shorten(body.trim(), 300);
    };
    if let Some(fields) = json["invalid_fields"].as_array().filter(|f| !f.is_empty()) {
        let parts: Vec<String> = fields.iter().map(invalid_field).collect();
        return shorten(&parts.join("; "), 500);
    }
    for field in ["detail", "error", "message"] {
        match &json[field] {
            Value::String(s) => return shorten(s, 300),
            Value::Array(items) if !items.is_empty() => {
                let parts: Vec<String> = items.iter().map(validation_item).collect();
                return shorten(&parts.join("; "), 500);
            }
            Value::Object(o) if o.contains_key("message") => {
                return shorten(o["message"].as_str().unwrap_or_default(), 300)
            }
            _ => {}
        }
    }
    shorten(body.trim(), 300)
}

/// `{loc: ["body", "num_inference_steps"], msg: "..."}` -> `num_inference_steps: ...`.
fn validation_item(item: &Value) -> String {
    let msg = item["msg"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| item.to_string());
    let loc: Vec<String> = item["loc"]
        .as_array()
        .map(|parts| {
            parts
                .iter()
                .filter(|p| p.as_str() != Some("body"))
                .map(|p| match p {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    if loc.is_empty() {
        msg
    } else {
        format!("{}: {msg}", loc.join("."))
    }
}

/// `{field: "input.num_inference_steps", description: "..."}` -> `num_inference_steps: ...`.
fn invalid_field(item: &Value) -> String {
    let field = item["field"].as_str().unwrap_or("input");
    let field = field.strip_prefix("input.").unwrap_or(field);
    let description = item["description"].as_str().unwrap_or("is not valid");
    format!("{field}: {description}")
}

fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let mut short: String = text.chars().take(max_chars).collect();
    short.push('…');
    short
}

/// Where a provider's files may be downloaded from: its API host, and the domains (with their
/// subdomains) it serves results from.
#[derive(Debug, Clone)]
pub struct FileHosts {
    api_host: String,
    domains: Vec<String>,
}

impl FileHosts {
    pub fn new(api: &Url, domains: &[&str]) -> Self {
        Self {
            api_host: api.host_str().unwrap_or_default().to_ascii_lowercase(),
            domains: domains.iter().map(|d| d.to_ascii_lowercase()).collect(),
        }
    }

    pub fn allows(&self, url: &Url) -> bool {
        let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
            return false;
        };
        let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && is_loopback(url));
        scheme_ok
            && (host == self.api_host
                || self
                    .domains
                    .iter()
                    .any(|d| host == *d || host.ends_with(&format!(".{d}"))))
    }
}

/// Downloads one output: allowed hosts only (checked at every redirect), at most
/// [`MAX_DOWNLOAD_BYTES`], and the bytes must be an image of the type declared, when declared.
pub async fn download(
    client: &reqwest::Client,
    provider: &str,
    key: &Secret,
    hosts: &FileHosts,
    url: &str,
    declared_mime: Option<&str>,
) -> Result<Vec<u8>, ProviderError> {
    let bad = |message: String| ProviderError::new(provider, ErrorKind::BadOutput, message);
    let mut url = Url::parse(url).map_err(|e| bad(format!("the output URL is invalid ({e})")))?;
    let mut hops = 0;
    let mut response = loop {
        if !hosts.allows(&url) {
            return Err(bad(format!(
                "refused to download from {}: not a host {provider} serves files from",
                url.host_str().unwrap_or("an unnamed host")
            )));
        }
        let response = client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| network_error(provider, key, &e))?;
        if !response.status().is_redirection() {
            break response;
        }
        hops += 1;
        if hops > MAX_REDIRECTS {
            return Err(bad(format!(
                "the output URL redirected more than {MAX_REDIRECTS} times"
            )));
        }
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .ok_or_else(|| bad("a redirect without a Location".into()))?;
        url = url
            .join(location)
            .map_err(|e| bad(format!("a redirect to an invalid URL ({e})")))?;
    };
    if !response.status().is_success() {
        let refusal = Refusal::read(response, key).await;
        let mut error = refusal.into_error(provider, "downloading the result");
        if error.kind == ErrorKind::NotFound {
            error
                .message
                .push_str("; results expire at the provider, so it may be gone");
        }
        return Err(error);
    }
    if response
        .content_length()
        .is_some_and(|n| n > MAX_DOWNLOAD_BYTES as u64)
    {
        return Err(bad(format!(
            "the output is larger than the {} MB limit",
            MAX_DOWNLOAD_BYTES / (1024 * 1024)
        )));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| network_error(provider, key, &e))?
    {
        if bytes.len() + chunk.len() > MAX_DOWNLOAD_BYTES {
            return Err(bad(format!(
                "the output is larger than the {} MB limit",
                MAX_DOWNLOAD_BYTES / (1024 * 1024)
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    check_image(provider, &bytes, declared_mime)?;
    Ok(bytes)
}

/// The bytes are an image we store, and the type the provider declared (if it did).
pub fn check_image(
    provider: &str,
    bytes: &[u8],
    declared_mime: Option<&str>,
) -> Result<ImageFormat, ProviderError> {
    let bad = |message: String| ProviderError::new(provider, ErrorKind::BadOutput, message);
    let format = ImageFormat::sniff(bytes).ok_or_else(|| {
        bad(format!(
            "the output ({} bytes) is not a PNG, JPEG or WebP image",
            bytes.len()
        ))
    })?;
    if let Some(declared) = declared_mime.map(|m| m.trim().to_ascii_lowercase()) {
        let matches =
            declared == format.mime() || (declared == "image/jpg" && format.mime() == "image/jpeg");
        if declared.starts_with("image/") && !matches {
            return Err(bad(format!(
                "the output claims to be {declared} but is {}",
                format.mime()
            )));
        }
    }
    Ok(format)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttled_answer_says_when_it_resets() {
        assert_eq!(
            resets_in("Request was throttled. Your rate limit resets in ~30s."),
            Some(Duration::from_secs(30))
        );
        assert_eq!(resets_in("slow down"), None);
    }

    #[test]
    fn problem_details_name_the_invalid_fields() {
        let body = r#"{"title":"Input validation failed","status":422,
            "detail":"- input.num_inference_steps: Must be less than or equal to 4",
            "invalid_fields":[{"type":"less_than_equal","field":"input.num_inference_steps",
            "description":"Must be less than or equal to 4"}]}"#;
        assert_eq!(
            detail_of(body),
            "num_inference_steps: Must be less than or equal to 4"
        );
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_as_an_http_date() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-10-21T07:28:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2026 07:30:00 GMT", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2026 07:00:00 GMT", now),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

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

    #[test]
    fn file_hosts_are_the_api_host_and_the_providers_domains() {
        let api = Url::parse("http://127.0.0.1:4000").unwrap();
        let hosts = FileHosts::new(&api, &["fal.media"]);
        let allowed = |u: &str| hosts.allows(&Url::parse(u).unwrap());
        assert!(allowed("http://127.0.0.1:4000/files/x.png"));
        assert!(allowed("https://v3.fal.media/files/x.png"));
        assert!(allowed("https://fal.media/x"));
        assert!(
            !allowed("http://v3.fal.media/x"),
            "plain http off this machine"
        );
        assert!(!allowed("https://evilfal.media/x"));
        assert!(!allowed("https://fal.media.evil.com/x"));
        assert!(!allowed("https://169.254.169.254/latest"));
    }

    #[test]
    fn error_bodies_become_words() {
        assert_eq!(
            detail_of(r#"{"detail":"No user found for Key ID and Secret"}"#),
            "No user found for Key ID and Secret"
        );
        assert_eq!(
            detail_of(
                r#"{"detail":[{"loc":["body","num_inference_steps"],"msg":"ensure this value is less than or equal to 12","type":"value_error"}]}"#
            ),
            "num_inference_steps: ensure this value is less than or equal to 12"
        );
        assert_eq!(
            detail_of("upstream connect error"),
            "upstream connect error"
        );
    }

    #[test]
    fn a_declared_type_must_match_the_bytes() {
        let png = crate::media::png::encode_rgb(1, 1, &[0, 0, 0]).unwrap();
        assert!(check_image("p", &png, Some("image/png")).is_ok());
        assert!(check_image("p", &png, None).is_ok());
        let err = check_image("p", &png, Some("image/jpeg")).unwrap_err();
        assert_eq!(err.kind, ErrorKind::BadOutput);
        assert!(check_image("p", b"<html>", Some("image/png")).is_err());
    }
}
