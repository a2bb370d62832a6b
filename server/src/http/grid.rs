//! `/batches/{id}/grid.png?x=<axis>&y=<axis>`: a batch's X/Y grid as one labelled PNG, to
//! download. Not cached: the grid fills in while the batch runs.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use factory::grids::BatchGrid;
use factory::Engine;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Axes {
    #[serde(default)]
    x: String,
    #[serde(default)]
    y: String,
}

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
        Err(e) => {
            tracing::error!(error = %e, "grid export failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let media = engine.media().clone();
    let png = match tokio::task::spawn_blocking(move || grid.export_png(&media)).await {
        Ok(png) => png,
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
