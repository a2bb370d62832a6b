//! `/api/v1/characters`: make (one, or a party) from a seed and locks, list and search a
//! project's, read, make again (reroll or changed locks), duplicate, delete; queue and list
//! portraits; download the sheet as PDF or JSON.

use app::dto::{
    CharacterDto, CharacterLocks, CharacterSheet, CharacterSummaryDto, PortraitOrderDto,
    PortraitsDto, QueuedPortraitDto,
};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use factory::characters::{store, Locks};
use factory::Engine;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::attachment;
use super::problem::{ApiResult, Body, Id, Params, Problem};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    project_id: i64,
    /// Only characters whose name holds this (any case).
    search: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/characters", tag = "characters", params(ListQuery),
    responses((status = 200, description = "The project's characters, newest first (at most 200)",
        body = [CharacterSummaryDto]), (status = 401, body = Problem)))]
pub async fn list(
    State(engine): State<Engine>,
    Params(query): Params<ListQuery>,
) -> ApiResult<Json<Vec<CharacterSummaryDto>>> {
    let mut conn = engine.conn().await?;
    let rows = store::list(&mut conn, query.project_id, query.search.as_deref(), 200).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCharacter {
    project_id: i64,
    /// 0 to 2^53 − 1; a new one when left out. The same seed and locks make the same character.
    seed: Option<u64>,
    #[serde(default)]
    locks: CharacterLocks,
}

#[utoipa::path(post, path = "/api/v1/characters", tag = "characters", request_body = NewCharacter,
    responses((status = 201, body = CharacterDto),
        (status = 404, description = "No such project", body = Problem),
        (status = 422, description = "A lock or seed the generator cannot use", body = Problem)))]
pub async fn create(
    State(engine): State<Engine>,
    Body(new): Body<NewCharacter>,
) -> ApiResult<(StatusCode, Json<CharacterDto>)> {
    let mut conn = engine.conn().await?;
    let made = store::create(
        &mut conn,
        new.project_id,
        new.seed,
        &Locks::from(&new.locks),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(made.into())))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewParty {
    project_id: i64,
    seed: Option<u64>,
    /// 1 to 12: distinct classes, with a healer and a front line from 2 up.
    size: usize,
    /// Applied to every member (a class lock is not: the party chooses its classes).
    #[serde(default)]
    locks: CharacterLocks,
}

#[utoipa::path(post, path = "/api/v1/characters/party", tag = "characters", request_body = NewParty,
    responses((status = 201, body = [CharacterDto]), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn party(
    State(engine): State<Engine>,
    Body(new): Body<NewParty>,
) -> ApiResult<(StatusCode, Json<Vec<CharacterDto>>)> {
    let mut conn = engine.conn().await?;
    let locks = Locks::from(&new.locks);
    let made = store::create_party(&mut conn, new.project_id, new.seed, new.size, &locks).await?;
    Ok((
        StatusCode::CREATED,
        Json(made.into_iter().map(Into::into).collect()),
    ))
}

#[utoipa::path(get, path = "/api/v1/characters/{id}", tag = "characters",
    params(("id" = i64, Path, description = "The character's id")),
    responses((status = 200, body = CharacterDto), (status = 404, body = Problem)))]
