//! The REST API's one error shape: `application/problem+json` (RFC 9457), with the fields
//! that are wrong listed when the input is.
//!
//! Every refusal of the API goes through here: bad input (the same checks and words as the
//! pages), unknown ids, conflicts, a missing or revoked token, a read-only token asked to
//! change something. Internal details never reach it: [`AppError`] already carries only what
//! the person may see.

use app::error::AppError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use utoipa::ToSchema;

/// A problem (RFC 9457).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct Problem {
    /// What kind of problem, as a URN: `urn:art-factory:problem:<kind>` (`invalid`,
    /// `not-found`, `conflict`, `unauthorized`, `forbidden`, `bad-request`,
    /// `unsupported-media-type`, `unavailable`, `internal`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The kind in words.
    pub title: String,
    pub status: u16,
    /// What went wrong and what to do, in plain words.
    pub detail: String,
    /// For invalid input: every field that is wrong, with its message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

/// One wrong field: its name as the request spells it (`prompt`, `params.steps`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        let (kind, title) = match status.as_u16() {
            400 => ("bad-request", "Bad request"),
            401 => ("unauthorized", "Not signed in"),
            403 => ("forbidden", "Not allowed"),
            404 => ("not-found", "Not found"),
            409 => ("conflict", "Conflict"),
            415 => ("unsupported-media-type", "Unsupported media type"),
            422 => ("invalid", "Invalid input"),
            503 => ("unavailable", "Unavailable"),
            _ => ("internal", "Internal error"),
        };
        Self {
            kind: format!("urn:art-factory:problem:{kind}"),
            title: title.into(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    fn invalid(fields: Vec<(String, String)>) -> Self {
        let detail = match fields.as_slice() {
            [(_, message)] => message.clone(),
            _ => format!(
                "{} fields are wrong: {}",
                fields.len(),
                fields
                    .iter()
                    .map(|(f, _)| f.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        Self {
            errors: fields
                .into_iter()
                .map(|(field, message)| FieldProblem { field, message })
                .collect(),
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
        }
    }
}

impl From<AppError> for Problem {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid { field, message } => Self::invalid(vec![(field, message)]),
            AppError::InvalidFields(fields) => Self::invalid(fields),
            other => Self::new(
                StatusCode::from_u16(other.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                other.to_string(),
            ),
        }
    }
}

/// What handlers return on failure: anything the pages' error boundary knows becomes a problem.
pub struct ApiError(pub Problem);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        Self(e.into().into())
    }
}

impl From<Problem> for ApiError {
    fn from(p: Problem) -> Self {
        Self(p)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).expect("problems serialise");
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

/// A JSON body; one that cannot be read is a problem naming where it is wrong.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_problem(rejection)),
        }
    }
}

fn json_problem(rejection: JsonRejection) -> Problem {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Send the body as JSON, with the header Content-Type: application/json.",
        ),
        JsonRejection::JsonSyntaxError(e) => Problem::new(
            StatusCode::BAD_REQUEST,
            format!("The body is not valid JSON: {}.", e.body_text()),
        ),
        JsonRejection::JsonDataError(e) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "The body does not have the expected fields: {}.",
                e.body_text()
            ),
        ),
        other => Problem::new(StatusCode::BAD_REQUEST, other.body_text()),
    }
}

/// Query parameters; unreadable ones are a problem.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(query_problem(rejection)),
        }
    }
}

fn query_problem(rejection: QueryRejection) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        format!("The query parameters are wrong: {}.", rejection.body_text()),
    )
}

/// The id in the path; anything but a whole number is a problem.
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        match axum::extract::Path::<i64>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(id)) => Ok(Self(id)),
            Err(rejection) => Err(path_problem(rejection)),
        }
    }
}

fn path_problem(rejection: PathRejection) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        format!(
            "There is nothing at this address: the id must be a whole number ({}).",
            rejection.body_text()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_errors_keep_their_status_words_and_fields() {
        let p = Problem::from(AppError::InvalidFields(vec![
            ("prompt".into(), "Write a prompt first.".into()),
            ("count".into(), "At least 1.".into()),
        ]));
        assert_eq!(p.status, 422);
        assert_eq!(p.kind, "urn:art-factory:problem:invalid");
        assert_eq!(p.errors.len(), 2);
        assert_eq!(p.errors[0].field, "prompt");
        assert!(p.detail.contains("prompt, count"), "{}", p.detail);

        let p = Problem::from(AppError::invalid("name", "Taken."));
        assert_eq!((p.detail.as_str(), p.errors.len()), ("Taken.", 1));

        let p = Problem::from(AppError::NotFound("There is no project 9.".into()));
        assert_eq!((p.status, p.title.as_str()), (404, "Not found"));
        assert!(p.errors.is_empty());
        let json = serde_json::to_value(&p).unwrap();
        assert!(json.get("errors").is_none(), "{json}");
        assert_eq!(json["type"], "urn:art-factory:problem:not-found");
    }
}
