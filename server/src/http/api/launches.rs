//! `/api/v1/launches`: queue a batch from a prompt, or (`dry_run`) see what it would queue and
//! cost. The request is the Generate form's, checked by the same code.

use app::dto::LaunchSpec;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use factory::costs;
use factory::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::problem::{ApiResult, Body, Params, Problem};

/// Prompts shown in an answer (the first of the batch).
const PROMPTS_SHOWN: usize = 5;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LaunchQuery {
    /// Check and price the launch without queueing anything.
    #[serde(default)]
    dry_run: bool,
}

/// What a launch queued, or would queue.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Launch {
    /// `false` for a dry run: nothing was queued.
    pub queued: bool,
    pub batch_id: Option<i64>,
    /// How many images the prompt expands to.
    pub items: usize,
    /// The first expanded prompts, in item order.
    pub prompts: Vec<String>,
    /// `None` when the model has no price (Settings → Prices).
    pub estimate: Option<Estimate>,
    /// The queued jobs, in item order (empty for a dry run).
    pub job_ids: Vec<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Estimate {
    pub usd: f64,
    /// How it was worked out (`4 × $0.0030 per image`).
    pub basis: String,
}

impl From<costs::Estimate> for Estimate {
    fn from(e: costs::Estimate) -> Self {
        Self {
            usd: e.total_micros as f64 / costs::MICROS_PER_USD,
            basis: e.basis,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/launches", tag = "launches", params(LaunchQuery),
    request_body = LaunchSpec,
    responses((status = 201, description = "Queued", body = Launch),
        (status = 200, description = "A dry run: what would be queued", body = Launch),
        (status = 422, description = "Wrong fields, each named, or above the confirmation threshold without `confirmed`", body = Problem),
        (status = 409, description = "Over the project's budget, or the project is archived", body = Problem),
        (status = 403, description = "A read-only token", body = Problem)))]
pub async fn launch(
    State(engine): State<Engine>,
    Params(query): Params<LaunchQuery>,
    Body(spec): Body<LaunchSpec>,
) -> ApiResult<(StatusCode, Json<Launch>)> {
    let request = app::api::generate::launch_request(spec)?;
    if query.dry_run {
        let checked = engine.check_launch(&request).await?;
        let items = &checked.plan.items;
        return Ok((
            StatusCode::OK,
            Json(Launch {
                queued: false,
                batch_id: None,
                items: items.len(),
                prompts: items
                    .iter()
                    .take(PROMPTS_SHOWN)
                    .map(|i| i.prompt.clone())
                    .collect(),
                estimate: checked.estimate.map(Into::into),
                job_ids: Vec::new(),
            }),
        ));
    }
    let (batch, jobs, estimate) = engine.launch_priced(&request).await?;
    Ok((
        StatusCode::CREATED,
        Json(Launch {
            queued: true,
            batch_id: Some(batch.id),
            items: jobs.len(),
            prompts: jobs
                .iter()
                .take(PROMPTS_SHOWN)
                .filter_map(|j| j.request().ok().map(|r| r.prompt))
                .collect(),
            estimate: estimate.map(Into::into),
            job_ids: jobs.iter().map(|j| j.id).collect(),
        }),
    ))
}
