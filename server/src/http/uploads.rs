//! `POST /uploads/{project}`: a picture uploaded or pasted on the Generate page, as the raw
//! request body. Kept as a product of kind `upload` (checked and capped by
//! `factory::uploads`); answers the product, or a 4xx whose text says what to do.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use factory::uploads::UploadError;
use factory::Engine;

/// The body limit of this route: the largest upload, plus room to say it is too large.
pub const BODY_LIMIT: usize = factory::uploads::MAX_UPLOAD_BYTES + 1;

pub async fn store(
    State(engine): State<Engine>,
    Path(project_id): Path<i64>,
    body: Bytes,
) -> Response {
    match engine.upload(project_id, body.to_vec()).await {
        Ok(product) => (
            StatusCode::CREATED,
            Json(app::dto::ProductDto::from(product)),
        )
            .into_response(),
        Err(e @ (UploadError::Empty | UploadError::NotAnImage(_))) => {
            (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response()
        }
        Err(e @ UploadError::TooLarge(_)) => {
            (StatusCode::PAYLOAD_TOO_LARGE, e.to_string()).into_response()
        }
        Err(UploadError::Project(e)) => (StatusCode::NOT_FOUND, e.to_string()).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "upload failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The picture could not be stored. Check the server log, then try again.",
            )
                .into_response()
        }
    }
}
