//! Models picked from a provider's catalog for a project (Civitai checkpoints and LoRAs), so the
//! model browser offers them first the next time. Picking one again moves it to the top.

use diesel::sql_types::{BigInt, Jsonb, Nullable, Text};
use diesel::{sql_query, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use crate::db::DbError;
use crate::providers::civitai::air::Air;
use crate::providers::civitai::catalog::ModelKind;

/// How many picks a project keeps (older ones are forgotten).
pub const KEPT: i64 = 50;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pick {
    pub provider: String,
    pub air: String,
    pub kind: ModelKind,
    pub name: String,
    pub base_model: String,
    pub preview_url: Option<String>,
    pub trained_words: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PickError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for PickError {
    fn from(e: diesel::result::Error) -> Self {
        PickError::Db(e.into())
    }
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    provider: String,
    #[diesel(sql_type = Text)]
    air: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    base_model: String,
    #[diesel(sql_type = Nullable<Text>)]
    preview_url: Option<String>,
    #[diesel(sql_type = Jsonb)]
    trained_words: serde_json::Value,
}

fn kind_text(kind: ModelKind) -> &'static str {
    match kind {
        ModelKind::Checkpoint => "checkpoint",
        ModelKind::Lora => "lora",
    }
}

/// Remembers `pick` for the project (checked: a real AIR of the kind it claims).
pub async fn remember(
    conn: &mut AsyncPgConnection,
    project_id: i64,
    pick: &Pick,
) -> Result<(), PickError> {
    let air = Air::parse(&pick.air).map_err(PickError::Invalid)?;
    let is_lora = air.is_network();
    if is_lora != (pick.kind == ModelKind::Lora) {
        return Err(PickError::Invalid(format!(
            "{} is a {}, not a {}.",
            pick.air,
            air.kind,
            kind_text(pick.kind)
        )));
    }
    let short = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    let words: Vec<String> = pick
        .trained_words
        .iter()
        .take(10)
        .map(|w| short(w, 100))
        .collect();
    sql_query(
        "INSERT INTO project_picks (project_id, provider, air, kind, name, base_model, preview_url, trained_words, picked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, clock_timestamp())
         ON CONFLICT (project_id, provider, air) DO UPDATE SET name = EXCLUDED.name,
             base_model = EXCLUDED.base_model, preview_url = EXCLUDED.preview_url,
             trained_words = EXCLUDED.trained_words, picked_at = clock_timestamp()",
    )
    .bind::<BigInt, _>(project_id)
    .bind::<Text, _>(&pick.provider)
    .bind::<Text, _>(air.to_string())
    .bind::<Text, _>(kind_text(pick.kind))
    .bind::<Text, _>(short(&pick.name, 200))
    .bind::<Text, _>(short(&pick.base_model, 50))
    .bind::<Nullable<Text>, _>(pick.preview_url.as_deref().map(|u| short(u, 2000)))
    .bind::<Jsonb, _>(serde_json::json!(words))
    .execute(conn)
    .await?;
    sql_query(
        "DELETE FROM project_picks WHERE project_id = $1 AND (provider, air) NOT IN (
             SELECT provider, air FROM project_picks WHERE project_id = $1
             ORDER BY picked_at DESC LIMIT $2)",
    )
    .bind::<BigInt, _>(project_id)
    .bind::<BigInt, _>(KEPT)
    .execute(conn)
    .await?;
    Ok(())
}

/// The project's picks, most recent first.
pub async fn list(conn: &mut AsyncPgConnection, project_id: i64) -> Result<Vec<Pick>, DbError> {
    let rows: Vec<Row> = sql_query(
        "SELECT provider, air, kind, name, base_model, preview_url, trained_words
         FROM project_picks WHERE project_id = $1 ORDER BY picked_at DESC LIMIT $2",
    )
    .bind::<BigInt, _>(project_id)
    .bind::<BigInt, _>(KEPT)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Pick {
            provider: r.provider,
            air: r.air,
            kind: if r.kind == "lora" {
                ModelKind::Lora
            } else {
                ModelKind::Checkpoint
            },
            name: r.name,
            base_model: r.base_model,
            preview_url: r.preview_url,
            trained_words: serde_json::from_value(r.trained_words).unwrap_or_default(),
        })
        .collect())
}
