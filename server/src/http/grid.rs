//! `/batches/{id}/grid.png?x=<axis>&y=<axis>`: a batch's X/Y grid as one labelled PNG, to
//! download. Not cached: the grid fills in while the batch runs.
//!
//! Bounded: the grid refuses the same axis twice and oversized layouts before allocating
//! (`factory::grids`), and at most [`CONCURRENT_EXPORTS`] are drawn at once.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use factory::grids::{BatchGrid, GridError};
use factory::Engine;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Axes {
    #[serde(default)]
    x: String,
    #[serde(default)]
    y: String,
}

/// Grids drawn at once (each may take ~120 MB while drawn); more requests wait their turn.
pub const CONCURRENT_EXPORTS: usize = 2;
static EXPORTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(CONCURRENT_EXPORTS);

pub async fn export(
    State(engine): State<Engine>,
    Path(batch_id): Path<i64>,
    Query(axes): Query<Axes>,
) -> Response {
    let loaded = match engine.conn().await {
        Ok(mut conn) => BatchGrid::load(&mut conn, batch_id, &axes.x, &axes.y).await,
        Err(e) => {
            tracing::error!(error = %e, "grid export: no database connection");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let grid = match loaded {
        Ok(Some(grid)) => grid,
        Ok(None) => return (StatusCode::NOT_FOUND, "There is no such batch.").into_response(),
        Err(e) => return refused(e),
    };
    let Ok(_turn) = EXPORTS.acquire().await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let media = engine.media().clone();
    let png = match tokio::task::spawn_blocking(move || grid.export_png(&media)).await {
        Ok(Ok(png)) => png,
        Ok(Err(e)) => return refused(e),
        Err(e) => {
            tracing::error!(error = %e, "grid export failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    (
        [
            (header::CONTENT_TYPE, "image/png".to_string()),
            (header::CACHE_CONTROL, "no-store".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"batch-{batch_id}-grid.png\""),
            ),
        ],
        png,
    )
        .into_response()
}

/// A grid that cannot be made: the person's choice (422, saying what to change) or the
/// database (500, logged).
fn refused(error: GridError) -> Response {
    match error {
        GridError::Database(e) => {
            tracing::error!(error = %e, "grid export failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        other => (StatusCode::UNPROCESSABLE_ENTITY, other.to_string()).into_response(),
    }
}