pub async fn get(State(engine): State<Engine>, Id(id): Id) -> ApiResult<Json<CharacterDto>> {
    Ok(Json(
        store::get(&mut *engine.conn().await?, id).await?.into(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Regenerate {
    /// The seed to make it from: the same one with changed locks, or a new one (a reroll; a
    /// random one when left out).
    seed: Option<u64>,
    #[serde(default)]
    locks: CharacterLocks,
}

#[utoipa::path(post, path = "/api/v1/characters/{id}/regenerate", tag = "characters",
    params(("id" = i64, Path, description = "The character's id")), request_body = Regenerate,
    responses((status = 200, body = CharacterDto), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn regenerate(
    State(engine): State<Engine>,
    Id(id): Id,
    Body(change): Body<Regenerate>,
) -> ApiResult<Json<CharacterDto>> {
    let seed = change.seed.unwrap_or_else(store::new_seed);
    let mut conn = engine.conn().await?;
    let made = store::regenerate(&mut conn, id, seed, &Locks::from(&change.locks)).await?;
    Ok(Json(made.into()))
}

#[utoipa::path(post, path = "/api/v1/characters/{id}/duplicate", tag = "characters",
    params(("id" = i64, Path, description = "The character's id")),
    responses((status = 201, body = CharacterDto), (status = 404, body = Problem)))]
pub async fn duplicate(
    State(engine): State<Engine>,
    Id(id): Id,
) -> ApiResult<(StatusCode, Json<CharacterDto>)> {
    let copy = store::duplicate(&mut *engine.conn().await?, id).await?;
    Ok((StatusCode::CREATED, Json(copy.into())))
}

#[utoipa::path(delete, path = "/api/v1/characters/{id}", tag = "characters",
    params(("id" = i64, Path, description = "The character's id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem)))]
pub async fn delete(State(engine): State<Engine>, Id(id): Id) -> ApiResult<StatusCode> {
    store::delete(&mut *engine.conn().await?, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/characters/{id}/portrait", tag = "characters",
    params(("id" = i64, Path, description = "The character's id")), request_body = PortraitOrderDto,
    responses((status = 201, description = "Queued through the ordinary queue; the picture becomes a product linked to the character",
            body = QueuedPortraitDto),
        (status = 404, body = Problem),
        (status = 422, description = "A style, provider or model that cannot be used", body = Problem)))]
pub async fn portrait(
    State(engine): State<Engine>,
    Id(id): Id,
    Body(order): Body<PortraitOrderDto>,
) -> ApiResult<(StatusCode, Json<QueuedPortraitDto>)> {
    let queued = engine.queue_portrait(id, &order.into()).await?;
    Ok((StatusCode::CREATED, Json(queued.into())))
}

#[utoipa::path(get, path = "/api/v1/characters/{id}/portraits", tag = "characters",
    params(("id" = i64, Path, description = "The character's id")),
    responses((status = 200, description = "Its portraits, newest first, and the built-in styles",
        body = PortraitsDto)))]
pub async fn portraits(State(engine): State<Engine>, Id(id): Id) -> ApiResult<Json<PortraitsDto>> {
    let listed = factory::characters::portraits::list(&mut *engine.conn().await?, id).await?;
    Ok(Json(PortraitsDto {
        styles: app::dto::portraits::styles(),
        portraits: listed.into_iter().map(Into::into).collect(),
    }))
}

/// `name.ext` for a download: the name's letters and digits, words joined by hyphens.
#[utoipa::path(get, path = "/api/v1/characters/{id}/sheet.pdf", tag = "characters",
    params(("id" = i64, Path, description = "The character's id")),
    responses((status = 200, description = "The sheet as a PDF (A4, embedded font, the newest portrait when there is one)",
        content_type = "application/pdf", body = Vec<u8>), (status = 404, body = Problem)))]
pub async fn sheet_pdf(State(engine): State<Engine>, Id(id): Id) -> ApiResult<Response> {
    let (name, pdf) = engine.character_pdf(id).await?;
    Ok(attachment(
        "application/pdf",
        &name,
        "character",
        "pdf",
        pdf,
    ))
}

#[utoipa::path(get, path = "/api/v1/characters/{id}/sheet.json", tag = "characters",
    params(("id" = i64, Path, description = "The character's id")),
    responses((status = 200, description = "The sheet exactly as the generator made it, as a file",
        body = CharacterSheet), (status = 404, body = Problem)))]
pub async fn sheet_json(State(engine): State<Engine>, Id(id): Id) -> ApiResult<Response> {
    let saved = store::get(&mut *engine.conn().await?, id).await?;
    let body = serde_json::to_vec_pretty(&saved.sheet).expect("sheets serialise");
    Ok(attachment(
        "application/json",
        &saved.sheet.name,
        "character",
        "json",
        body,
    ))
}
