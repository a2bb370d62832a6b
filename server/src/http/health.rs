//! `GET /healthz`: is the server up, and can it reach its database?

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use factory::Engine;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
    pub database: DatabaseHealth,
}

#[derive(Debug, Serialize)]
pub struct DatabaseHealth {
    pub reachable: bool,
}

/// 200 when everything answers, 503 (same body shape) when the database does not.
pub async fn healthz(State(engine): State<Engine>) -> (StatusCode, Json<Health>) {
    let reachable = engine.database_reachable().await;
    let (code, status) = if reachable {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "degraded")
    };
    (
        code,
        Json(Health {
            status,
            version: env!("CARGO_PKG_VERSION"),
            database: DatabaseHealth { reachable },
        }),
    )
}
