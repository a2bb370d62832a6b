//! Scene and render server functions: thin wrappers over `factory::scenes` and
//! `factory::render` (the REST API has the same calls under `/api/v1/scenes` and
//! `/api/v1/renderjobs`).

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::dto::{
    RenderEngineDto, RenderJobDto, RenderOrderDto, SceneDto, SceneGraph, SceneSummaryDto,
};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use factory::scenes::store;

#[server(endpoint = "scenes/list")]
pub async fn list_scenes(project_id: i64) -> Result<Vec<SceneSummaryDto>, AppError> {
    super::respond(async move {
        let rows = store::list(&mut *super::engine()?.conn().await?, project_id).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    })
    .await
}

/// A new scene in `project_id`: named, with a camera and a sun so that the first model placed
/// shows at once.
#[server(endpoint = "scenes/create")]
pub async fn create_scene(project_id: i64, name: String) -> Result<SceneDto, AppError> {
    super::respond(async move {
        let doc: factory::scenes::SceneDoc = serde_json::from_value(serde_json::json!({
            "name": name,
            "nodes": [
                {"kind": "light", "name": "sun", "light": "directional", "strength": 4.0,
                 "position": [4, 6, 5], "target": [0, 0, 0]},
                {"kind": "camera", "name": "camera", "projection": {"type": "perspective", "fov": 40},
                 "position": [0, 2, 6], "target": [0, 0.5, 0]}
            ]
        }))
        .map_err(|e| AppError::invalid("name", e.to_string()))?;
        let mut conn = super::engine()?.conn().await?;
        Ok(store::create(&mut conn, project_id, doc).await?.into())
    })
    .await
}

#[server(endpoint = "scenes/get")]
pub async fn get_scene(id: i64) -> Result<SceneDto, AppError> {
    super::respond(async move {
        Ok(store::get(&mut *super::engine()?.conn().await?, id)
            .await?
            .into())
    })
    .await
}

/// Replaces scene `id`, refused when it was saved elsewhere since `revision`.
#[server(endpoint = "scenes/save", input = Json)]
pub async fn save_scene(id: i64, revision: i32, scene: SceneGraph) -> Result<SceneDto, AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        Ok(
            store::update(&mut conn, id, (&scene).into(), Some(revision))
                .await?
                .into(),
        )
    })
    .await
}

#[server(endpoint = "scenes/delete")]
pub async fn delete_scene(id: i64) -> Result<(), AppError> {
    super::respond(
        async move { Ok(store::delete(&mut *super::engine()?.conn().await?, id).await?) },
    )
    .await
}

/// The scene as edited (not saved yet), drawn by the built-in engine from `camera`: a `data:`
/// URL of a PNG.
#[server(endpoint = "scenes/preview", input = Json)]
pub async fn preview_scene(
    project_id: i64,
    scene: SceneGraph,
    camera: Option<String>,
    width: u32,
    height: u32,
) -> Result<String, AppError> {
    super::respond(async move {
        let png = super::engine()?
            .preview_scene(
                project_id,
                (&scene).into(),
                camera.as_deref(),
                width,
                height,
            )
            .await?;
        Ok(factory::render::engines::builtin::png_data_url(&png))
    })
    .await
}

#[server(endpoint = "renders/engines")]
pub async fn render_engines() -> Result<Vec<RenderEngineDto>, AppError> {
    super::respond(async move {
        Ok(super::engine()?
            .render_engines()
            .into_iter()
            .map(Into::into)
            .collect())
    })
    .await
}

#[server(endpoint = "renders/queue", input = Json)]
pub async fn queue_render(order: RenderOrderDto) -> Result<RenderJobDto, AppError> {
    super::respond(async move {
        let engine = super::engine()?;
        let job = engine.queue_render(&(&order).into()).await?;
        Ok(
            factory::render::jobs::get(&mut *engine.conn().await?, job.id)
                .await?
                .into(),
        )
    })
    .await
}

/// The scene's render jobs, newest first.
#[server(endpoint = "renders/list")]
pub async fn scene_renders(scene_id: i64) -> Result<Vec<RenderJobDto>, AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        let rows = factory::render::jobs::of_scene(&mut conn, scene_id, 50).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    })
    .await
}

#[server(endpoint = "renders/cancel")]
pub async fn cancel_render(id: i64) -> Result<(), AppError> {
    super::respond(async move {
        let engine = super::engine()?;
        factory::render::jobs::get(&mut *engine.conn().await?, id).await?;
        engine.cancel_job(id).await?;
        Ok(())
    })
    .await
}
