//! Settings → Storage: bytes per project, emptying the trash, old rejects to the trash, and the
//! check of files against rows.

use leptos::prelude::*;

use crate::dto::{ProjectUsageDto, StorageCheckDto};
use crate::error::AppError;

#[server(endpoint = "storage/usage")]
pub async fn storage_usage() -> Result<Vec<ProjectUsageDto>, AppError> {
    super::respond(async move {
        Ok(super::engine()?
            .storage_usage()
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    })
    .await
}

/// Where the pictures are kept: the data directory, or a bucket (never its credentials).
#[server(endpoint = "storage/place")]
pub async fn storage_place() -> Result<String, AppError> {
    super::respond(async move { Ok(super::engine()?.media().describe()) }).await
}

/// Empties the trash; returns how many products and files went.
#[server(endpoint = "storage/empty-trash")]
pub async fn empty_trash() -> Result<(usize, usize), AppError> {
    super::respond(async move {
        let emptied = super::engine()?.empty_trash(None).await?;
        Ok((emptied.products, emptied.files_removed))
    })
    .await
}

/// Rejected products older than `days`: how many (`dry_run`), or sent to the trash.
#[server(endpoint = "storage/trash-rejected")]
pub async fn trash_rejected(days: u32, dry_run: bool) -> Result<i64, AppError> {
    super::respond(async move {
        if days == 0 {
            return Err(AppError::invalid(
                "days",
                "Give a number of days of at least 1.",
            ));
        }
        Ok(super::engine()?.trash_rejected(days, dry_run).await?)
    })
    .await
}

#[server(endpoint = "storage/check")]
pub async fn check_storage(repair: bool) -> Result<StorageCheckDto, AppError> {
    super::respond(async move { Ok(super::engine()?.check_storage(repair).await?.into()) }).await
}
