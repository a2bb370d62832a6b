//! `/api/v1/projects`: list, create, read, change, delete.

use app::dto::ProjectDto;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use factory::projects::{self, Description, Listing, ProjectName};
use factory::Engine;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::problem::{ApiResult, Body, Id, Params, Problem};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// The archived projects instead of the active ones.
    #[serde(default)]
    archived: bool,
}

#[utoipa::path(get, path = "/api/v1/projects", tag = "projects", params(ListQuery),
    responses((status = 200, description = "The projects, by name", body = [ProjectDto]),
        (status = 401, body = Problem)))]
pub async fn list(
    State(engine): State<Engine>,
    Params(query): Params<ListQuery>,
) -> ApiResult<Json<Vec<ProjectDto>>> {
    let listing = match query.archived {
        true => Listing::Archived,
        false => Listing::Active,
    };
    let rows = projects::list(&mut *engine.conn().await?, listing).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    /// Unique among projects.
    name: String,
    #[serde(default)]
    description: String,
}

#[utoipa::path(post, path = "/api/v1/projects", tag = "projects", request_body = NewProject,
    responses((status = 201, body = ProjectDto),
        (status = 422, description = "A wrong or taken name", body = Problem)))]
pub async fn create(
    State(engine): State<Engine>,
    Body(new): Body<NewProject>,
) -> ApiResult<(StatusCode, Json<ProjectDto>)> {
    let name = ProjectName::parse(&new.name)?;
    let description = Description::parse(&new.description)?;
    let project = projects::create(&mut *engine.conn().await?, &name, &description).await?;
    Ok((StatusCode::CREATED, Json(project.into())))
}

#[utoipa::path(get, path = "/api/v1/projects/{id}", tag = "projects",
    params(("id" = i64, Path, description = "The project's id")),
    responses((status = 200, body = ProjectDto), (status = 404, body = Problem)))]
pub async fn get(State(engine): State<Engine>, Id(id): Id) -> ApiResult<Json<ProjectDto>> {
    let project = projects::get(&mut *engine.conn().await?, id).await?;
    Ok(Json(project.into()))
}

/// What to change; fields left out stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectChanges {
    name: Option<String>,
    description: Option<String>,
    archived: Option<bool>,
}

#[utoipa::path(patch, path = "/api/v1/projects/{id}", tag = "projects",
    params(("id" = i64, Path, description = "The project's id")), request_body = ProjectChanges,
    responses((status = 200, body = ProjectDto), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn update(
    State(engine): State<Engine>,
    Id(id): Id,
    Body(changes): Body<ProjectChanges>,
) -> ApiResult<Json<ProjectDto>> {
    // Everything is checked before anything is written.
    let name = changes
        .name
        .as_deref()
        .map(ProjectName::parse)
        .transpose()?;
    let description = changes
        .description
        .as_deref()
        .map(Description::parse)
        .transpose()?;
    let mut conn = engine.conn().await?;
    let mut project = projects::get(&mut conn, id).await?;
    if let Some(name) = &name {
        project = projects::rename(&mut conn, id, name).await?;
    }
    if let Some(description) = &description {
        project = projects::set_description(&mut conn, id, description).await?;
    }
    if let Some(archived) = changes.archived {
        project = projects::set_archived(&mut conn, id, archived).await?;
    }
    Ok(Json(project.into()))
}

#[utoipa::path(delete, path = "/api/v1/projects/{id}", tag = "projects",
    params(("id" = i64, Path, description = "The project's id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem),
        (status = 409, description = "The project still has work in it", body = Problem)))]
pub async fn delete(State(engine): State<Engine>, Id(id): Id) -> ApiResult<StatusCode> {
    projects::delete(&mut *engine.conn().await?, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
