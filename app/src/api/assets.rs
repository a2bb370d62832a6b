//! Asset server functions: thin wrappers over `factory::assets::store`. Uploads go to the REST
//! route (`POST /api/v1/assets`, a multipart form the browser sends as it is).

use leptos::prelude::*;

use crate::dto::AssetDto;
use crate::error::AppError;

#[cfg(feature = "ssr")]
use factory::assets::store;

/// A project's assets, newest first (at most 200).
#[server(endpoint = "assets/list")]
pub async fn list_assets(project_id: i64) -> Result<Vec<AssetDto>, AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        let rows = store::list(&mut conn, project_id, None, 200).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    })
    .await
}

#[server(endpoint = "assets/get")]
pub async fn get_asset(id: i64) -> Result<AssetDto, AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        Ok(store::get(&mut conn, id).await?.into())
    })
    .await
}
