//! Batches: one launch of a prompt, expanded into jobs in the same transaction.
//!
//! Everything is checked before anything is written: the project, the provider and model, every
//! parameter against the model's schema, the prompt, the count and the seed. A launch either
//! queues all its jobs or none.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::hashing::fnv1a64;
use crate::jobs::Job;
use crate::projects::{self, ProjectError};
use crate::providers::{params, GenerationRequest, Providers};
use crate::schema::{batches, jobs};

pub const PROMPT_MAX_CHARS: usize = 4000;
/// Seeds stay within 32 bits: what every provider accepts.
pub const SEED_MAX: i64 = u32::MAX as i64;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = batches)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct Batch {
    pub id: i64,
    pub project_id: i64,
    pub provider: String,
    pub model: String,
    pub prompt_template: String,
    pub negative_prompt: String,
    pub params: Value,
    pub expansion_mode: String,
    pub batch_seed: i64,
    pub item_count: i32,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", content = "value", rename_all = "snake_case")]
pub enum SeedChoice {
    /// A new random batch seed; each item's seed is derived from it.
    Random,
    /// Item `i` gets `seed + i` (the AUTOMATIC1111 convention), so a batch is reproducible.
    Fixed(i64),
}

#[derive(Debug, Clone)]
pub struct LaunchRequest {
    pub project_id: i64,
    pub provider: String,
    pub model: String,
    pub prompt: String,
    pub negative_prompt: String,
    pub params: Map<String, Value>,
    pub count: u32,
    pub seed: SeedChoice,
}

/// A problem with one field of a launch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// `prompt`, `count`, `seed`, `provider`, `model`, or `params.<name>`.
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("{}", .0.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join(" "))]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error("“{0}” is archived. Unarchive it to generate into it.")]
    ProjectArchived(String),
    #[error(transparent)]
    Database(#[from] crate::db::DbError),
}

impl From<diesel::result::Error> for LaunchError {
    fn from(e: diesel::result::Error) -> Self {
        LaunchError::Database(crate::db::DbError::Query(e))
    }
}

#[derive(Insertable)]
#[diesel(table_name = batches)]
struct NewBatch<'a> {
    project_id: i64,
    provider: &'a str,
    model: &'a str,
    prompt_template: &'a str,
    negative_prompt: &'a str,
    params: &'a Value,
    expansion_mode: &'a str,
    batch_seed: i64,
    item_count: i32,
}

#[derive(Insertable)]
#[diesel(table_name = jobs)]
struct NewJob<'a> {
    batch_id: i64,
    project_id: i64,
    item_index: i32,
    provider: &'a str,
    model: &'a str,
    input: Value,
    bindings: Value,
    seed: i64,
    max_attempts: i32,
}

/// Checks a launch without writing anything; returns the resolved parameters.
pub fn validate(
    providers: &Providers,
    max_count: u32,
    request: &LaunchRequest,
) -> Result<Map<String, Value>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut error = |field: &str, message: String| {
        errors.push(FieldError {
            field: field.into(),
            message,
        })
    };
    let prompt_chars = request.prompt.trim().chars().count();
    if prompt_chars == 0 {
        error("prompt", "Write a prompt first.".into());
    } else if prompt_chars > PROMPT_MAX_CHARS {
        error("prompt", format!("Prompts can be at most {PROMPT_MAX_CHARS} characters; this one has {prompt_chars}."));
    }
    let negative_chars = request.negative_prompt.trim().chars().count();
    if negative_chars > PROMPT_MAX_CHARS {
        error(
            "negative_prompt",
            format!("Negative prompts can be at most {PROMPT_MAX_CHARS} characters; this one has {negative_chars}."),
        );
    }
    if request.count == 0 || request.count > max_count {
        error(
            "count",
            format!(
                "Choose between 1 and {max_count} images; got {}.",
                request.count
            ),
        );
    }
    if let SeedChoice::Fixed(seed) = request.seed {
        if !(0..=SEED_MAX).contains(&seed) {
            error(
                "seed",
                format!("Seeds go from 0 to {SEED_MAX}; got {seed}."),
            );
        }
    }
    let mut resolved = Map::new();
    match providers.get(&request.provider) {
        None => error(
            "provider",
            format!(
                "There is no provider “{}” (available: {}).",
                request.provider,
                providers.ids().join(", ")
            ),
        ),
        Some(provider) => match provider.info().model(&request.model) {
            None => {
                let models: Vec<&str> = provider
                    .info()
                    .models
                    .iter()
                    .map(|m| m.id.as_str())
                    .collect();
                error(
                    "model",
                    format!(
                        "{} has no model “{}” (it has: {}).",
                        provider.info().name,
                        request.model,
                        models.join(", ")
                    ),
                );
            }
            Some(model) => {
                if !model.negative_prompt && negative_chars > 0 {
                    error(
                        "negative_prompt",
                        format!(
                            "{} takes no negative prompt. Leave it empty, and say in the prompt what you want instead.",
                            model.name
                        ),
                    );
                }
                match params::validate(&model.params, &request.params) {
                    Ok(params) => resolved = params,
                    Err(param_errors) => {
                        for e in param_errors {
                            error(&format!("params.{}", e.field), e.message);
                        }
                    }
                }
            }
        },
    }
    if errors.is_empty() {
        Ok(resolved)
    } else {
        Err(errors)
    }
}

