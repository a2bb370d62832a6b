//! Portraits through the queue: a portrait is an ordinary one-picture batch (any provider, the
//! offline generator by default) whose prompt and seed come from [`super::portrait::request`],
//! linked to its character in `character_portraits`. Its pictures are ordinary products in the
//! gallery; the link lets the character page list them and a product name its character.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{BigInt, Jsonb, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::Map;

use super::portrait::{self, PortraitRequest, Variation};
use super::{store, CharacterError};
use crate::batches::{self, Batch, ItemLimits, LaunchError, LaunchRequest, SeedChoice};
use crate::jobs::{Job, JobState};
use crate::products::Product;
use crate::prompt::{self, Mode};
use crate::providers::Providers;
use crate::schema::products;

/// What to make: on which provider and model, in which style, with which words changed.
#[derive(Debug, Clone, Default)]
pub struct PortraitOrder {
    /// The offline generator when `None`.
    pub provider: Option<String>,
    /// The provider's first model when `None`.
    pub model: Option<String>,
    /// A built-in style's name, or a template (see [`portrait::style_template`]).
    pub style: Option<String>,
    pub variation: Variation,
}

#[derive(Debug, thiserror::Error)]
pub enum PortraitError {
    #[error(transparent)]
    Character(#[from] CharacterError),
    #[error(transparent)]
    Launch(#[from] LaunchError),
}

impl From<diesel::result::Error> for PortraitError {
    fn from(e: diesel::result::Error) -> Self {
        PortraitError::Character(e.into())
    }
}

/// A queued portrait: its batch, its job, and the request it was made from.
#[derive(Debug)]
pub struct Queued {
    pub batch: Batch,
    pub jobs: Vec<Job>,
    pub request: PortraitRequest,
}

/// Queues a portrait of character `id`: the batch and the link to the character in one
/// transaction, so there is never a portrait that belongs to no one.
pub async fn queue(
    conn: &mut AsyncPgConnection,
    providers: &Providers,
    limits: ItemLimits,
    max_attempts: i32,
    id: i64,
    order: &PortraitOrder,
) -> Result<Queued, PortraitError> {
    let saved = store::get(conn, id).await?;
    let style = portrait::style_template(order.style.as_deref());
    let request = portrait::request(&saved.sheet, &style, order.variation)?;
    let provider = order
        .provider
        .clone()
        .unwrap_or_else(|| crate::providers::local::ID.to_string());
    let model = match &order.model {
        Some(model) => model.clone(),
        None => providers
            .get(&provider)
            .and_then(|p| {
                <[_]>::first(&p.info().models).map(|m: &crate::providers::ModelInfo| m.id.clone())
            })
            .ok_or_else(|| {
                CharacterError::Invalid(format!(
                    "Choose a model for the portrait: “{provider}” lists none (or is not set up)."
                ))
            })?,
    };
    // The negative prompt goes only to models that say they take one.
    let takes_negative = providers
        .get(&provider)
        .and_then(|p| p.info().model(&model).map(|m| m.negative_prompt))
        .unwrap_or(false);
    let launch = LaunchRequest {
        project_id: saved.project_id,
        provider,
        model,
        // The words are the character's, not prompt syntax.
        prompt: prompt::escape(&request.prompt),
        negative_prompt: if takes_negative {
            request.negative_prompt.clone()
        } else {
            String::new()
        },
        params: Map::new(),
        count: 1,
        mode: Mode::Combinatorial,
        seed: SeedChoice::Fixed(request.seed as i64),
        confirmed: false,
        networks: Vec::new(),
        input_image: None,
        made_from: None,
    };
    let variation = serde_json::to_value(order.variation).expect("variations serialise");
    let (batch, jobs) = conn
        .transaction(async |conn| {
            let (batch, jobs, _) =
                batches::launch_priced(conn, providers, limits, max_attempts, &launch).await?;
            sql_query(
                "INSERT INTO character_portraits (batch_id, character_id, style, variation)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind::<BigInt, _>(batch.id)
            .bind::<BigInt, _>(id)
            .bind::<Text, _>(&style)
            .bind::<Jsonb, _>(&variation)
            .execute(conn)
            .await?;
            Ok::<_, PortraitError>((batch, jobs))
        })
        .await?;
    Ok(Queued {
        batch,
        jobs,
        request,
    })
}

/// One portrait of a character: its job's state and, once made, its picture.
#[derive(Debug, Clone, PartialEq)]
pub struct Portrait {
    pub batch_id: i64,
    pub style: String,
    pub variation: Variation,
    pub job_id: i64,
    pub state: JobState,
    pub error: Option<String>,
    /// The picture, once the job has made it (and while it is not in the trash).
    pub product: Option<Product>,
    pub created_at: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct PortraitRow {
    #[diesel(sql_type = BigInt)]
    batch_id: i64,
    #[diesel(sql_type = Text)]
    style: String,
    #[diesel(sql_type = Jsonb)]
    variation: serde_json::Value,
    #[diesel(sql_type = BigInt)]
    job_id: i64,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = Nullable<Text>)]
    error: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    product_id: Option<i64>,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
}

/// The portraits of character `id`, newest first (at most 60).
pub async fn list(conn: &mut AsyncPgConnection, id: i64) -> Result<Vec<Portrait>, CharacterError> {
    let rows: Vec<PortraitRow> = sql_query(
        "SELECT cp.batch_id, cp.style, cp.variation, j.id AS job_id, j.state, j.error,
                p.id AS product_id, cp.created_at
         FROM character_portraits cp
         JOIN jobs j ON j.batch_id = cp.batch_id
         LEFT JOIN products p ON p.job_id = j.id AND p.deleted_at IS NULL
         WHERE cp.character_id = $1
         ORDER BY cp.batch_id DESC, p.id
         LIMIT 60",
    )
    .bind::<BigInt, _>(id)
    .load(conn)
    .await?;
    let ids: Vec<i64> = rows.iter().filter_map(|r| r.product_id).collect();
    let mut pictures: HashMap<i64, Product> = products::table
        .filter(products::id.eq_any(&ids))
        .select(Product::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    Ok(rows
        .into_iter()
        .map(|r| Portrait {
            batch_id: r.batch_id,
            style: r.style,
            variation: serde_json::from_value(r.variation).unwrap_or_default(),
            job_id: r.job_id,
            state: r.state.parse().unwrap_or(JobState::Failed),
            error: r.error,
            product: r.product_id.and_then(|id| pictures.remove(&id)),
            created_at: r.created_at,
        })
        .collect())
}

/// Whose portrait a product is, if anyone's: the character's id and name.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct Sitter {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub name: String,
}

pub async fn sitter(
    conn: &mut AsyncPgConnection,
    product_id: i64,
) -> Result<Option<Sitter>, CharacterError> {
    Ok(sql_query(
        "SELECT c.id, c.name FROM products p
         JOIN character_portraits cp ON cp.batch_id = p.batch_id
         JOIN characters c ON c.id = cp.character_id
         WHERE p.id = $1",
    )
    .bind::<BigInt, _>(product_id)
    .get_result(conn)
    .await
    .optional()?)
}

/// The newest picture among character `id`'s portraits, for the PDF.
pub async fn newest_picture(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> Result<Option<Product>, CharacterError> {
    #[derive(QueryableByName)]
    struct Newest {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let newest: Option<Newest> = sql_query(
        "SELECT p.id FROM character_portraits cp
         JOIN products p ON p.batch_id = cp.batch_id AND p.deleted_at IS NULL
         WHERE cp.character_id = $1 AND p.kind = 'image'
         ORDER BY p.id DESC LIMIT 1",
    )
    .bind::<BigInt, _>(id)
    .get_result(conn)
    .await
    .optional()?;
    match newest {
        Some(n) => Ok(crate::products::get(conn, n.id).await?),
        None => Ok(None),
    }
}
