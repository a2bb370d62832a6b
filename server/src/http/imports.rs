//! `POST /imports/{project}?name=…&modified=…`: one file of an import from the browser, as the
//! raw request body (the page sends a few at a time and shows the progress). Answers what
//! became of it; a file that is not a picture, damaged or already in the project is an answer,
//! not an HTTP error.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use factory::projects::ProjectError;
use factory::Engine;
use serde::Deserialize;

/// The body limit of this route: the largest file, plus room to say it is too large.
pub const BODY_LIMIT: usize = factory::media::MAX_FILE_BYTES + 1;

#[derive(Debug, Deserialize)]
pub struct FileInfo {
    /// The file's name (or path within a dropped folder), for the report.
    #[serde(default)]
    name: String,
    /// Its modification time, milliseconds since 1970 (dates the product).
    modified: Option<i64>,
}

pub async fn import_file(
    State(engine): State<Engine>,
    Path(project_id): Path<i64>,
    Query(info): Query<FileInfo>,
    body: Bytes,
) -> Response {
    let modified = info
        .modified
        .and_then(DateTime::<Utc>::from_timestamp_millis);
    match engine
        .import_file(project_id, &info.name, body.to_vec(), modified)
        .await
    {
        Ok(outcome) => Json(app::dto::ImportOutcomeDto::from(outcome)).into_response(),
        Err(e @ ProjectError::NotFound(_)) => {
            (StatusCode::NOT_FOUND, e.to_string()).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "import failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The file could not be imported. Check the server log, then try again.",
            )
                .into_response()
        }
    }
}
