//! Pipeline server functions: thin wrappers over `factory::pipelines`.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::dto::{PipelineDetailDto, PipelineDto, RunDto, RunPreviewDto, StepForm};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use factory::pipelines::{runs, store, PipelineName, RunRequest};

#[server(endpoint = "pipelines/list")]
pub async fn list_pipelines(project_id: i64) -> Result<Vec<PipelineDto>, AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        let rows = store::list(&mut conn, project_id).await?;
        Ok(rows.into_iter().map(PipelineDto::from).collect())
    })
    .await
}

/// A new pipeline with one step to start from: a generation on the offline generator.
#[server(endpoint = "pipelines/create")]
pub async fn create_pipeline(project_id: i64, name: String) -> Result<PipelineDto, AppError> {
    super::respond(async move {
        let name = PipelineName::parse(&name)?;
        let mut first = StepForm::new("generate".into(), crate::dto::StepKindName::Generate, None);
        first.prompt = "a lighthouse at dusk".into();
        first.params = r#"{"width": 512, "height": 512}"#.into();
        let graph = crate::dto::graph_of(&[first])?;
        let mut conn = super::engine()?.conn().await?;
        Ok(store::create(&mut conn, project_id, &name, &graph)
            .await?
            .into())
    })
    .await
}

#[server(endpoint = "pipelines/get")]
pub async fn pipeline_detail(id: i64, version: Option<i32>) -> Result<PipelineDetailDto, AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        let o = runs::overview(&mut conn, id, version).await?;
        Ok(PipelineDetailDto {
            pipeline: o.pipeline.into(),
            version: o.version.version,
            steps: o
                .version
                .graph
                .steps
                .iter()
                .map(StepForm::from_step)
                .collect(),
            versions: o.versions,
            runs: o.runs.iter().map(Into::into).collect(),
        })
    })
    .await
}

/// Saves the steps as the pipeline's next version (refused with every problem, naming the step
/// and port, when the graph does not check out). Answers the version saved.
#[server(endpoint = "pipelines/save", input = Json)]
pub async fn save_pipeline(id: i64, steps: Vec<StepForm>) -> Result<i32, AppError> {
    super::respond(async move {
        let graph = crate::dto::graph_of(&steps)?;
        let mut conn = super::engine()?.conn().await?;
        Ok(store::save(&mut conn, id, &graph).await?.version)
    })
    .await
}

/// Deletes a pipeline with its versions and runs (refused while one runs).
#[server(endpoint = "pipelines/delete")]
pub async fn delete_pipeline(id: i64) -> Result<(), AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        Ok(store::delete(&mut conn, id).await?)
    })
    .await
}

#[server(endpoint = "pipelines/duplicate")]
pub async fn duplicate_pipeline(id: i64, name: String) -> Result<PipelineDto, AppError> {
    super::respond(async move {
        let name = PipelineName::parse(&name)?;
        let mut conn = super::engine()?.conn().await?;
        Ok(store::duplicate(&mut conn, id, &name).await?.into())
    })
    .await
}

/// What a run with `run_seed` would take from the cache, run, and cost.
#[server(endpoint = "pipelines/preview")]
pub async fn preview_run(
    id: i64,
    run_seed: i64,
    input_product: Option<i64>,
) -> Result<RunPreviewDto, AppError> {
    super::respond(async move {
        let engine = super::engine()?;
        let mut conn = engine.conn().await?;
        let p = runs::preview_latest(&mut conn, engine.providers(), id, run_seed, input_product)
            .await?;
        Ok(RunPreviewDto {
            cached: p
                .steps
                .iter()
                .filter(|s| s.cached.is_some())
                .map(|s| s.name.clone())
                .collect(),
            to_run: p.to_run,
            cost_micros: p.cost_micros,
            unpriced: p.unpriced,
        })
    })
    .await
}

#[server(endpoint = "pipelines/run")]
pub async fn run_pipeline(
    id: i64,
    run_seed: Option<i64>,
    input_product: Option<i64>,
) -> Result<RunDto, AppError> {
    super::respond(async move {
        let engine = super::engine()?;
        let run = engine
            .run_pipeline(&RunRequest {
                pipeline_id: id,
                version: None,
                run_seed,
                input_product,
            })
            .await?;
        Ok(runs::view(&mut *engine.conn().await?, run.id).await?.into())
    })
    .await
}

#[server(endpoint = "pipelines/rerun")]
pub async fn rerun_pipeline(run_id: i64, step: String) -> Result<RunDto, AppError> {
    super::respond(async move {
        let engine = super::engine()?;
        let run = engine.rerun_pipeline(run_id, &step).await?;
        Ok(runs::view(&mut *engine.conn().await?, run.id).await?.into())
    })
    .await
}

#[server(endpoint = "pipelines/cancel")]
pub async fn cancel_run(run_id: i64) -> Result<(), AppError> {
    super::respond(async move { Ok(super::engine()?.cancel_run(run_id).await?) }).await
}

#[server(endpoint = "pipelines/run_view")]
pub async fn pipeline_run(run_id: i64) -> Result<RunDto, AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        Ok(runs::view(&mut conn, run_id).await?.into())
    })
    .await
}
