//! Queue server functions: the batches and their jobs a page at a time; cancel, retry, move to
//! front (a job or a whole batch); pause and resume.

use leptos::prelude::*;

use crate::dto::{BatchPageDto, JobDto, JobFilter, JobPageDto, QueueSection};
use crate::error::AppError;

/// Batches listed per page.
pub const BATCHES_PER_PAGE: i64 = 20;
/// A batch's jobs listed per page.
pub const JOBS_PER_PAGE: i64 = 50;

/// A page of batches: those still waiting or running in the order they run, or the finished
/// ones, newest first.
#[server(endpoint = "queue/batches")]
pub async fn queue_batches(
    section: QueueSection,
    after: Option<String>,
) -> Result<BatchPageDto, AppError> {
    super::respond(async move {
        let after = after
            .map(|a| crate::dto::parse_batch_cursor(section, &a))
            .transpose()
            .map_err(|e| AppError::invalid("after", e))?;
        Ok(super::engine()?
            .queue_batches(section.into(), after, BATCHES_PER_PAGE)
            .await?
            .into())
    })
    .await
}

/// A page of one batch's jobs (moved to the front first, then in item order), with each
/// finished job's picture.
#[server(endpoint = "queue/batch_jobs")]
pub async fn queue_batch_jobs(
    batch_id: i64,
    filter: JobFilter,
    after: Option<String>,
) -> Result<JobPageDto, AppError> {
    super::respond(async move {
        let after = after
            .map(|a| crate::dto::parse_job_cursor(&a))
            .transpose()
            .map_err(|e| AppError::invalid("after", e))?;
        Ok(super::engine()?
            .queue_batch_jobs(batch_id, &filter.states(), after, JOBS_PER_PAGE)
            .await?
            .into())
    })
    .await
}

/// Cancels every unfinished job of a batch; returns how many.
#[server(endpoint = "queue/cancel_batch")]
pub async fn cancel_batch(batch_id: i64) -> Result<usize, AppError> {
    super::respond(async move { Ok(super::engine()?.cancel_batch(batch_id).await?) }).await
}

/// Queues a batch's failed jobs again; returns how many.
#[server(endpoint = "queue/retry_batch")]
pub async fn retry_failed_in_batch(batch_id: i64) -> Result<usize, AppError> {
    super::respond(async move { Ok(super::engine()?.retry_failed_in_batch(batch_id).await?) }).await
}

#[server(endpoint = "queue/cancel")]
pub async fn cancel_job(id: i64) -> Result<JobDto, AppError> {
    super::respond(async move {
        use factory::jobs::queue::Canceled;
        match super::engine()?.cancel_job(id).await? {
            Canceled::Now(job) | Canceled::Requested(job) => Ok(job.into()),
        }
    })
    .await
}

#[server(endpoint = "queue/retry")]
pub async fn retry_job(id: i64) -> Result<JobDto, AppError> {
    super::respond(async move { Ok(super::engine()?.retry_job(id).await?.into()) }).await
}

#[server(endpoint = "queue/front")]
pub async fn move_job_to_front(id: i64) -> Result<JobDto, AppError> {
    super::respond(async move { Ok(super::engine()?.move_job_to_front(id).await?.into()) }).await
}

#[server(endpoint = "queue/pause")]
pub async fn set_queue_paused(paused: bool) -> Result<(), AppError> {
    super::respond(async move { Ok(super::engine()?.set_queue_paused(paused).await?) }).await
}
