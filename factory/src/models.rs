//! Models a provider describes on request (any Replicate model by reference), kept in the
//! database: the Generate form offers them again, a launch validates against them, and a
//! restart does not ask the provider twice.
//!
//! A reference pinned to a version is described once (a version never changes). An unpinned
//! one (`owner/name`) is pinned to the latest version when described, and described afresh
//! after [`FRESH_FOR`], so a new version shows up within the hour.

use chrono::{DateTime, Utc};
use diesel::sql_types::{Jsonb, Text, Timestamptz};
use diesel::{sql_query, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;

use crate::db::DbError;
use crate::providers::{ModelInfo, ProviderError, Providers};

/// How long an unpinned reference's description is reused.
pub const FRESH_FOR: chrono::Duration = chrono::Duration::hours(1);
/// The longest reference accepted.
const MAX_REFERENCE: usize = 300;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("There is no provider “{0}” set up. Add its key on the Settings page first.")]
    UnknownProvider(String),
    #[error("Type a model reference first (owner/name, or owner/name:version).")]
    Empty,
    #[error("Model references are at most {MAX_REFERENCE} characters.")]
    TooLong,
    #[error("{0}")]
    Provider(ProviderError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for ModelError {
    fn from(e: diesel::result::Error) -> Self {
        ModelError::Db(e.into())
    }
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Jsonb)]
    info: Value,
    #[diesel(sql_type = Timestamptz)]
    fetched_at: DateTime<Utc>,
}

fn parse(row: Row) -> Option<(ModelInfo, DateTime<Utc>)> {
    Some((serde_json::from_value(row.info).ok()?, row.fetched_at))
}

/// The model `reference` names at `provider`: one the provider lists, one described before, or
/// one the provider describes now (and is kept).
pub async fn describe(
    conn: &mut AsyncPgConnection,
    providers: &Providers,
    provider: &str,
    reference: &str,
) -> Result<ModelInfo, ModelError> {
    let reference = reference.trim();
    if reference.is_empty() {
        return Err(ModelError::Empty);
    }
    if reference.len() > MAX_REFERENCE {
        return Err(ModelError::TooLong);
    }
    let live = providers
        .get(provider)
        .ok_or_else(|| ModelError::UnknownProvider(provider.to_string()))?;
    if let Some(listed) = live.info().model(reference) {
        return Ok(listed.clone());
    }
    let kept: Option<Row> = sql_query(
        "SELECT info, fetched_at FROM provider_models
         WHERE provider = $1 AND (id = $2 OR reference = $2)
         ORDER BY (id = $2) DESC, fetched_at DESC LIMIT 1",
    )
    .bind::<Text, _>(provider)
    .bind::<Text, _>(reference)
    .get_result(conn)
    .await
    .map(Some)
    .or_else(|e| match e {
        diesel::result::Error::NotFound => Ok(None),
        e => Err(e),
    })?;
    if let Some((info, fetched_at)) = kept.and_then(parse) {
        if info.id == reference || Utc::now() - fetched_at < FRESH_FOR {
            return Ok(info);
        }
    }
    let info = live
        .describe_model(reference)
        .await
        .map_err(ModelError::Provider)?;
    let stored = serde_json::to_value(&info).expect("a model serialises");
    sql_query(
        "INSERT INTO provider_models (provider, id, reference, info) VALUES ($1, $2, $3, $4)
         ON CONFLICT (provider, id) DO UPDATE SET reference = EXCLUDED.reference,
             info = EXCLUDED.info, fetched_at = now()",
    )
    .bind::<Text, _>(provider)
    .bind::<Text, _>(&info.id)
    .bind::<Text, _>(reference)
    .bind::<Jsonb, _>(&stored)
    .execute(conn)
    .await?;
    Ok(info)
}

/// A model described before, by the id jobs are sent with.
pub async fn find(
    conn: &mut AsyncPgConnection,
    provider: &str,
    id: &str,
) -> Result<Option<ModelInfo>, DbError> {
    let rows: Vec<Row> =
        sql_query("SELECT info, fetched_at FROM provider_models WHERE provider = $1 AND id = $2")
            .bind::<Text, _>(provider)
            .bind::<Text, _>(id)
            .load(conn)
            .await?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(parse)
        .map(|(info, _)| info))
}

/// Every model described for `provider`, newest first.
pub async fn list(conn: &mut AsyncPgConnection, provider: &str) -> Result<Vec<ModelInfo>, DbError> {
    let rows: Vec<Row> = sql_query(
        "SELECT info, fetched_at FROM provider_models WHERE provider = $1
         ORDER BY fetched_at DESC LIMIT 200",
    )
    .bind::<Text, _>(provider)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(parse)
        .map(|(info, _)| info)
        .collect())
}
