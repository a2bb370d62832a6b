//! A provider's refusal (a non-success answer) read into words: what it says was wrong, how
//! long it asks us to wait, and which kind of error that makes.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::Value;

use crate::providers::{ErrorKind, ProviderError};
use crate::secret::Secret;

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
    // ASP.NET's validation problem details (Civitai): `errors: {"params.steps": ["..."]}`.
    if let Some(fields) = json["errors"].as_object().filter(|f| !f.is_empty()) {
        let parts: Vec<String> = fields
            .iter()
            .map(|(field, messages)| {
                let said: Vec<&str> = messages
                    .as_array()
                    .map(|m| m.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                format!("{field}: {}", said.join(" "))
            })
            .collect();
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
    fn validation_problem_details_name_their_fields() {
        let body = r#"{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1",
            "title":"One or more validation errors occurred.","status":400,
            "errors":{"params.steps":["The field steps must be between 1 and 150."]}}"#;
        assert_eq!(
            detail_of(body),
            "params.steps: The field steps must be between 1 and 150."
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
}
