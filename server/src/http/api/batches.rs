//! `/api/v1/batches` and `/api/v1/jobs`: what the queue holds, a page at a time by keyset
//! cursor (the Queue page's lists), one job's state, cancel and retry.

use app::dto::{
    parse_batch_cursor, parse_job_cursor, BatchPageDto, BatchSummaryDto, JobDto, JobFilter,
    JobPageDto, QueueSection,
};
use app::error::AppError;
use axum::extract::State;
use axum::Json;
use factory::jobs::queue::{self, Canceled};
use factory::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::problem::{ApiResult, Id, Params, Problem};

/// Batches per page.
const BATCHES_PER_PAGE: i64 = 50;
/// Jobs per page.
const JOBS_PER_PAGE: i64 = 200;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct BatchesQuery {
    /// `active` (still waiting or running, in the order they run) or `finished` (newest first).
    #[serde(default = "active")]
    section: QueueSection,
    /// The `next` of the page before.
    after: Option<String>,
}

fn active() -> QueueSection {
    QueueSection::Active
}

#[utoipa::path(get, path = "/api/v1/batches", tag = "batches", params(BatchesQuery),
    responses((status = 200, body = BatchPageDto), (status = 422, body = Problem)))]
pub async fn list(
    State(engine): State<Engine>,
    Params(query): Params<BatchesQuery>,
) -> ApiResult<Json<BatchPageDto>> {
    let after = query
        .after
        .map(|a| parse_batch_cursor(query.section, &a))
        .transpose()
        .map_err(|e| AppError::invalid("after", e))?;
    let page = engine
        .queue_batches(query.section.into(), after, BATCHES_PER_PAGE)
        .await?;
    Ok(Json(page.into()))
}

#[utoipa::path(get, path = "/api/v1/batches/{id}", tag = "batches",
    params(("id" = i64, Path, description = "The batch's id")),
    responses((status = 200, description = "Counts by state and progress", body = BatchSummaryDto),
        (status = 404, body = Problem)))]
pub async fn get(State(engine): State<Engine>, Id(id): Id) -> ApiResult<Json<BatchSummaryDto>> {
    Ok(Json(summary(&engine, id).await?))
}

async fn summary(engine: &Engine, id: i64) -> Result<BatchSummaryDto, AppError> {
    engine
        .batch_summary(id)
        .await?
        .map(Into::into)
        .ok_or_else(|| AppError::NotFound(format!("There is no batch {id}.")))
}

/// 404 for a batch there is none of (a primary-key lookup, not the summary's counts).
async fn exists(engine: &Engine, id: i64) -> Result<(), AppError> {
    factory::batches::get(&mut *engine.conn().await?, id)
        .await
        .map_err(factory::db::DbError::from)?
        .map(drop)
        .ok_or_else(|| AppError::NotFound(format!("There is no batch {id}.")))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct JobsQuery {
    /// Only the jobs in this state group.
    #[serde(default)]
    filter: JobFilter,
    /// The `next` of the page before.
    after: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/batches/{id}/jobs", tag = "batches",
    params(("id" = i64, Path, description = "The batch's id"), JobsQuery),
    responses((status = 200, description = "Moved-to-front jobs first, then in item order, each with its picture when done", body = JobPageDto),
        (status = 404, body = Problem)))]
pub async fn jobs(
    State(engine): State<Engine>,
    Id(id): Id,
    Params(query): Params<JobsQuery>,
) -> ApiResult<Json<JobPageDto>> {
    exists(&engine, id).await?;
    let after = query
        .after
        .map(|a| parse_job_cursor(&a))
        .transpose()
        .map_err(|e| AppError::invalid("after", e))?;
    let page = engine
        .queue_batch_jobs(id, &query.filter.states(), after, JOBS_PER_PAGE)
        .await?;
    Ok(Json(page.into()))
}

/// How many jobs an action changed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Changed {
    pub changed: usize,
}

#[utoipa::path(post, path = "/api/v1/batches/{id}/cancel", tag = "batches",
    params(("id" = i64, Path, description = "The batch's id")),
    responses((status = 200, description = "Every unfinished job canceled", body = Changed),
        (status = 404, body = Problem)))]
pub async fn cancel(State(engine): State<Engine>, Id(id): Id) -> ApiResult<Json<Changed>> {
    exists(&engine, id).await?;
    let changed = engine.cancel_batch(id).await?;
    Ok(Json(Changed { changed }))
}

#[utoipa::path(post, path = "/api/v1/batches/{id}/retry", tag = "batches",
    params(("id" = i64, Path, description = "The batch's id")),
    responses((status = 200, description = "Every failed job queued again", body = Changed),
        (status = 404, body = Problem)))]
pub async fn retry(State(engine): State<Engine>, Id(id): Id) -> ApiResult<Json<Changed>> {
    exists(&engine, id).await?;
    let changed = engine.retry_failed_in_batch(id).await?;
    Ok(Json(Changed { changed }))
}

#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs",
    params(("id" = i64, Path, description = "The job's id")),
    responses((status = 200, body = JobDto), (status = 404, body = Problem)))]
pub async fn job(State(engine): State<Engine>, Id(id): Id) -> ApiResult<Json<JobDto>> {
    let job = queue::get(&mut *engine.conn().await?, id).await?;
    Ok(Json(job.into()))
}

#[utoipa::path(post, path = "/api/v1/jobs/{id}/cancel", tag = "jobs",
    params(("id" = i64, Path, description = "The job's id")),
    responses((status = 200, description = "Canceled, or (while it runs) cancel requested", body = JobDto),
        (status = 404, body = Problem), (status = 409, description = "Already finished", body = Problem)))]
pub async fn cancel_job(State(engine): State<Engine>, Id(id): Id) -> ApiResult<Json<JobDto>> {
    match engine.cancel_job(id).await? {
        Canceled::Now(job) | Canceled::Requested(job) => Ok(Json(job.into())),
    }
}

#[utoipa::path(post, path = "/api/v1/jobs/{id}/retry", tag = "jobs",
    params(("id" = i64, Path, description = "The job's id")),
    responses((status = 200, description = "Queued again", body = JobDto),
        (status = 404, body = Problem), (status = 409, description = "Not failed or canceled", body = Problem)))]
pub async fn retry_job(State(engine): State<Engine>, Id(id): Id) -> ApiResult<Json<JobDto>> {
    Ok(Json(engine.retry_job(id).await?.into()))
}
