//! Runs of a pipeline: which version and run seed ran, and where each step is.
//!
//! Starting a run checks everything first (the graph, every provider step's model and
//! parameters, the input picture), then writes the run and all its steps in one transaction:
//! a step whose key the cache holds starts `cached` with its products; the rest wait for
//! [`super::driver`] to run them. A re-run from a step is a new run of the same version and run
//! seed that ignores the cache for that step and every step after it.
//!
//! ```text
//! waiting -> cached                          (the cache answered)
//!         -> queued (a batch of jobs) -> succeeded | failed     (provider steps)
//!         -> running (under a lease)  -> succeeded | failed     (steps on this machine)
//!         -> blocked                         (a step it depends on failed)
//!         -> canceled                        (the run was cancelled)
//! ```

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Bool, Integer, Jsonb, Nullable, Text, Timestamptz};
use diesel::{sql_query, OptionalExtension, QueryableByName};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::graph::{Graph, StepKind, Upscale};
use super::keys::{plan, variation_seed, KeyInputs};
use super::store::{self, Pipeline, PipelineError, Version};
use crate::batches::{self, ItemLimits, LaunchRequest, SeedChoice, SEED_MAX};
use crate::library::wildcards;
use crate::models;
use crate::prompt::Mode;
use crate::providers::Providers;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    Running,
    Succeeded,
    Failed,
    Canceled,
}

impl RunState {
    fn parse(text: &str) -> Self {
        match text {
            "running" => RunState::Running,
            "succeeded" => RunState::Succeeded,
            "failed" => RunState::Failed,
            // The column's CHECK allows nothing else.
            _ => RunState::Canceled,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Waiting,
    Cached,
    Queued,
    Running,
    Succeeded,
    Failed,
    Blocked,
    Canceled,
}

impl StepState {
    fn parse(text: &str) -> Self {
        match text {
            "waiting" => StepState::Waiting,
            "cached" => StepState::Cached,
            "queued" => StepState::Queued,
            "running" => StepState::Running,
            "succeeded" => StepState::Succeeded,
            "failed" => StepState::Failed,
            "blocked" => StepState::Blocked,
            // The column's CHECK allows nothing else.
            _ => StepState::Canceled,
        }
    }

    /// Its outputs exist: the steps after it can start.
    pub fn has_outputs(self) -> bool {
        matches!(self, StepState::Cached | StepState::Succeeded)
    }

    /// Nothing more will happen to it in this run.
    pub fn is_final(self) -> bool {
        !matches!(
            self,
            StepState::Waiting | StepState::Queued | StepState::Running
        )
    }

    /// It ended without outputs: the steps after it cannot run.
    pub fn stops_dependants(self) -> bool {
        matches!(
            self,
            StepState::Failed | StepState::Blocked | StepState::Canceled
        )
    }
}

#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct Run {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub pipeline_id: i64,
    #[diesel(sql_type = Integer)]
    pub version: i32,
    #[diesel(sql_type = BigInt)]
    pub project_id: i64,
    #[diesel(sql_type = BigInt)]
    pub run_seed: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub input_product_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub rerun_of: Option<i64>,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub finished_at: Option<DateTime<Utc>>,
}

impl Run {
    pub fn state(&self) -> RunState {
        RunState::parse(&self.state)
    }
}

#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct RunStep {
    #[diesel(sql_type = BigInt)]
    pub run_id: i64,
    #[diesel(sql_type = Integer)]
    pub step_index: i32,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub seed: Option<i64>,
    /// The steps whose outputs it takes, in its inputs' order.
    #[diesel(sql_type = Array<Integer>)]
    pub depends_on: Vec<i32>,
    #[diesel(sql_type = Bool)]
    pub forced: bool,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub batch_id: Option<i64>,
    #[diesel(sql_type = BigInt)]
    pub lease_token: i64,
    #[diesel(sql_type = Array<BigInt>)]
    pub product_ids: Vec<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub error: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub started_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub finished_at: Option<DateTime<Utc>>,
}

