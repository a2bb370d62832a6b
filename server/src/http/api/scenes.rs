//! `/api/v1/scenes`: a project's scenes (models placed with transforms, lights, cameras) made,
//! read, replaced and deleted, and exported as one GLB. A scene naming a model that is not one
//! of the project's 3D assets is refused with the node's JSON pointer.

use app::dto::{SceneDto, SceneGraph, SceneSummaryDto};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use factory::scenes::store;
use factory::Engine;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::attachment;
use super::problem::{ApiResult, Body, Id, Params, Problem};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    project_id: i64,
}

#[utoipa::path(get, path = "/api/v1/scenes", tag = "scenes", params(ListQuery),
    responses((status = 200, description = "The project's scenes, most recently changed first",
        body = [SceneSummaryDto]), (status = 401, body = Problem)))]
pub async fn list(
    State(engine): State<Engine>,
    Params(query): Params<ListQuery>,
) -> ApiResult<Json<Vec<SceneSummaryDto>>> {
    let rows = store::list(&mut *engine.conn().await?, query.project_id).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewScene {
    project_id: i64,
    scene: SceneGraph,
}

#[utoipa::path(post, path = "/api/v1/scenes", tag = "scenes", request_body = NewScene,
    responses((status = 201, body = SceneDto),
        (status = 404, description = "No such project", body = Problem),
        (status = 422, description = "The scene has problems: `errors` gives each with its JSON pointer into `scene` (a model that is not one of the project's assets, two nodes of one name, a parent loop ...)", body = Problem)))]
pub async fn create(
    State(engine): State<Engine>,
    Body(new): Body<NewScene>,
) -> ApiResult<(StatusCode, Json<SceneDto>)> {
    let mut conn = engine.conn().await?;
    let saved = store::create(&mut conn, new.project_id, (&new.scene).into()).await?;
    Ok((StatusCode::CREATED, Json(saved.into())))
}

#[utoipa::path(get, path = "/api/v1/scenes/{id}", tag = "scenes",
    params(("id" = i64, Path, description = "The scene's id")),
    responses((status = 200, body = SceneDto), (status = 404, body = Problem)))]
pub async fn get(State(engine): State<Engine>, Id(id): Id) -> ApiResult<Json<SceneDto>> {
    Ok(Json(
        store::get(&mut *engine.conn().await?, id).await?.into(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SceneChange {
    /// The revision the change is based on: refused (409) when the scene was saved since.
    /// Left out, the change replaces whatever is stored.
    revision: Option<i32>,
    scene: SceneGraph,
}

#[utoipa::path(put, path = "/api/v1/scenes/{id}", tag = "scenes",
    params(("id" = i64, Path, description = "The scene's id")), request_body = SceneChange,
    responses((status = 200, body = SceneDto, description = "Replaced; the revision moved on"),
        (status = 404, body = Problem),
        (status = 409, description = "Saved elsewhere since `revision`", body = Problem),
        (status = 422, body = Problem)))]
pub async fn update(
    State(engine): State<Engine>,
    Id(id): Id,
    Body(change): Body<SceneChange>,
) -> ApiResult<Json<SceneDto>> {
    let mut conn = engine.conn().await?;
    let saved = store::update(&mut conn, id, (&change.scene).into(), change.revision).await?;
    Ok(Json(saved.into()))
}

#[utoipa::path(delete, path = "/api/v1/scenes/{id}", tag = "scenes",
    params(("id" = i64, Path, description = "The scene's id")),
    responses((status = 204, description = "Deleted (its renders stay in the gallery)"),
        (status = 404, body = Problem)))]
pub async fn delete(State(engine): State<Engine>, Id(id): Id) -> ApiResult<StatusCode> {
    store::delete(&mut *engine.conn().await?, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/scenes/{id}/export.glb", tag = "scenes",
    params(("id" = i64, Path, description = "The scene's id")),
    responses((status = 200, description = "The scene as one GLB: its models merged, lights as KHR_lights_punctual, cameras as glTF cameras",
        content_type = "model/gltf-binary", body = Vec<u8>), (status = 404, body = Problem)))]
pub async fn export(State(engine): State<Engine>, Id(id): Id) -> ApiResult<Response> {
    let (name, glb) = engine.export_scene(id).await?;
    Ok(attachment("model/gltf-binary", &name, "scene", "glb", glb))
}
