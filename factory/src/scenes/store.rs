//! Scenes in PostgreSQL: a `scenes` row and one `scene_nodes` row per node, written together in
//! one transaction. A save replaces the nodes; one based on an older revision than the stored
//! one is refused, so two tabs never silently overwrite each other.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Double, Integer, Jsonb, Nullable, Text, Timestamptz};
use diesel::{sql_query, OptionalExtension, QueryableByName};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::Value;

use super::{Invalid, Node, Problem, SceneDoc};

#[derive(Debug, thiserror::Error)]
pub enum SceneError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("There is no scene {0}; it may have been deleted.")]
    NotFound(i64),
    #[error("There is no project with id {0}; it may have been deleted.")]
    NoProject(i64),
    #[error("The scene was saved elsewhere since you opened it (revision {current}, yours {yours}); reload it, then make your change again.")]
    Conflict { current: i32, yours: i32 },
    #[error("the database failed: {0}")]
    Database(#[from] diesel::result::Error),
    #[error(transparent)]
    Unavailable(crate::db::DbError),
}

impl From<crate::db::DbError> for SceneError {
    fn from(e: crate::db::DbError) -> Self {
        match e {
            crate::db::DbError::Query(e) => SceneError::Database(e),
            other => SceneError::Unavailable(other),
        }
    }
}

/// A stored scene.
#[derive(Debug, Clone, PartialEq)]
pub struct Scene {
    pub id: i64,
    pub project_id: i64,
    pub revision: i32,
    pub doc: SceneDoc,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A scene in a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub id: i64,
    pub name: String,
    pub nodes: i64,
    pub updated_at: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct SceneRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    project_id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Array<Double>)]
    environment: Vec<f64>,
    #[diesel(sql_type = Integer)]
    revision: i32,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    updated_at: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct NodeRow {
    #[diesel(sql_type = Jsonb)]
    node: Value,
}

/// Every model node whose asset is not one of the project's, named at its pointer.
pub async fn check_assets(
    conn: &mut AsyncPgConnection,
    project_id: i64,
    doc: &SceneDoc,
) -> Result<(), SceneError> {
    let wanted: Vec<i64> = doc.asset_ids().into_iter().collect();
    if wanted.is_empty() {
        return Ok(());
    }
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let found: BTreeSet<i64> = sql_query(
        "SELECT a.id FROM assets a JOIN products p ON p.id = a.product_id \
         WHERE a.id = ANY($1) AND a.project_id = $2 AND p.deleted_at IS NULL",
    )
    .bind::<Array<BigInt>, _>(&wanted)
    .bind::<BigInt, _>(project_id)
    .load::<Found>(conn)
    .await?
    .into_iter()
    .map(|f| f.id)
    .collect();
    let problems: Vec<Problem> = doc
        .nodes
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            let id = n.asset_id()?;
            (!found.contains(&id)).then(|| Problem {
                pointer: format!("/nodes/{i}/asset_id"),
                message: format!(
                    "there is no 3D asset {id} in this project (it may have been deleted); \
                     upload the model on the 3D assets page and use its id"
                ),
            })
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Invalid(problems).into())
    }
}

async fn write_nodes(
    conn: &mut AsyncPgConnection,
    scene_id: i64,
    doc: &SceneDoc,
) -> Result<(), SceneError> {
    sql_query("DELETE FROM scene_nodes WHERE scene_id = $1")
        .bind::<BigInt, _>(scene_id)
        .execute(conn)
        .await?;
    if doc.nodes.is_empty() {
        return Ok(());
    }
    let parents = doc.parents();
    let positions: Vec<i32> = (0..doc.nodes.len() as i32).collect();
    let names: Vec<&str> = doc.nodes.iter().map(Node::name).collect();
    let parent: Vec<Option<i32>> = parents.iter().map(|p| p.map(|p| p as i32)).collect();
    let kinds: Vec<&str> = doc.nodes.iter().map(Node::kind).collect();
    let assets: Vec<Option<i64>> = doc.nodes.iter().map(Node::asset_id).collect();
    let nodes: Vec<Value> = doc
        .nodes
        .iter()
        .map(|n| serde_json::to_value(n).expect("nodes serialise"))
        .collect();
    sql_query(
        "INSERT INTO scene_nodes (scene_id, position, name, parent, kind, asset_id, node) \
         SELECT $1, * FROM unnest($2::int[], $3::text[], $4::int[], $5::text[], $6::bigint[], $7::jsonb[])",
    )
    .bind::<BigInt, _>(scene_id)
    .bind::<Array<Integer>, _>(&positions)
    .bind::<Array<Text>, _>(&names)
    .bind::<Array<Nullable<Integer>>, _>(&parent)
    .bind::<Array<Text>, _>(&kinds)
    .bind::<Array<Nullable<BigInt>>, _>(&assets)
    .bind::<Array<Jsonb>, _>(&nodes)
    .execute(conn)
    .await?;
    Ok(())
}