impl RunStep {
    pub fn state(&self) -> StepState {
        StepState::parse(&self.state)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// Provider steps the providers would refuse, each as "step “x”: why".
    #[error("{}", .0.join(" "))]
    Steps(Vec<String>),
    #[error("{0}")]
    Input(String),
    #[error("There is no run {0}; it may have been deleted with its pipeline.")]
    NotFound(i64),
    /// Another process moved the step first (internal: rolls a transaction back).
    #[error("another process moved the step first")]
    Lost,
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

impl From<diesel::result::Error> for RunError {
    fn from(e: diesel::result::Error) -> Self {
        RunError::Db(crate::db::DbError::Query(e))
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub pipeline_id: i64,
    /// `None`: the latest version.
    pub version: Option<i32>,
    /// `None`: a new random one.
    pub run_seed: Option<i64>,
    /// The picture for the pipeline's input step.
    pub input_product: Option<i64>,
}

const RUN_COLUMNS: &str = "id, pipeline_id, version, project_id, run_seed, input_product_id, \
                           rerun_of, state, created_at, finished_at";

/// Checks and starts a run (see the module's documentation).
pub async fn start(
    conn: &mut AsyncPgConnection,
    providers: &Providers,
    limits: ItemLimits,
    request: &RunRequest,
) -> Result<Run, RunError> {
    let pipeline = store::get(conn, request.pipeline_id).await?;
    let version = store::version(conn, pipeline.id, request.version).await?;
    let run_seed = match request.run_seed {
        Some(seed) if !(0..=SEED_MAX).contains(&seed) => {
            return Err(RunError::Input(format!(
                "Run seeds go from 0 to {SEED_MAX}; got {seed}."
            )))
        }
        Some(seed) => seed,
        None => rand::random::<u32>() as i64,
    };
    let start = Start {
        run_seed,
        input_product: request.input_product,
        rerun: None,
    };
    begin(conn, providers, limits, &pipeline, &version, &start).await
}

/// A new run of `run_id`'s version, run seed and input picture that runs the step called `step`
/// and every step after it again, whatever the cache holds.
pub async fn rerun_from(
    conn: &mut AsyncPgConnection,
    providers: &Providers,
    limits: ItemLimits,
    run_id: i64,
    step: &str,
) -> Result<Run, RunError> {
    let run = get(conn, run_id).await?;
    let pipeline = store::get(conn, run.pipeline_id).await?;
    let version = store::version(conn, run.pipeline_id, Some(run.version)).await?;
    let from = version.graph.index_of(step).ok_or_else(|| {
        RunError::Input(format!(
            "Version {} of “{}” has no step “{step}”.",
            run.version, pipeline.name
        ))
    })?;
    let start = Start {
        run_seed: run.run_seed,
        input_product: run.input_product_id,
        rerun: Some((run.id, from)),
    };
    begin(conn, providers, limits, &pipeline, &version, &start).await
}

struct Start {
    run_seed: i64,
    input_product: Option<i64>,
    /// The run re-run, and the step it is re-run from.
    rerun: Option<(i64, usize)>,
}

async fn begin(
    conn: &mut AsyncPgConnection,
    providers: &Providers,
    limits: ItemLimits,
    pipeline: &Pipeline,
    version: &Version,
    start: &Start,
) -> Result<Run, RunError> {
    let graph = &version.graph;
    let order = graph.check().map_err(PipelineError::Invalid)?;
    let input_picture = input_picture(conn, pipeline, graph, start.input_product).await?;
    let problems = check_calls(conn, providers, limits, pipeline.project_id, graph).await?;
    if !problems.is_empty() {
        return Err(RunError::Steps(problems));
    }
    let forced = forced_from(graph, &order, start.rerun.map(|(_, from)| from));
    let depends_on: Vec<Vec<i32>> = graph
        .steps
        .iter()
        .map(|step| {
            step.inputs
                .values()
                .flatten()
                .map(|link| {
                    graph
                        .index_of(&link.step)
                        .expect("a checked graph's links resolve") as i32
                })
                .collect()
        })
        .collect();
    conn.transaction(async |conn| {
        let mut run: Run = sql_query(format!(
            "INSERT INTO pipeline_runs (pipeline_id, version, project_id, run_seed,
                                        input_product_id, rerun_of)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {RUN_COLUMNS}"
        ))
        .bind::<BigInt, _>(pipeline.id)
        .bind::<Integer, _>(version.version)
        .bind::<BigInt, _>(pipeline.project_id)
        .bind::<BigInt, _>(start.run_seed)
        .bind::<Nullable<BigInt>, _>(start.input_product)
        .bind::<Nullable<BigInt>, _>(start.rerun.map(|(run, _)| run))
        .get_result(conn)
        .await?;
        let planned = plan(
            graph,
            &order,
            &KeyInputs {
                run_seed: start.run_seed,
                run_id: run.id,
                model_version: &|_, _| None,
                input_picture: input_picture.as_ref().map(|(_, hash)| hash.as_str()),
            },
        );
        let keys: Vec<_> = planned.iter().map(|p| p.key.clone()).collect();
        let mut cached = store::cached(conn, &keys).await?;
        let rows: Vec<serde_json::Value> = graph
            .steps
            .iter()
            .enumerate()
            .map(|(index, step)| {
                let hit = cached
                    .remove(&planned[index].key)
                    .filter(|_| !forced[index]);
                let (state, products) = match (&step.kind, hit) {
                    (StepKind::Input {}, _) => (
                        "succeeded",
                        vec![input_picture.as_ref().expect("checked above").0],
                    ),
                    (_, Some(products)) => ("cached", products),
                    (_, None) => ("waiting", Vec::new()),
                };
                json!({
                    "step_index": index,
                    "name": step.name,
                    "key": planned[index].key.as_str(),
                    "seed": planned[index].seed,
                    "depends_on": depends_on[index],
                    "forced": forced[index],
                    "state": state,
                    "product_ids": products,
                })
            })
            .collect();
        sql_query(
            "INSERT INTO pipeline_run_steps (run_id, step_index, name, key, seed, depends_on,
                                             forced, state, product_ids, finished_at)
             SELECT $1, s.step_index, s.name, s.key, s.seed,
                    ARRAY(SELECT jsonb_array_elements_text(s.depends_on)::integer),
                    s.forced, s.state,
                    ARRAY(SELECT jsonb_array_elements_text(s.product_ids)::bigint),
                    CASE WHEN s.state = 'waiting' THEN NULL ELSE now() END
             FROM jsonb_to_recordset($2) AS s(step_index integer, name text, key text,
                  seed bigint, depends_on jsonb, forced boolean, state text, product_ids jsonb)",
        )
        .bind::<BigInt, _>(run.id)
        .bind::<Jsonb, _>(serde_json::Value::Array(rows))
        .execute(conn)
        .await?;
        if let Some(finished) = finish(conn, run.id).await? {
            run = finished;
        }
        Ok::<_, RunError>(run)
    })
    .await
}

/// The product id and content hash of the picture for the input step, checked.
async fn input_picture(
    conn: &mut AsyncPgConnection,
    pipeline: &Pipeline,
    graph: &Graph,
    input: Option<i64>,
) -> Result<Option<(i64, String)>, RunError> {
    let takes_one = graph
        .steps
        .iter()
        .any(|s| matches!(s.kind, StepKind::Input {}));
    match (takes_one, input) {
        (false, None) => Ok(None),
        (true, None) => Err(RunError::Input(format!(
            "“{}” starts from a picture: run it from a picture's page (Run a pipeline), or choose one.",
            pipeline.name
        ))),
        (false, Some(_)) => Err(RunError::Input(format!(
            "“{}” has no input step, so it cannot start from a picture. Add an input step first.",
            pipeline.name
        ))),
        (true, Some(id)) => {
            let found = crate::products::get(conn, id).await?.filter(|p| {
                p.deleted_at.is_none()
                    && (p.kind == "image" || p.kind == "upload")
                    && p.project_id == pipeline.project_id
            });
            match found {
                Some(p) => Ok(Some((p.id, p.content_hash))),
                None => Err(RunError::Input(format!(
                    "There is no picture #{id} in this pipeline's project (was it deleted or moved?). Choose another."
                ))),
            }
        }
    }
}

/// Each step that calls a provider, checked the way a launch is (provider, model, parameters,
/// the prompt's syntax and wildcards): every problem, each naming its step.
async fn check_calls(
    conn: &mut AsyncPgConnection,
    providers: &Providers,
    limits: ItemLimits,
    project_id: i64,
    graph: &Graph,
) -> Result<Vec<String>, RunError> {
    let lists = wildcards::for_project(conn, project_id).await?;
    let mut problems = Vec::new();
    for step in &graph.steps {
        let Some((provider, model)) = step.kind.provider_model() else {
            continue;
        };
        // The input picture is only known when the step runs; any id stands for it here.
        let request = launch_request(project_id, &step.kind, 0, Some(0));
        let Some(request) = request else { continue };
        let listed = providers
            .get(provider)
            .is_some_and(|p| p.info().model(model).is_some());
        let described = match listed {
            true => None,
            false => models::find(conn, provider, model).await?,
        };
        if let Err(errors) = batches::plan(providers, limits, &lists, &request, described.as_ref())
        {
            problems.extend(
                errors
                    .into_iter()
                    .map(|e| format!("Step “{}”: {}", step.name, e.message)),
            );
        }
    }
    Ok(problems)
}

/// The seeds of a provider step's pictures: its own, or for variations one related seed each.
pub fn item_seeds(kind: &StepKind, seed: i64) -> Vec<i64> {
    match kind {
        StepKind::Variations { count, .. } => {
            (0..*count).map(|i| variation_seed(seed, i)).collect()
        }
        _ => vec![seed],
    }
}

/// The launch a provider step makes: its call, one picture per seed, from `input_image` when
/// the step takes one. `None` for steps that run on this machine.
pub fn launch_request(
    project_id: i64,
    kind: &StepKind,
    seed: i64,
    input_image: Option<i64>,
) -> Option<LaunchRequest> {
    let (provider, model, prompt, negative, params) = match kind {
        StepKind::Upscale {
            how:
                Upscale::Provider {
                    provider,
                    model,
                    params,
                },
        } => (provider, model, "upscale", "", params),
        kind => {
            let c = kind.call()?;
            (
                &c.provider,
                &c.model,
                c.prompt.as_str(),
                c.negative_prompt.as_str(),
                &c.params,
            )
        }
    };
    Some(LaunchRequest {
        project_id,
        provider: provider.clone(),
        model: model.clone(),
        prompt: prompt.to_string(),
        negative_prompt: negative.to_string(),
        params: params.clone(),
        count: item_seeds(kind, seed).len() as u32,
        // One pick per picture from the prompt's choices, by the step's seed: reproducible.
        mode: Mode::Random,
        seed: SeedChoice::Derived(Some(seed)),
        confirmed: true,
        networks: Vec::new(),
        input_image: input_image.filter(|_| !kind.inputs().is_empty()),
    })
}

/// Which steps a re-run from `from` runs whatever the cache holds: it and every step after it.
fn forced_from(graph: &Graph, order: &[usize], from: Option<usize>) -> Vec<bool> {
    let mut forced = vec![false; graph.steps.len()];
    let Some(from) = from else { return forced };
    forced[from] = true;
    for &index in order {
        let after_forced = graph.steps[index]
            .inputs
            .values()
            .flatten()
            .any(|link| graph.index_of(&link.step).is_some_and(|i| forced[i]));
        forced[index] |= after_forced;
    }
    forced
}

pub async fn get(conn: &mut AsyncPgConnection, id: i64) -> Result<Run, RunError> {
    sql_query(format!(
        "SELECT {RUN_COLUMNS} FROM pipeline_runs WHERE id = $1"
    ))
    .bind::<BigInt, _>(id)
    .get_result(conn)
    .await
    .optional()?
    .ok_or(RunError::NotFound(id))
}

/// A run's steps, by index.
pub async fn steps(conn: &mut AsyncPgConnection, run_id: i64) -> Result<Vec<RunStep>, RunError> {
    Ok(sql_query(
        "SELECT run_id, step_index, name, key, seed, depends_on, forced, state, batch_id,
                lease_token, product_ids, error, started_at, finished_at
         FROM pipeline_run_steps WHERE run_id = $1 ORDER BY step_index",
    )
    .bind::<BigInt, _>(run_id)
    .load(conn)
    .await?)
}

/// A pipeline's newest runs, newest first.
pub async fn list(
    conn: &mut AsyncPgConnection,
    pipeline_id: i64,
    limit: i64,
) -> Result<Vec<Run>, RunError> {
    Ok(sql_query(format!(
        "SELECT {RUN_COLUMNS} FROM pipeline_runs WHERE pipeline_id = $1 ORDER BY id DESC LIMIT $2"
    ))
    .bind::<BigInt, _>(pipeline_id)
    .bind::<BigInt, _>(limit.clamp(1, 200))
    .load(conn)
    .await?)
}

/// The runs still going, oldest first.
pub async fn active(conn: &mut AsyncPgConnection) -> Result<Vec<i64>, RunError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let rows: Vec<Row> =
        sql_query("SELECT id FROM pipeline_runs WHERE state = 'running' ORDER BY id LIMIT 1000")
            .load(conn)
            .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Ends the run once every step is final: succeeded when every step has its outputs, failed
/// otherwise. One statement; `None` while steps remain (or it had ended already).
pub async fn finish(conn: &mut AsyncPgConnection, run_id: i64) -> Result<Option<Run>, RunError> {
    Ok(sql_query(format!(
        "UPDATE pipeline_runs SET finished_at = now(),
             state = CASE WHEN EXISTS (SELECT 1 FROM pipeline_run_steps
                                       WHERE run_id = $1 AND state NOT IN ('cached', 'succeeded'))
                          THEN 'failed' ELSE 'succeeded' END
         WHERE id = $1 AND state = 'running'
           AND NOT EXISTS (SELECT 1 FROM pipeline_run_steps
                           WHERE run_id = $1 AND state IN ('waiting', 'queued', 'running'))
         RETURNING {RUN_COLUMNS}"
    ))
    .bind::<BigInt, _>(run_id)
    .get_result(conn)
    .await
    .optional()?)
}

/// Cancels a running run: its unfinished steps end `canceled`, and the batches of its queued
/// steps are answered for the caller to cancel in the queue. A run already over is left as it
/// is (and answers no batches).
pub async fn cancel(conn: &mut AsyncPgConnection, run_id: i64) -> Result<Vec<i64>, RunError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Nullable<BigInt>)]
        batch_id: Option<i64>,
    }
    get(conn, run_id).await?;
    let rows: Vec<Row> = conn
        .transaction(async |conn| {
            let ended = sql_query(
                "UPDATE pipeline_runs SET state = 'canceled', finished_at = now()
                 WHERE id = $1 AND state = 'running'",
            )
            .bind::<BigInt, _>(run_id)
            .execute(conn)
            .await?;
            if ended == 0 {
                return Ok(Vec::new());
            }
            sql_query(
                "UPDATE pipeline_run_steps SET state = 'canceled', finished_at = now(),
                        lease_expires_at = NULL
                 WHERE run_id = $1 AND state IN ('waiting', 'queued', 'running')
                 RETURNING batch_id",
            )
            .bind::<BigInt, _>(run_id)
            .load(conn)
            .await
        })
        .await?;
    Ok(rows.into_iter().filter_map(|r| r.batch_id).collect())
}

