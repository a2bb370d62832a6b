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

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Bool, Integer, Nullable, Text, Timestamptz};
use diesel::{sql_query, OptionalExtension, QueryableByName};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

use super::store::PipelineError;

mod start;
mod view;

pub use start::{item_seeds, launch_request, rerun_from, start};
pub use view::{overview, preview_latest, view, Overview, RunView, StepView};

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
