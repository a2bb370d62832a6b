//! Character server functions: thin wrappers over `factory::characters::store`.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::dto::{
    CharacterDto, CharacterLocks, CharacterSummaryDto, PortraitOrderDto, PortraitsDto,
    QueuedPortraitDto,
};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use factory::characters::{store, Locks};

/// A project's characters, newest first; `search` keeps those whose name holds it.
#[server(endpoint = "characters/list")]
pub async fn list_characters(
    project_id: i64,
    search: Option<String>,
) -> Result<Vec<CharacterSummaryDto>, AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        let rows = store::list(&mut conn, project_id, search.as_deref(), 200).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    })
    .await
}

/// A new character from `seed` (a new seed when empty) with `locks`.
#[server(endpoint = "characters/create", input = Json)]
pub async fn create_character(
    project_id: i64,
    seed: Option<u64>,
    locks: CharacterLocks,
) -> Result<CharacterDto, AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        Ok(
            store::create(&mut conn, project_id, seed, &Locks::from(&locks))
                .await?
                .into(),
        )
    })
    .await
}

/// A party of `size` from `seed` (a new seed when empty): distinct classes, a healer and a
/// front line; `locks` apply to every member.
#[server(endpoint = "characters/party", input = Json)]
pub async fn create_party(
    project_id: i64,
    seed: Option<u64>,
    size: usize,
    locks: CharacterLocks,
) -> Result<Vec<CharacterDto>, AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        let party =
            store::create_party(&mut conn, project_id, seed, size, &Locks::from(&locks)).await?;
        Ok(party.into_iter().map(Into::into).collect())
    })
    .await
}

#[server(endpoint = "characters/get")]
pub async fn get_character(id: i64) -> Result<CharacterDto, AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        Ok(store::get(&mut conn, id).await?.into())
    })
    .await
}

/// Makes the character again: with `seed` (a new seed when empty: a reroll) and `locks`.
#[server(endpoint = "characters/regenerate", input = Json)]
pub async fn regenerate_character(
    id: i64,
    seed: Option<u64>,
    locks: CharacterLocks,
) -> Result<CharacterDto, AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        let seed = seed.unwrap_or_else(store::new_seed);
        Ok(store::regenerate(&mut conn, id, seed, &Locks::from(&locks))
            .await?
            .into())
    })
    .await
}

#[server(endpoint = "characters/duplicate")]
pub async fn duplicate_character(id: i64) -> Result<CharacterDto, AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        Ok(store::duplicate(&mut conn, id).await?.into())
    })
    .await
}

#[server(endpoint = "characters/delete")]
pub async fn delete_character(id: i64) -> Result<(), AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        Ok(store::delete(&mut conn, id).await?)
    })
    .await
}

/// Queues a portrait of the character through the ordinary queue.
#[server(endpoint = "characters/portrait", input = Json)]
pub async fn queue_portrait(
    id: i64,
    order: PortraitOrderDto,
) -> Result<QueuedPortraitDto, AppError> {
    super::respond(async move {
        Ok(super::engine()?
            .queue_portrait(id, &order.into())
            .await?
            .into())
    })
    .await
}

/// The character's portraits, newest first, and the built-in styles.
#[server(endpoint = "characters/portraits")]
pub async fn character_portraits(id: i64) -> Result<PortraitsDto, AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        let portraits = factory::characters::portraits::list(&mut conn, id).await?;
        Ok(PortraitsDto {
            styles: crate::dto::portraits::styles(),
            portraits: portraits.into_iter().map(Into::into).collect(),
        })
    })
    .await
}
