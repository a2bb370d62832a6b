//! Pipelines in PostgreSQL: a name per project, every saved edit a new version, and the step
//! cache (a step's key -> the products it made), shared by every process on the database.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Integer, Jsonb, Text, Timestamptz};
use diesel::{sql_query, OptionalExtension, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::graph::{Graph, GraphError};
use super::keys::StepKey;

/// A pipeline's name: trimmed, 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineName(String);

impl PipelineName {
    pub fn parse(raw: &str) -> Result<Self, PipelineError> {
        let name = raw.trim();
        let chars = name.chars().count();
        if chars == 0 {
            Err(PipelineError::Name("A pipeline needs a name.".into()))
        } else if chars > 100 {
            Err(PipelineError::Name(format!(
                "Names can be at most 100 characters; this one has {chars}."
            )))
        } else if name.chars().any(char::is_control) {
            Err(PipelineError::Name(
                "Names cannot contain line breaks, tabs or other control characters.".into(),
            ))
        } else {
            Ok(Self(name.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("{0}")]
    Name(String),
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<GraphError>),
    #[error("This project already has a pipeline named “{0}”. Choose another name.")]
    NameTaken(String),
    #[error("There is no pipeline {0}; it may have been deleted.")]
    NotFound(i64),
    #[error("There is no project with id {0}.")]
    NoProject(i64),
    #[error("Pipeline “{0}” has a run under way; cancel it (or let it finish) before deleting the pipeline.")]
    Running(String),
    #[error("the database failed: {0}")]
    Database(#[from] diesel::result::Error),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct Pipeline {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub project_id: i64,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Integer)]
    pub latest_version: i32,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

/// One saved version of a pipeline's graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    pub pipeline_id: i64,
    pub version: i32,
    pub graph: Graph,
    pub created_at: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct VersionRow {
    #[diesel(sql_type = BigInt)]
    pipeline_id: i64,
    #[diesel(sql_type = Integer)]
    version: i32,
    #[diesel(sql_type = Jsonb)]
    graph: serde_json::Value,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
}

impl VersionRow {
    fn into_version(self) -> Result<Version, PipelineError> {
        let graph = serde_json::from_value(self.graph).map_err(|e| {
            PipelineError::Database(diesel::result::Error::DeserializationError(e.into()))
        })?;
        Ok(Version {
            pipeline_id: self.pipeline_id,
            version: self.version,
            graph,
            created_at: self.created_at,
        })
    }
}

const PIPELINE_COLUMNS: &str = "p.id, p.project_id, p.name, p.created_at,
    (SELECT max(v.version) FROM pipeline_versions v WHERE v.pipeline_id = p.id) AS latest_version";

fn checked(graph: &Graph) -> Result<serde_json::Value, PipelineError> {
    graph.check().map_err(PipelineError::Invalid)?;
    Ok(serde_json::to_value(graph).expect("a graph serializes"))
}

/// Makes a pipeline with `graph` as its version 1 (checked first; nothing is saved if it fails).
pub async fn create(
    conn: &mut AsyncPgConnection,
    project_id: i64,
    name: &PipelineName,
    graph: &Graph,
) -> Result<Pipeline, PipelineError> {
    let graph = checked(graph)?;
    let made = sql_query(
        "WITH p AS (
             INSERT INTO pipelines (project_id, name) VALUES ($1, $2) RETURNING *
         ), v AS (
             INSERT INTO pipeline_versions (pipeline_id, version, graph)
             SELECT id, 1, $3 FROM p
         )
         SELECT p.id, p.project_id, p.name, p.created_at, 1 AS latest_version FROM p",
    )
    .bind::<BigInt, _>(project_id)
    .bind::<Text, _>(name.as_str())
    .bind::<Jsonb, _>(graph)
    .get_result::<Pipeline>(conn)
    .await;
    match made {
        Err(diesel::result::Error::DatabaseError(kind, info)) => match kind {
            diesel::result::DatabaseErrorKind::UniqueViolation => {
                Err(PipelineError::NameTaken(name.as_str().to_string()))
            }
            diesel::result::DatabaseErrorKind::ForeignKeyViolation => {
                Err(PipelineError::NoProject(project_id))
            }
            _ => Err(diesel::result::Error::DatabaseError(kind, info).into()),
        },
        other => Ok(other?),
    }
}

/// Saves `graph` as the pipeline's next version, in one statement (two saves at once get two
/// versions, never the same number). An unchanged graph makes no version: the latest is
/// returned.
pub async fn save(
    conn: &mut AsyncPgConnection,
    pipeline_id: i64,
    graph: &Graph,
) -> Result<Version, PipelineError> {
    let json = checked(graph)?;
    let latest = latest(conn, pipeline_id).await?;
    if latest.graph == *graph {
        return Ok(latest);
    }
    let row: VersionRow = sql_query(
        "INSERT INTO pipeline_versions (pipeline_id, version, graph)
         SELECT $1, coalesce(max(version), 0) + 1, $2 FROM pipeline_versions WHERE pipeline_id = $1
         RETURNING pipeline_id, version, graph, created_at",
    )
    .bind::<BigInt, _>(pipeline_id)
    .bind::<Jsonb, _>(json)
    .get_result(conn)
    .await?;
    row.into_version()
}

/// Deletes a pipeline with its versions and runs, in one statement that refuses while a run is
/// under way (its steps would lose their rows mid-run). What the runs made stays in the gallery,
/// and the step cache keeps answering other pipelines with the same steps.
pub async fn delete(conn: &mut AsyncPgConnection, id: i64) -> Result<(), PipelineError> {
    #[derive(QueryableByName)]
    struct Outcome {
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        deleted: Option<String>,
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        running: Option<String>,
    }
    let outcome: Outcome = sql_query(
        "WITH gone AS (
             DELETE FROM pipelines p WHERE p.id = $1 AND NOT EXISTS (
                 SELECT 1 FROM pipeline_runs r WHERE r.pipeline_id = p.id AND r.state = 'running')
             RETURNING p.name
         )
         SELECT (SELECT name FROM gone) AS deleted,
                (SELECT name FROM pipelines WHERE id = $1) AS running",
    )
    .bind::<BigInt, _>(id)
    .get_result(conn)
    .await?;
    match outcome {
        Outcome {
            deleted: Some(_), ..
        } => Ok(()),
        Outcome {
            running: Some(name),
            ..
        } => Err(PipelineError::Running(name)),
        _ => Err(PipelineError::NotFound(id)),
    }
}

pub async fn get(conn: &mut AsyncPgConnection, id: i64) -> Result<Pipeline, PipelineError> {
    sql_query(format!(
        "SELECT {PIPELINE_COLUMNS} FROM pipelines p WHERE p.id = $1"
    ))
    .bind::<BigInt, _>(id)
    .get_result(conn)
    .await
    .map_err(|e| match e {
        diesel::result::Error::NotFound => PipelineError::NotFound(id),
        e => e.into(),
    })
}

/// A project's pipelines, by name.
pub async fn list(
    conn: &mut AsyncPgConnection,
    project_id: i64,
) -> Result<Vec<Pipeline>, PipelineError> {
    Ok(sql_query(format!(
        "SELECT {PIPELINE_COLUMNS} FROM pipelines p WHERE p.project_id = $1 ORDER BY p.name, p.id"
    ))
    .bind::<BigInt, _>(project_id)
    .load(conn)
    .await?)
}

/// One version (`None`: the latest).
pub async fn version(
    conn: &mut AsyncPgConnection,
    pipeline_id: i64,
    version: Option<i32>,
) -> Result<Version, PipelineError> {
    let row: Option<VersionRow> = sql_query(
        "SELECT pipeline_id, version, graph, created_at FROM pipeline_versions
         WHERE pipeline_id = $1 AND ($2::integer IS NULL OR version = $2)
         ORDER BY version DESC LIMIT 1",
    )
    .bind::<BigInt, _>(pipeline_id)
    .bind::<diesel::sql_types::Nullable<Integer>, _>(version)
    .get_result(conn)
    .await
    .optional()?;
    row.ok_or(PipelineError::NotFound(pipeline_id))?
        .into_version()
}

pub async fn latest(
    conn: &mut AsyncPgConnection,
    pipeline_id: i64,
) -> Result<Version, PipelineError> {
    version(conn, pipeline_id, None).await
}

/// Every version's number and time, newest first.
pub async fn versions(
    conn: &mut AsyncPgConnection,
    pipeline_id: i64,
) -> Result<Vec<(i32, DateTime<Utc>)>, PipelineError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Integer)]
        version: i32,
        #[diesel(sql_type = Timestamptz)]
        created_at: DateTime<Utc>,
    }
    let rows: Vec<Row> = sql_query(
        "SELECT version, created_at FROM pipeline_versions WHERE pipeline_id = $1
         ORDER BY version DESC",
    )
    .bind::<BigInt, _>(pipeline_id)
    .load(conn)
    .await?;
    if rows.is_empty() {
        return Err(PipelineError::NotFound(pipeline_id));
    }
    Ok(rows
        .into_iter()
        .map(|r| (r.version, r.created_at))
        .collect())
}

