//! Batches: one launch of a prompt template, expanded into jobs in the same transaction.
//!
//! Everything is checked before anything is written: the project, the provider and model, every
//! parameter against the model's schema, the prompt's syntax and wildcards, the item count
//! against the cap (and above the warning threshold, an explicit confirmation), and the seed.
//! A launch either queues all its jobs or none. Each job keeps its bindings (what every token
//! of the template chose) and a seed derived from them, see [`crate::prompt`].

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::costs;
use crate::jobs::Job;
use crate::library::wildcards;
use crate::models;
use crate::products;
use crate::projects::{self, ProjectError};
use crate::prompt::{self, Mode};
use crate::providers::{GenerationRequest, InputImage, Network, Providers};
use crate::schema::{batches, jobs};

mod plan;

pub use plan::{plan, Plan};

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
    pub seed_mode: String,
    /// `[{key, label}]`: the template's tokens, in source order (grid axes).
    pub tokens: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", content = "value", rename_all = "snake_case")]
pub enum SeedChoice {
    /// Each item's seed is the batch seed (this one, or a new random one) hashed with the
    /// item's bindings: reproducible, and independent of queue order.
    Derived(Option<i64>),
    /// One seed for every item.
    Fixed(i64),
    /// A new random seed for every item.
    Random,
}

impl SeedChoice {
    pub fn mode(self) -> &'static str {
        match self {
            SeedChoice::Derived(_) => "derived",
            SeedChoice::Fixed(_) => "fixed",
            SeedChoice::Random => "random",
        }
    }
}

/// How many items a launch may make.
#[derive(Debug, Clone, Copy)]
pub struct ItemLimits {
    /// The most items one launch may queue.
    pub cap: u64,
    /// Above this many, a launch needs `confirmed`.
    pub confirm_above: u64,
}

