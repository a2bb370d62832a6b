//! `/api/v1/renderjobs`: render a scene with an engine (a job in the durable queue), follow it,
//! cancel it; `/api/v1/renderengines`: which engines this server has.

use app::dto::{RenderEngineDto, RenderJobDto, RenderOrderDto};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use factory::render::jobs;
use factory::Engine;

use super::problem::{ApiResult, Body, Id, Problem};

#[utoipa::path(get, path = "/api/v1/renderengines", tag = "renders",
    responses((status = 200, description = "Each engine, whether it can render here, and if not how to install it",
        body = [RenderEngineDto])))]
pub async fn engines(State(engine): State<Engine>) -> Json<Vec<RenderEngineDto>> {
    Json(
        engine
            .render_engines()
            .into_iter()
            .map(Into::into)
            .collect(),
    )
}

#[utoipa::path(post, path = "/api/v1/renderjobs", tag = "renders", request_body = RenderOrderDto,
    responses((status = 202, body = RenderJobDto, description = "Queued; follow it at /api/v1/renderjobs/{id}"),
        (status = 404, description = "No such scene", body = Problem),
        (status = 422, description = "A camera the scene lacks, a size, format or sample count the engine does not take, or an engine that is not installed (with how to install it)", body = Problem)))]
pub async fn create(
    State(engine): State<Engine>,
    Body(order): Body<RenderOrderDto>,
) -> ApiResult<(StatusCode, Json<RenderJobDto>)> {
    let job = engine.queue_render(&(&order).into()).await?;
    let render = jobs::get(&mut *engine.conn().await?, job.id).await?;
    Ok((StatusCode::ACCEPTED, Json(render.into())))
}

#[utoipa::path(get, path = "/api/v1/renderjobs/{id}", tag = "renders",
    params(("id" = i64, Path, description = "The render job's id")),
    responses((status = 200, body = RenderJobDto, description = "Its state and progress, and once done the URLs of its pictures"),
        (status = 404, body = Problem)))]
pub async fn get(State(engine): State<Engine>, Id(id): Id) -> ApiResult<Json<RenderJobDto>> {
    Ok(Json(
        jobs::get(&mut *engine.conn().await?, id).await?.into(),
    ))
}

#[utoipa::path(post, path = "/api/v1/renderjobs/{id}/cancel", tag = "renders",
    params(("id" = i64, Path, description = "The render job's id")),
    responses((status = 200, body = RenderJobDto, description = "Cancelled, or asked to stop: a running engine is stopped (Blender's processes killed)"),
        (status = 404, body = Problem), (status = 409, description = "Already finished", body = Problem)))]
pub async fn cancel(State(engine): State<Engine>, Id(id): Id) -> ApiResult<Json<RenderJobDto>> {
    // Only a render job is cancelled here.
    jobs::get(&mut *engine.conn().await?, id).await?;
    engine.cancel_job(id).await?;
    Ok(Json(
        jobs::get(&mut *engine.conn().await?, id).await?.into(),
    ))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SceneQuery {
    scene_id: i64,
}

#[utoipa::path(get, path = "/api/v1/renderjobs", tag = "renders", params(SceneQuery),
    responses((status = 200, body = [RenderJobDto], description = "The scene's render jobs, newest first (at most 100)")))]
pub async fn list(
    State(engine): State<Engine>,
    super::problem::Params(query): super::problem::Params<SceneQuery>,
) -> ApiResult<Json<Vec<RenderJobDto>>> {
    let rows = jobs::of_scene(&mut *engine.conn().await?, query.scene_id, 100).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}