async fn project_exists(conn: &mut AsyncPgConnection, project_id: i64) -> Result<(), SceneError> {
    #[derive(QueryableByName)]
    struct One {
        #[diesel(sql_type = BigInt)]
        #[allow(dead_code)]
        id: i64,
    }
    sql_query("SELECT id FROM projects WHERE id = $1")
        .bind::<BigInt, _>(project_id)
        .get_result::<One>(conn)
        .await
        .optional()?
        .map(|_| ())
        .ok_or(SceneError::NoProject(project_id))
}

/// Checks and stores a new scene in `project_id`.
pub async fn create(
    conn: &mut AsyncPgConnection,
    project_id: i64,
    mut doc: SceneDoc,
) -> Result<Scene, SceneError> {
    doc.check()?;
    project_exists(conn, project_id).await?;
    check_assets(conn, project_id, &doc).await?;
    let id = conn
        .transaction(async |conn| {
            #[derive(QueryableByName)]
            struct Id {
                #[diesel(sql_type = BigInt)]
                id: i64,
            }
            let row: Id = sql_query(
                "INSERT INTO scenes (project_id, name, environment) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind::<BigInt, _>(project_id)
            .bind::<Text, _>(&doc.name)
            .bind::<Array<Double>, _>(doc.environment.to_vec())
            .get_result(conn)
            .await?;
            write_nodes(conn, row.id, &doc).await?;
            Ok::<_, SceneError>(row.id)
        })
        .await?;
    get(conn, id).await
}

/// Replaces scene `id` with `doc`. With `revision`, the save is refused when the stored scene
/// has moved on since.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: i64,
    mut doc: SceneDoc,
    revision: Option<i32>,
) -> Result<Scene, SceneError> {
    doc.check()?;
    conn.transaction(async |conn| {
        #[derive(QueryableByName)]
        struct Rev {
            #[diesel(sql_type = Integer)]
            revision: i32,
            #[diesel(sql_type = BigInt)]
            project_id: i64,
        }
        // The row lock orders concurrent saves; the revision check refuses a stale one.
        let stored: Rev =
            sql_query("SELECT revision, project_id FROM scenes WHERE id = $1 FOR UPDATE")
                .bind::<BigInt, _>(id)
                .get_result(conn)
                .await
                .optional()?
                .ok_or(SceneError::NotFound(id))?;
        if let Some(yours) = revision.filter(|r| *r != stored.revision) {
            return Err(SceneError::Conflict {
                current: stored.revision,
                yours,
            });
        }
        check_assets(conn, stored.project_id, &doc).await?;
        sql_query(
            "UPDATE scenes SET name = $2, environment = $3, revision = revision + 1, \
             updated_at = now() WHERE id = $1",
        )
        .bind::<BigInt, _>(id)
        .bind::<Text, _>(&doc.name)
        .bind::<Array<Double>, _>(doc.environment.to_vec())
        .execute(conn)
        .await?;
        write_nodes(conn, id, &doc).await
    })
    .await?;
    get(conn, id).await
}

