//! Gallery server functions: the view travels as its URL query string and is checked here;
//! each call is one engine call turned into small wire types.

use leptos::prelude::*;

use crate::dto::{GalleryOverviewDto, GalleryPageDto, GallerySummaryDto, TriageAction};
use crate::error::AppError;

#[cfg(feature = "ssr")]
fn view(query: &str) -> Result<factory::gallery::View, AppError> {
    crate::dto::GalleryQuery::parse(query)
        .and_then(|q| q.view())
        .map_err(|e| AppError::invalid("filter", e))
}

#[cfg(feature = "ssr")]
impl From<factory::gallery::GalleryError> for AppError {
    fn from(e: factory::gallery::GalleryError) -> Self {
        match e {
            factory::gallery::GalleryError::Filter(f) => AppError::invalid("filter", f.0),
            factory::gallery::GalleryError::Db(db) => db.into(),
        }
    }
}

#[server(endpoint = "gallery/overview")]
pub async fn gallery_overview(query: String) -> Result<GalleryOverviewDto, AppError> {
    super::respond(async move {
        let view = view(&query)?;
        Ok(super::engine()?.gallery_overview(&view).await?.into())
    })
    .await
}

/// The scrubber's months and the facet counts, up to the overview's snapshot.
#[server(endpoint = "gallery/summary")]
pub async fn gallery_summary(
    query: String,
    snapshot: Option<i64>,
) -> Result<GallerySummaryDto, AppError> {
    super::respond(async move {
        let view = view(&query)?;
        Ok(super::engine()?
            .gallery_summary(&view, snapshot)
            .await?
            .into())
    })
    .await
}

/// The page starting at `start` (a landmark from the overview), within its snapshot.
#[server(endpoint = "gallery/page")]
pub async fn gallery_page(
    query: String,
    start: Option<String>,
    snapshot: Option<i64>,
) -> Result<GalleryPageDto, AppError> {
    super::respond(async move {
        let view = view(&query)?;
        let page = super::engine()?
            .gallery_page(&view, start.as_deref(), snapshot, factory::gallery::PAGE)
            .await?;
        Ok(GalleryPageDto {
            next: page.next.map(|c| c.encode()),
            tiles: page.tiles.into_iter().map(Into::into).collect(),
        })
    })
    .await
}

/// Products newer than `snapshot` that match the view (the live top of the grid).
#[server(endpoint = "gallery/fresh")]
pub async fn gallery_fresh(
    query: String,
    snapshot: i64,
) -> Result<Vec<crate::dto::TileDto>, AppError> {
    super::respond(async move {
        let view = view(&query)?;
        let tiles = super::engine()?.gallery_fresh(&view, snapshot).await?;
        Ok(tiles.into_iter().map(Into::into).collect())
    })
    .await
}

/// Applies one triage action to the products; returns how many changed.
#[server(endpoint = "gallery/triage")]
pub async fn triage(ids: Vec<i64>, action: TriageAction) -> Result<usize, AppError> {
    super::respond(async move {
        use factory::gallery::triage::Change;
        let engine = super::engine()?;
        let change = match action {
            TriageAction::Tag(name) => return Ok(engine.tag_products(&ids, &name).await?),
            TriageAction::Untag(name) => return Ok(engine.untag_products(&ids, &name).await?),
            TriageAction::Rate(r) => Change::Rate(r),
            TriageAction::Favourite(on) => Change::Favourite(on),
            TriageAction::Reject(on) => Change::Reject(on),
            TriageAction::Trash(on) => Change::Trash(on),
            TriageAction::MoveTo(p) => Change::MoveTo(p),
        };
        Ok(engine.triage(&ids, &change).await?)
    })
    .await
}

#[server(endpoint = "gallery/tags/suggest")]
pub async fn suggest_tags(prefix: String) -> Result<Vec<(String, i64)>, AppError> {
    super::respond(async move {
        let tags = super::engine()?.suggest_tags(&prefix).await?;
        Ok(tags.into_iter().map(|t| (t.name, t.count)).collect())
    })
    .await
}

/// Remembers the person's gallery view for the next visit.
#[server(endpoint = "gallery/settings/save")]
pub async fn save_gallery_view(query: String) -> Result<(), AppError> {
    super::respond(async move {
        view(&query)?;
        Ok(super::engine()?.save_gallery_settings(&query).await?)
    })
    .await
}

#[server(endpoint = "gallery/settings")]
pub async fn last_gallery_view() -> Result<Option<String>, AppError> {
    super::respond(async move { Ok(super::engine()?.gallery_settings().await?) }).await
}

/// Every tag with how many products carry it.
#[server(endpoint = "gallery/tags")]
pub async fn list_tags() -> Result<Vec<(String, i64)>, AppError> {
    super::respond(async move {
        let tags = super::engine()?.list_tags().await?;
        Ok(tags.into_iter().map(|t| (t.name, t.count)).collect())
    })
    .await
}

/// Renames a tag everywhere; into an existing tag's name, the two merge.
#[server(endpoint = "gallery/tags/rename")]
pub async fn rename_tag(from: String, to: String) -> Result<(), AppError> {
    super::respond(async move { Ok(super::engine()?.rename_tag(&from, &to).await?) }).await
}