/// How many runs each step key was run in (not answered from the cache), for the benchmark and
/// tests: `key -> runs`.
pub async fn executions(
    conn: &mut AsyncPgConnection,
    run_ids: &[i64],
) -> Result<HashMap<String, i64>, RunError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        key: String,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let rows: Vec<Row> = sql_query(
        "SELECT key, count(*) AS n FROM pipeline_run_steps
         WHERE run_id = ANY($1) AND started_at IS NOT NULL GROUP BY key",
    )
    .bind::<Array<BigInt>, _>(run_ids)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.key, r.n)).collect())
}

/// A run as its page shows it: each step with its jobs' progress and its pictures.
#[derive(Debug, Clone)]
pub struct RunView {
    pub run: Run,
    pub steps: Vec<StepView>,
}

#[derive(Debug, Clone)]
pub struct StepView {
    pub step: RunStep,
    /// A provider step's jobs: finished, in flight (at a worker) and all.
    pub jobs_done: i64,
    pub jobs_in_flight: i64,
    pub jobs_total: i64,
    /// Its pictures (those still there), in order.
    pub products: Vec<crate::products::Product>,
}

/// Run `run_id` with its steps, their jobs' counts and their pictures, in three queries.
pub async fn view(conn: &mut AsyncPgConnection, run_id: i64) -> Result<RunView, RunError> {
    use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
    #[derive(QueryableByName)]
    struct Tally {
        #[diesel(sql_type = BigInt)]
        batch_id: i64,
        #[diesel(sql_type = BigInt)]
        done: i64,
        #[diesel(sql_type = BigInt)]
        in_flight: i64,
        #[diesel(sql_type = BigInt)]
        total: i64,
    }
    let run = get(conn, run_id).await?;
    let steps = steps(conn, run_id).await?;
    let batches: Vec<i64> = steps.iter().filter_map(|s| s.batch_id).collect();
    let tallies: HashMap<i64, Tally> = sql_query(
        "SELECT batch_id, count(*) FILTER (WHERE state IN ('succeeded', 'failed', 'canceled')) AS done,
                count(*) FILTER (WHERE state IN ('submitting', 'running', 'downloading')) AS in_flight,
                count(*) AS total
         FROM jobs WHERE batch_id = ANY($1) GROUP BY batch_id",
    )
    .bind::<Array<BigInt>, _>(&batches)
    .load::<Tally>(conn)
    .await?
    .into_iter()
    .map(|t| (t.batch_id, t))
    .collect();
    let ids: Vec<i64> = steps.iter().flat_map(|s| s.product_ids.clone()).collect();
    let products: HashMap<i64, crate::products::Product> = crate::schema::products::table
        .filter(crate::schema::products::id.eq_any(&ids))
        .filter(crate::schema::products::deleted_at.is_null())
        .select(crate::products::Product::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let steps = steps
        .into_iter()
        .map(|step| {
            let tally = step.batch_id.and_then(|b| tallies.get(&b));
            StepView {
                jobs_done: tally.map_or(0, |t| t.done),
                jobs_in_flight: tally.map_or(0, |t| t.in_flight),
                jobs_total: tally.map_or(0, |t| t.total),
                products: step
                    .product_ids
                    .iter()
                    .filter_map(|id| products.get(id).cloned())
                    .collect(),
                step,
            }
        })
        .collect();
    Ok(RunView { run, steps })
}

/// A pipeline's page: the pipeline, one version (`None`: the latest), every version, and the
/// newest runs.
pub struct Overview {
    pub pipeline: Pipeline,
    pub version: Version,
    pub versions: Vec<(i32, DateTime<Utc>)>,
    pub runs: Vec<Run>,
}

pub async fn overview(
    conn: &mut AsyncPgConnection,
    pipeline_id: i64,
    version: Option<i32>,
) -> Result<Overview, RunError> {
    Ok(Overview {
        pipeline: store::get(conn, pipeline_id).await?,
        version: store::version(conn, pipeline_id, version).await?,
        versions: store::versions(conn, pipeline_id).await?,
        runs: list(conn, pipeline_id, 20).await?,
    })
}

/// [`super::preview`] of a run of the pipeline's latest version with `run_seed`, from the picture
/// `input_product` when it has an input step.
pub async fn preview_latest(
    conn: &mut AsyncPgConnection,
    pipeline_id: i64,
    run_seed: i64,
    input_product: Option<i64>,
) -> Result<super::Preview, RunError> {
    let pipeline = store::get(conn, pipeline_id).await?;
    let version = store::latest(conn, pipeline_id).await?;
    let input = input_picture(conn, &pipeline, &version.graph, input_product).await?;
    let inputs = KeyInputs {
        run_seed,
        // Only "always run" steps see it, and they never come from the cache anyway.
        run_id: 0,
        model_version: &|_, _| None,
        input_picture: input.as_ref().map(|(_, hash)| hash.as_str()),
    };
    Ok(super::preview(conn, &version.graph, &inputs).await?)
}

/// Makes every step running on this machine claimable now. Only for a database no other live
/// process uses (see [`crate::jobs::claim::release_orphaned_leases`]): after a crash, its steps
/// then carry on at once instead of after their lease.
pub async fn release_orphaned_steps(conn: &mut AsyncPgConnection) -> Result<usize, RunError> {
    Ok(sql_query(
        "UPDATE pipeline_run_steps SET lease_expires_at = now() - interval '1 second'
         WHERE state = 'running' AND lease_expires_at > now()",
    )
    .execute(conn)
    .await?)
}