#[derive(Debug, Clone)]
pub struct LaunchRequest {
    pub project_id: i64,
    pub provider: String,
    pub model: String,
    pub prompt: String,
    pub negative_prompt: String,
    pub params: Map<String, Value>,
    /// Combinatorial: images per combination. Random: how many images.
    pub count: u32,
    pub mode: Mode,
    pub seed: SeedChoice,
    /// The person confirmed a launch above the warning threshold.
    pub confirmed: bool,
    /// LoRAs with their strengths, for models that take them.
    pub networks: Vec<Network>,
    /// The product an image-to-image launch starts from.
    pub input_image: Option<i64>,
    /// The product the results are made for without starting from it (music for a picture):
    /// their parent.
    pub made_from: Option<i64>,
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
    /// The launch would pass the project's budget; the message has the numbers.
    #[error("{0}")]
    OverBudget(String),
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
    seed_mode: &'a str,
    tokens: Value,
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

/// A launch checked against the database as well (project, wildcards, input image, price),
/// with nothing written: what would be queued and what it would cost.
#[derive(Debug)]
pub struct Checked {
    pub plan: Plan,
    input_image: Option<InputImage>,
    /// `None` when there is no price for the model.
    pub estimate: Option<costs::Estimate>,
}

/// Everything [`launch`] checks before it writes: a dry run (the API's `dry_run`, the form's
/// preview and estimate in one answer). The budget is checked only when queueing, under its lock.
pub async fn check(
    conn: &mut AsyncPgConnection,
    providers: &Providers,
    limits: ItemLimits,
    request: &LaunchRequest,
) -> Result<Checked, LaunchError> {
    let project = projects::get(conn, request.project_id).await?;
    let lists = wildcards::for_project(conn, request.project_id).await?;
    let listed = providers
        .get(&request.provider)
        .is_some_and(|p| p.info().model(&request.model).is_some());
    let described = match listed {
        true => None,
        false => models::find(conn, &request.provider, &request.model).await?,
    };
    let plan = plan(providers, limits, &lists, request, described.as_ref())
        .map_err(LaunchError::Invalid)?;
    let input_image = match (request.input_image, &plan.image_field) {
        (Some(id), Some(field)) => {
            let usable = products::get(conn, id)
                .await?
                .filter(|p| p.kind == "image" || p.kind == "upload");
            if usable.is_none() {
                return Err(LaunchError::Invalid(vec![FieldError {
                    field: "input_image".into(),
                    message: format!("There is no picture #{id} to start from (was it deleted?). Choose another."),
                }]));
            }
            Some(InputImage {
                product_id: id,
                field: field.clone(),
                data: None,
            })
        }
        _ => None,
    };
    if let Some(id) = request.made_from {
        if products::get(conn, id)
            .await?
            .is_none_or(|p| p.deleted_at.is_some())
        {
            return Err(LaunchError::Invalid(vec![FieldError {
                field: "made_from".into(),
                message: format!(
                    "There is no product #{id} to make this for (was it deleted?). Clear it, or choose another."
                ),
            }]));
        }
    }
    if project.is_archived() {
        return Err(LaunchError::ProjectArchived(project.name));
    }
    let prices = costs::prices(conn).await?;
    let estimate = costs::price_for(&prices, &request.provider, &request.model)
        .map(|price| costs::estimate(price, &plan.params, plan.items.len() as u64));
    Ok(Checked {
        plan,
        input_image,
        estimate,
    })
}

/// Validates, expands and queues a batch: the batch row and all its jobs in one transaction.
pub async fn launch(
    conn: &mut AsyncPgConnection,
    providers: &Providers,
    limits: ItemLimits,
    max_attempts: i32,
    request: &LaunchRequest,
) -> Result<(Batch, Vec<Job>), LaunchError> {
    launch_priced(conn, providers, limits, max_attempts, request)
        .await
        .map(|(batch, jobs, _)| (batch, jobs))
}

/// [`launch`], also answering the estimate it checked against the budget.
pub async fn launch_priced(
    conn: &mut AsyncPgConnection,
    providers: &Providers,
    limits: ItemLimits,
    max_attempts: i32,
    request: &LaunchRequest,
) -> Result<(Batch, Vec<Job>, Option<costs::Estimate>), LaunchError> {
    write(conn, providers, limits, max_attempts, request, None).await
}

/// [`launch_priced`] with each item's seed given, in item order (a pipeline step's seed, or its
/// related variations' seeds), instead of derived from the seed choice. The prompt must expand
/// to exactly as many items.
pub async fn launch_seeded(
    conn: &mut AsyncPgConnection,
    providers: &Providers,
    limits: ItemLimits,
    max_attempts: i32,
    request: &LaunchRequest,
    seeds: &[i64],
) -> Result<(Batch, Vec<Job>, Option<costs::Estimate>), LaunchError> {
    write(conn, providers, limits, max_attempts, request, Some(seeds)).await
}

async fn write(
    conn: &mut AsyncPgConnection,
    providers: &Providers,
    limits: ItemLimits,
    max_attempts: i32,
    request: &LaunchRequest,
    seeds: Option<&[i64]>,
) -> Result<(Batch, Vec<Job>, Option<costs::Estimate>), LaunchError> {
    let Checked {
        plan,
        input_image,
        estimate,
    } = check(conn, providers, limits, request).await?;
    if let Some(seeds) = seeds.filter(|s| s.len() != plan.items.len()) {
        return Err(LaunchError::Invalid(vec![FieldError {
            field: "seed".into(),
            message: format!(
                "{} seeds were given for {} pictures; give one per picture.",
                seeds.len(),
                plan.items.len()
            ),
        }]));
    }
    let negative = request.negative_prompt.trim();
    let params_value = Value::Object(plan.params.clone());
    let tokens: Vec<Value> = plan
        .tokens
        .iter()
        .map(|t| serde_json::json!({ "key": t.key, "label": t.label }))
        .collect();
    conn.transaction(async |conn| {
        let batch: Batch = diesel::insert_into(batches::table)
            .values(NewBatch {
                project_id: request.project_id,
                provider: &request.provider,
                model: &request.model,
                prompt_template: request.prompt.trim(),
                negative_prompt: negative,
                params: &params_value,
                expansion_mode: request.mode.as_str(),
                batch_seed: plan.batch_seed,
                item_count: plan.items.len() as i32,
                seed_mode: request.seed.mode(),
                tokens: Value::Array(tokens),
            })
            .returning(Batch::as_returning())
            .get_result(&mut *conn)
            .await?;
        let new_jobs: Vec<NewJob> = plan
            .items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let seed = match seeds {
                    Some(seeds) => seeds[i],
                    None => item_seed(request.seed, plan.batch_seed, &item.bindings),
                };
                let input = GenerationRequest {
                    model: request.model.clone(),
                    prompt: item.prompt.clone(),
                    negative_prompt: negative.to_string(),
                    seed,
                    params: plan.params.clone(),
                    networks: request.networks.clone(),
                    input_image: input_image.clone(),
                    scene: None,
                    made_from: request.made_from.filter(|_| input_image.is_none()),
                };
                NewJob {
                    batch_id: batch.id,
                    project_id: request.project_id,
                    item_index: i as i32,
                    provider: &request.provider,
                    model: &request.model,
                    input: serde_json::to_value(input).expect("requests serialise"),
                    bindings: serde_json::to_value(&item.bindings).expect("bindings serialise"),
                    seed,
                    max_attempts,
                }
            })
            .collect();
        let mut jobs: Vec<Job> = Vec::with_capacity(new_jobs.len());
        // Bounded statements: PostgreSQL takes at most 65,535 bind parameters in one.
        for chunk in new_jobs.chunks(1000) {
            let inserted: Vec<Job> = diesel::insert_into(jobs::table)
                .values(chunk)
                .returning(Job::as_returning())
                .get_results(&mut *conn)
                .await?;
            jobs.extend(inserted);
        }
        if let Some(estimate) = &estimate {
            // Checked in the transaction that queues, under the budget's row lock, so two
            // launches at once cannot both spend the same money.
            let budget = costs::lock_budget(&mut *conn, request.project_id).await?;
            if budget != costs::Budget::default() {
                // The new jobs have no estimate yet, so they are not in what was spent.
                let spent = costs::spending(&mut *conn, request.project_id).await?;
                costs::check(budget, spent, estimate.total_micros)
                    .map_err(LaunchError::OverBudget)?;
            }
            costs::record_estimate(&mut *conn, batch.id, estimate.per_image_micros).await?;
        }
        crate::jobs::notify_work(&mut *conn).await?;
        Ok::<_, LaunchError>((batch, jobs))
    })
    .await
    .map(|(batch, jobs)| (batch, jobs, estimate))
}