/// A copy of the pipeline's latest version under a new name in the same project.
pub async fn duplicate(
    conn: &mut AsyncPgConnection,
    pipeline_id: i64,
    name: &PipelineName,
) -> Result<Pipeline, PipelineError> {
    let source = get(conn, pipeline_id).await?;
    let graph = latest(conn, pipeline_id).await?.graph;
    create(conn, source.project_id, name, &graph).await
}

/// The cached products of each of `keys` that has a usable entry: one whose products all
/// exist and none is in the trash.
pub async fn cached(
    conn: &mut AsyncPgConnection,
    keys: &[StepKey],
) -> Result<HashMap<StepKey, Vec<i64>>, PipelineError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        key: String,
        #[diesel(sql_type = Array<BigInt>)]
        product_ids: Vec<i64>,
    }
    let texts: Vec<&str> = keys.iter().map(StepKey::as_str).collect();
    let rows: Vec<Row> = sql_query(
        "SELECT c.key, c.product_ids FROM step_cache c
         WHERE c.key = ANY($1)
           AND (SELECT count(*) FROM products p
                WHERE p.id = ANY(c.product_ids) AND p.deleted_at IS NULL)
               = cardinality(c.product_ids)",
    )
    .bind::<Array<Text>, _>(texts)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| Some((StepKey::parse(&r.key)?, r.product_ids)))
        .collect())
}

/// Records what a step made under its key (replacing an entry whose products are gone).
pub async fn remember(
    conn: &mut AsyncPgConnection,
    key: &StepKey,
    product_ids: &[i64],
) -> Result<(), PipelineError> {
    sql_query(
        "INSERT INTO step_cache (key, product_ids) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET product_ids = EXCLUDED.product_ids, created_at = now()",
    )
    .bind::<Text, _>(key.as_str())
    .bind::<Array<BigInt>, _>(product_ids)
    .execute(conn)
    .await?;
    Ok(())
}
