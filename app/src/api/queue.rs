//! Queue server functions: cancel, retry, move to front, pause and resume.

use leptos::prelude::*;

use crate::dto::JobDto;
use crate::error::AppError;

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