pub async fn get(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Batch>> {
    batches::table
        .find(id)
        .select(Batch::as_select())
        .first(conn)
        .await
        .optional()
}

/// An item's seed. It depends only on the seed choice, the batch seed and the item's
/// bindings, never on queue order, so cancelling, retrying or reordering never changes it.
pub fn item_seed(choice: SeedChoice, batch_seed: i64, bindings: &prompt::Bindings) -> i64 {
    match choice {
        SeedChoice::Fixed(seed) => seed,
        SeedChoice::Derived(_) => prompt::derive_seed(batch_seed, bindings),
        SeedChoice::Random => rand::random::<u32>() as i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompt::Expansion;

    #[test]
    fn fixed_seeds_are_shared_and_derived_seeds_follow_the_bindings() {
        let items = Expansion {
            mode: Mode::Combinatorial,
            count: 2,
            batch_seed: 0,
            cap: 100,
        }
        .expand("{a|b}", &std::collections::HashMap::new())
        .unwrap()
        .items;
        assert!(items
            .iter()
            .all(|i| item_seed(SeedChoice::Fixed(10), 10, &i.bindings) == 10));
        let derived: Vec<i64> = items
            .iter()
            .map(|i| item_seed(SeedChoice::Derived(Some(99)), 99, &i.bindings))
            .collect();
        let again: Vec<i64> = items
            .iter()
            .rev()
            .map(|i| item_seed(SeedChoice::Derived(Some(99)), 99, &i.bindings))
            .collect();
        assert_eq!(derived, again.into_iter().rev().collect::<Vec<_>>());
        assert!(derived.iter().all(|s| (0..=SEED_MAX).contains(s)));
        assert_eq!(
            derived
                .iter()
                .collect::<std::collections::HashSet<_>>()
                .len(),
            4
        );
    }
}
