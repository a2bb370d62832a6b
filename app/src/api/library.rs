//! Wildcard lists and templates: server functions for the person's reusable material.

use leptos::prelude::*;

use crate::dto::{TemplateDto, TemplateForm, WildcardDto};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use factory::library::{templates, wildcards, Scope};

/// The global lists, and with a project, that project's lists too.
#[server(endpoint = "wildcards/list")]
pub async fn list_wildcards(project_id: Option<i64>) -> Result<Vec<WildcardDto>, AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        let mut lists = wildcards::list(&mut conn, Scope::Global).await?;
        if let Some(id) = project_id {
            lists.extend(wildcards::list(&mut conn, Scope::Project(id)).await?);
        }
        Ok(lists.into_iter().map(Into::into).collect())
    })
    .await
}

/// Creates a list (no `id`) or replaces one's name and values. `values` is text, one value per
/// line, `#` comments and blank lines ignored: what the editor shows and what a `.txt` import
/// sends.
#[server(endpoint = "wildcards/save")]
pub async fn save_wildcard(
    id: Option<i64>,
    project_id: Option<i64>,
    name: String,
    values: String,
) -> Result<WildcardDto, AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        let parsed = wildcards::parse_values(&values);
        let saved = match id {
            Some(id) => wildcards::update(&mut conn, id, &name, parsed).await?,
            None => {
                wildcards::create(&mut conn, Scope::from_project(project_id), &name, parsed).await?
            }
        };
        Ok(saved.into())
    })
    .await
}

#[server(endpoint = "wildcards/delete")]
pub async fn delete_wildcard(id: i64) -> Result<(), AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        Ok(wildcards::delete(&mut conn, id).await?)
    })
    .await
}

/// Templates usable in the project (global ones too) whose name contains `query`.
#[server(endpoint = "templates/search")]
pub async fn search_templates(
    project_id: Option<i64>,
    query: String,
) -> Result<Vec<TemplateDto>, AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        let found = templates::search(&mut conn, project_id, &query).await?;
        Ok(found.into_iter().map(Into::into).collect())
    })
    .await
}

/// Saves the form as a new template, global or in `project_id`.
#[server(endpoint = "templates/create")]
pub async fn create_template(
    project_id: Option<i64>,
    name: String,
    form: TemplateForm,
) -> Result<TemplateDto, AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        let value = serde_json::to_value(&form).map_err(|e| AppError::Internal(e.to_string()))?;
        let created =
            templates::create(&mut conn, Scope::from_project(project_id), &name, &value).await?;
        Ok(created.into())
    })
    .await
}

#[server(endpoint = "templates/rename")]
pub async fn rename_template(id: i64, name: String) -> Result<TemplateDto, AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        Ok(templates::rename(&mut conn, id, &name).await?.into())
    })
    .await
}

#[server(endpoint = "templates/duplicate")]
pub async fn duplicate_template(id: i64) -> Result<TemplateDto, AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        Ok(templates::duplicate(&mut conn, id).await?.into())
    })
    .await
}

#[server(endpoint = "templates/delete")]
pub async fn delete_template(id: i64) -> Result<(), AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        Ok(templates::delete(&mut conn, id).await?)
    })
    .await
}