pub async fn get(conn: &mut AsyncPgConnection, id: i64) -> Result<Scene, SceneError> {
    let row: SceneRow = sql_query(
        "SELECT id, project_id, name, environment, revision, created_at, updated_at \
         FROM scenes WHERE id = $1",
    )
    .bind::<BigInt, _>(id)
    .get_result(conn)
    .await
    .optional()?
    .ok_or(SceneError::NotFound(id))?;
    let nodes: Vec<NodeRow> =
        sql_query("SELECT node FROM scene_nodes WHERE scene_id = $1 ORDER BY position")
            .bind::<BigInt, _>(id)
            .load(conn)
            .await?;
    let environment = [0, 1, 2].map(|i| row.environment.get(i).copied().unwrap_or(0.0));
    Ok(Scene {
        id: row.id,
        project_id: row.project_id,
        revision: row.revision,
        doc: SceneDoc {
            name: row.name,
            environment,
            // Written by this module from these types.
            nodes: nodes
                .into_iter()
                .map(|n| serde_json::from_value(n.node).expect("stored nodes read back"))
                .collect(),
        },
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// A project's scenes, most recently changed first.
pub async fn list(
    conn: &mut AsyncPgConnection,
    project_id: i64,
) -> Result<Vec<Summary>, SceneError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = BigInt)]
        nodes: i64,
        #[diesel(sql_type = Timestamptz)]
        updated_at: DateTime<Utc>,
    }
    let rows: Vec<Row> = sql_query(
        "SELECT s.id, s.name, (SELECT count(*) FROM scene_nodes n WHERE n.scene_id = s.id) AS nodes, \
         s.updated_at FROM scenes s WHERE s.project_id = $1 ORDER BY s.updated_at DESC, s.id DESC LIMIT 500",
    )
    .bind::<BigInt, _>(project_id)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Summary {
            id: r.id,
            name: r.name,
            nodes: r.nodes,
            updated_at: r.updated_at,
        })
        .collect())
}

pub async fn delete(conn: &mut AsyncPgConnection, id: i64) -> Result<(), SceneError> {
    let deleted = sql_query("DELETE FROM scenes WHERE id = $1")
        .bind::<BigInt, _>(id)
        .execute(conn)
        .await?;
    if deleted == 0 {
        return Err(SceneError::NotFound(id));
    }
    Ok(())
}

/// Where each asset a scene places is stored: asset id to its project and content hash.
pub async fn asset_files(
    conn: &mut AsyncPgConnection,
    doc: &SceneDoc,
) -> Result<BTreeMap<i64, (i64, String)>, SceneError> {
    let wanted: Vec<i64> = doc.asset_ids().into_iter().collect();
    #[derive(QueryableByName)]
    struct File {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = BigInt)]
        project_id: i64,
        #[diesel(sql_type = Text)]
        content_hash: String,
    }
    let files: Vec<File> = sql_query(
        "SELECT a.id, p.project_id, p.content_hash FROM assets a \
         JOIN products p ON p.id = a.product_id WHERE a.id = ANY($1)",
    )
    .bind::<Array<BigInt>, _>(&wanted)
    .load(conn)
    .await?;
    Ok(files
        .into_iter()
        .map(|f| (f.id, (f.project_id, f.content_hash)))
        .collect())
}

/// The renders of scene `id`: their product ids, newest first.
pub async fn renders(conn: &mut AsyncPgConnection, id: i64) -> Result<Vec<i64>, SceneError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let rows: Vec<Row> = sql_query(
        "SELECT id FROM products WHERE params ? 'scene_id' AND params ->> 'scene_id' = $1 \
         AND deleted_at IS NULL ORDER BY id DESC LIMIT 200",
    )
    .bind::<Text, _>(id.to_string())
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// The scene a render (a product) was drawn from, when it still exists: its id and name.
pub async fn of_render(
    conn: &mut AsyncPgConnection,
    product: &crate::products::Product,
) -> Result<Option<(i64, String)>, SceneError> {
    let Some(scene_id) = product.params.get("scene_id").and_then(Value::as_i64) else {
        return Ok(None);
    };
    Ok(crate::db::id_and_name(conn, "SELECT id, name FROM scenes WHERE id = $1", scene_id).await?)
}
