//! Model browser server functions: Civitai's catalog searched through the engine, and the
//! models each project picked from it.

use leptos::prelude::*;

use crate::dto::{CatalogKind, CatalogPageDto, CatalogSort, PickDto};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use factory::providers::civitai::{self, catalog};

/// The base models the browser filters by.
#[cfg(feature = "ssr")]
fn base_model(text: Option<String>) -> Result<Option<String>, AppError> {
    match text.filter(|b| !b.is_empty()) {
        None => Ok(None),
        Some(b) if catalog::BASE_MODELS.contains(&b.as_str()) => Ok(Some(b)),
        Some(b) => Err(AppError::invalid(
            "base_model",
            format!(
                "“{b}” is not a base model the browser knows ({}).",
                catalog::BASE_MODELS.join(", ")
            ),
        )),
    }
}

#[server(endpoint = "catalog/search")]
pub async fn search_catalog(
    text: String,
    kind: CatalogKind,
    base: Option<String>,
    sort: CatalogSort,
    cursor: Option<String>,
) -> Result<CatalogPageDto, AppError> {
    super::respond(async move {
        let query = catalog::SearchQuery {
            text,
            kind: kind.into(),
            base_model: base_model(base)?,
            sort: match sort {
                CatalogSort::HighestRated => catalog::Sort::HighestRated,
                CatalogSort::MostDownloaded => catalog::Sort::MostDownloaded,
                CatalogSort::Newest => catalog::Sort::Newest,
            },
            cursor: cursor.filter(|c| !c.is_empty()),
        };
        let page = super::engine()?
            .civitai_catalog()
            .search(&query)
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(page.into())
    })
    .await
}

#[server(endpoint = "catalog/picks")]
pub async fn project_picks(project_id: i64) -> Result<Vec<PickDto>, AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        let picks = factory::picks::list(&mut conn, project_id).await?;
        Ok(picks.into_iter().map(Into::into).collect())
    })
    .await
}

#[server(endpoint = "catalog/remember")]
pub async fn remember_pick(project_id: i64, pick: PickDto) -> Result<(), AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        let pick = factory::picks::Pick {
            provider: civitai::ID.into(),
            air: pick.air,
            kind: pick.kind.into(),
            name: pick.name,
            base_model: pick.base_model,
            preview_url: pick.preview_url,
            trained_words: pick.trained_words,
        };
        Ok(factory::picks::remember(&mut conn, project_id, &pick).await?)
    })
    .await
}