/// Validates and queues a batch: the batch row and all its jobs in one transaction.
pub async fn launch(
    conn: &mut AsyncPgConnection,
    providers: &Providers,
    max_count: u32,
    max_attempts: i32,
    request: &LaunchRequest,
) -> Result<(Batch, Vec<Job>), LaunchError> {
    let params = validate(providers, max_count, request).map_err(LaunchError::Invalid)?;
    let project = projects::get(conn, request.project_id).await?;
    if project.is_archived() {
        return Err(LaunchError::ProjectArchived(project.name));
    }
    let batch_seed = match request.seed {
        SeedChoice::Fixed(seed) => seed,
        SeedChoice::Random => rand::random::<u32>() as i64,
    };
    let prompt = request.prompt.trim();
    let negative = request.negative_prompt.trim();
    let params_value = Value::Object(params.clone());
    conn.transaction(async |conn| {
        let batch: Batch = diesel::insert_into(batches::table)
            .values(NewBatch {
                project_id: request.project_id,
                provider: &request.provider,
                model: &request.model,
                prompt_template: prompt,
                negative_prompt: negative,
                params: &params_value,
                expansion_mode: "single",
                batch_seed,
                item_count: request.count as i32,
            })
            .returning(Batch::as_returning())
            .get_result(&mut *conn)
            .await?;
        let new_jobs: Vec<NewJob> = (0..request.count)
            .map(|i| {
                let seed = item_seed(request.seed, batch_seed, i);
                let input = GenerationRequest {
                    model: request.model.clone(),
                    prompt: prompt.to_string(),
                    negative_prompt: negative.to_string(),
                    seed,
                    params: params.clone(),
                };
                NewJob {
                    batch_id: batch.id,
                    project_id: request.project_id,
                    item_index: i as i32,
                    provider: &request.provider,
                    model: &request.model,
                    input: serde_json::to_value(input).expect("requests serialise"),
                    bindings: serde_json::json!({ "#": i }),
                    seed,
                    max_attempts,
                }
            })
            .collect();
        let jobs: Vec<Job> = diesel::insert_into(jobs::table)
            .values(&new_jobs)
            .returning(Job::as_returning())
            .get_results(&mut *conn)
            .await?;
        crate::jobs::notify_work(&mut *conn).await?;
        Ok::<_, LaunchError>((batch, jobs))
    })
    .await
}

/// Item `i`'s seed. It depends only on the batch seed and the item, never on queue order, so
/// cancelling, retrying or reordering never changes it.
pub fn item_seed(choice: SeedChoice, batch_seed: i64, item: u32) -> i64 {
    match choice {
        SeedChoice::Fixed(seed) => (seed + item as i64) % (SEED_MAX + 1),
        SeedChoice::Random => {
            let mut bytes = batch_seed.to_le_bytes().to_vec();
            bytes.extend_from_slice(&item.to_le_bytes());
            (fnv1a64(&bytes) % (SEED_MAX as u64 + 1)) as i64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_seeds_count_up_and_random_seeds_depend_only_on_batch_seed_and_item() {
        assert_eq!(item_seed(SeedChoice::Fixed(10), 10, 2), 12);
        assert_eq!(item_seed(SeedChoice::Fixed(SEED_MAX), SEED_MAX, 1), 0);
        let a = item_seed(SeedChoice::Random, 99, 3);
        assert_eq!(a, item_seed(SeedChoice::Random, 99, 3));
        assert_ne!(a, item_seed(SeedChoice::Random, 99, 4));
        assert!((0..=SEED_MAX).contains(&a));
    }
}
