//! API token server functions: list, make (the secret is in this one answer only), revoke.

use leptos::prelude::*;

use crate::dto::{ApiTokenDto, NewApiTokenDto, TokenScope};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use factory::auth::tokens::{self, TokenName};

#[server(endpoint = "tokens/list")]
pub async fn list_api_tokens() -> Result<Vec<ApiTokenDto>, AppError> {
    super::respond(async move {
        let rows = tokens::list(&mut *super::engine()?.conn().await?)
            .await
            .map_err(factory::db::DbError::from)?;
        Ok(rows.into_iter().map(Into::into).collect())
    })
    .await
}

#[server(endpoint = "tokens/create")]
pub async fn create_api_token(name: String, scope: TokenScope) -> Result<NewApiTokenDto, AppError> {
    super::respond(async move {
        let name = TokenName::parse(&name).map_err(|e| AppError::invalid("name", e))?;
        let made = tokens::create(&mut *super::engine()?.conn().await?, &name, scope.into())
            .await
            .map_err(factory::db::DbError::from)?;
        Ok(NewApiTokenDto {
            secret: made.expose().to_string(),
            token: made.token.into(),
        })
    })
    .await
}

#[server(endpoint = "tokens/revoke")]
pub async fn revoke_api_token(id: i64) -> Result<(), AppError> {
    super::respond(async move {
        match tokens::revoke(&mut *super::engine()?.conn().await?, id)
            .await
            .map_err(factory::db::DbError::from)?
        {
            true => Ok(()),
            false => Err(AppError::NotFound(format!(
                "There is no API token #{id}; it may have been revoked already."
            ))),
        }
    })
    .await
}
