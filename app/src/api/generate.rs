//! Generation server functions: what can be generated, launching a batch, a batch's results.

use leptos::prelude::*;

use crate::dto::{GenerateOptionsDto, JobDto, LaunchForm, LaunchedDto, ProductDto};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use factory::{batches, db::DbError, jobs::queue, products, projects};

#[server(endpoint = "generate/options")]
pub async fn generate_options() -> Result<GenerateOptionsDto, AppError> {
    super::respond(async move {
        let engine = super::engine()?;
        let mut conn = engine.conn().await?;
        let projects = projects::list(&mut conn, projects::Listing::Active).await?;
        Ok(GenerateOptionsDto {
            projects: projects.into_iter().map(Into::into).collect(),
            providers: engine
                .providers()
                .infos()
                .into_iter()
                .map(Into::into)
                .collect(),
            max_count: engine.settings().max_batch_count,
        })
    })
    .await
}

/// Queues `form.count` generations; checks everything first and queues nothing on bad input.
#[server(endpoint = "generate/launch")]
pub async fn launch_batch(form: LaunchForm) -> Result<LaunchedDto, AppError> {
    super::respond(async move {
        let params = match serde_json::from_str::<serde_json::Value>(&form.params) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => {
                return Err(AppError::invalid(
                    "params",
                    "The parameters must be a JSON object.",
                ))
            }
        };
        let seed = match (form.seed_mode.as_str(), form.seed) {
            ("fixed", Some(seed)) => batches::SeedChoice::Fixed(seed),
            ("fixed", None) => {
                return Err(AppError::invalid(
                    "seed",
                    "Enter a seed, or choose a random one.",
                ))
            }
            _ => batches::SeedChoice::Random,
        };
        let request = batches::LaunchRequest {
            project_id: form.project_id,
            provider: form.provider,
            model: form.model,
            prompt: form.prompt,
            negative_prompt: form.negative_prompt,
            params,
            count: form.count,
            seed,
        };
        let (batch, jobs) = super::engine()?.launch(&request).await?;
        Ok(LaunchedDto {
            batch_id: batch.id,
            jobs: jobs.into_iter().map(JobDto::from).collect(),
        })
    })
    .await
}

/// A batch's jobs and the products made so far.
#[server(endpoint = "generate/batch")]
pub async fn batch_results(batch_id: i64) -> Result<(Vec<JobDto>, Vec<ProductDto>), AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        let jobs = queue::list_for_batch(&mut conn, batch_id)
            .await
            .map_err(DbError::from)?;
        let made = products::list_for_batch(&mut conn, batch_id)
            .await
            .map_err(DbError::from)?;
        Ok((
            jobs.into_iter().map(Into::into).collect(),
            made.into_iter().map(Into::into).collect(),
        ))
    })
    .await
}
