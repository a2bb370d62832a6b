//! Project server functions: thin wrappers over `factory::projects`.

use leptos::prelude::*;

use crate::dto::ProjectDto;
use crate::error::AppError;

#[cfg(feature = "ssr")]
use factory::projects::{self, Description, Listing, ProjectName};

#[server(endpoint = "projects/list")]
pub async fn list_projects(archived: bool) -> Result<Vec<ProjectDto>, AppError> {
    super::respond(async move {
        let listing = if archived {
            Listing::Archived
        } else {
            Listing::Active
        };
        let mut conn = super::engine()?.conn().await?;
        let rows = projects::list(&mut conn, listing).await?;
        Ok(rows.into_iter().map(ProjectDto::from).collect())
    })
    .await
}

#[server(endpoint = "projects/create")]
pub async fn create_project(name: String, description: String) -> Result<ProjectDto, AppError> {
    super::respond(async move {
        let name = ProjectName::parse(&name)?;
        let description = Description::parse(&description)?;
        let mut conn = super::engine()?.conn().await?;
        Ok(projects::create(&mut conn, &name, &description)
            .await?
            .into())
    })
    .await
}

#[server(endpoint = "projects/rename")]
pub async fn rename_project(id: i64, name: String) -> Result<ProjectDto, AppError> {
    super::respond(async move {
        let name = ProjectName::parse(&name)?;
        let mut conn = super::engine()?.conn().await?;
        Ok(projects::rename(&mut conn, id, &name).await?.into())
    })
    .await
}

#[server(endpoint = "projects/describe")]
pub async fn update_project_description(
    id: i64,
    description: String,
) -> Result<ProjectDto, AppError> {
    super::respond(async move {
        let description = Description::parse(&description)?;
        let mut conn = super::engine()?.conn().await?;
        Ok(projects::set_description(&mut conn, id, &description)
            .await?
            .into())
    })
    .await
}

#[server(endpoint = "projects/archive")]
pub async fn set_project_archived(id: i64, archived: bool) -> Result<ProjectDto, AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        Ok(projects::set_archived(&mut conn, id, archived)
            .await?
            .into())
    })
    .await
}

#[server(endpoint = "projects/delete")]
pub async fn delete_project(id: i64) -> Result<(), AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        Ok(projects::delete(&mut conn, id).await?)
    })
    .await
}
