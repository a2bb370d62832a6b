//! Render jobs: a scene drawn by an engine, queued like any generation. A render is a batch of
//! one job in the durable queue (lease, retry, cancel and crash recovery as for images), run by
//! an engine that is a provider without a remote queue ([`super::engines`]). The job carries a
//! snapshot of the scene as it was when queued; the worker loads the asset files and merges
//! them into one GLB just before the engine runs. The picture is a product whose parameters
//! name the scene.

use std::collections::BTreeMap;
use std::sync::Arc;

use diesel::sql_types::{BigInt, Jsonb};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::engines::{self, Engine};
use crate::batches::{self, FieldError, ItemLimits, LaunchError, LaunchRequest, SeedChoice};
use crate::jobs::Job;
use crate::media::MediaStore;
use crate::prompt::Mode;
use crate::providers::Providers;
use crate::scenes::export::{export, Include};
use crate::scenes::store::{self, SceneError};
use crate::scenes::SceneDoc;

/// The scene a render job draws, as it was when the job was queued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SceneInput {
    pub scene_id: i64,
    pub revision: i32,
    /// The camera node's name.
    pub camera: String,
    pub doc: SceneDoc,
    /// The scene's models merged into one GLB (no lights or cameras: the engine sets its own),
    /// made by the worker just before the engine runs; never stored with the job.
    #[serde(skip)]
    pub glb: Option<Arc<Vec<u8>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    Png,
    Jpeg,
    Exr,
}

impl OutputFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            OutputFormat::Png => "png",
            OutputFormat::Jpeg => "jpeg",
            OutputFormat::Exr => "exr",
        }
    }

    /// The file name's extension.
    pub fn ext(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "jpg",
            other => other.as_str(),
        }
    }
}

/// What a person asks to render.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderOrder {
    pub scene_id: i64,
    /// The camera node's name; the scene's first camera when left out.
    pub camera: Option<String>,
    pub engine: Engine,
    pub width: u32,
    pub height: u32,
    pub format: OutputFormat,
    /// The engine's samples per pixel; its default when left out.
    pub samples: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Scene(#[from] SceneError),
    #[error("{0}")]
    Invalid(String),
    #[error("The {engine} engine is not available here: {how}")]
    EngineMissing { engine: &'static str, how: String },
    #[error(transparent)]
    Launch(#[from] LaunchError),
    #[error("There is no render job {0}.")]
    NotFound(i64),
    #[error("the database failed: {0}")]
    Database(#[from] diesel::result::Error),
    #[error(transparent)]
    Unavailable(crate::db::DbError),
}

impl From<crate::db::DbError> for RenderError {
    fn from(e: crate::db::DbError) -> Self {
        match e {
            crate::db::DbError::Query(e) => RenderError::Database(e),
            other => RenderError::Unavailable(other),
        }
    }
}

/// Queues a render of scene `order.scene_id` and returns its job.
pub async fn queue(
    conn: &mut AsyncPgConnection,
    providers: &Providers,
    limits: ItemLimits,
    max_attempts: i32,
    order: &RenderOrder,
) -> Result<Job, RenderError> {
    let scene = store::get(conn, order.scene_id).await?;
    let provider_id = order.engine.provider_id();
    let Some(provider) = providers.get(provider_id) else {
        return Err(RenderError::EngineMissing {
            engine: order.engine.name(),
            how: engines::how_to_install(order.engine),
        });
    };
    let camera = match &order.camera {
        Some(name) => scene
            .doc
            .cameras()
            .find(|c| &c.name == name)
            .map(|c| c.name.clone())
            .ok_or_else(|| {
                RenderError::Invalid(format!(
                    "The scene has no camera named “{name}”; its cameras are: {}.",
                    camera_names(&scene.doc)
                ))
            })?,
        None => scene
            .doc
            .cameras()
            .next()
            .map(|c| c.name.clone())
            .ok_or_else(|| {
                RenderError::Invalid(
                    "The scene has no camera to render from; add a camera node first.".into(),
                )
            })?,
    };
    if !scene.doc.nodes.iter().any(|n| n.asset_id().is_some()) {
        return Err(RenderError::Invalid(
            "The scene places no model; add a model node first.".into(),
        ));
    }
    let model = provider.info().models[0].id.clone();
    let mut params = Map::new();
    params.insert("width".into(), json!(order.width));
    params.insert("height".into(), json!(order.height));
    params.insert("format".into(), json!(order.format.as_str()));
    if let Some(samples) = order.samples {
        params.insert("samples".into(), json!(samples));
    }
    let launch = LaunchRequest {
        project_id: scene.project_id,
        provider: provider_id.to_string(),
        model,
        prompt: crate::prompt::escape(&format!(
            "Render of “{}” from camera “{camera}”",
            scene.doc.name
        )),
        negative_prompt: String::new(),
        params,
        count: 1,
        mode: Mode::Combinatorial,
        seed: SeedChoice::Fixed(0),
        confirmed: false,
        networks: Vec::new(),
        input_image: None,
        made_from: None,
    };
    let input = SceneInput {
        scene_id: scene.id,
        revision: scene.revision,
        camera,
        doc: scene.doc,
        glb: None,
    };
    let input = serde_json::to_value(&input).expect("scenes serialise");
    let job = conn
        .transaction(async |conn| {
            let (_, jobs, _) =
                batches::launch_priced(conn, providers, limits, max_attempts, &launch).await?;
            let job = jobs
                .into_iter()
                .next()
                .expect("a launch of one makes one job");
            // The snapshot joins the job's input in the transaction that queued it.
            let job: Job = diesel::sql_query(
                "UPDATE jobs SET input = input || jsonb_build_object('scene', $2::jsonb) \
                 WHERE id = $1 RETURNING *",
            )
            .bind::<BigInt, _>(job.id)
            .bind::<Jsonb, _>(&input)
            .get_result(conn)
            .await?;
            Ok::<_, RenderError>(job)
        })
        .await
        .map_err(|e| match e {
            RenderError::Launch(LaunchError::Invalid(errors)) => RenderError::Invalid(
                errors
                    .iter()
                    .map(|e: &FieldError| e.message.clone())
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            other => other,
        })?;
    Ok(job)
}

fn camera_names(doc: &SceneDoc) -> String {
    let names: Vec<String> = doc.cameras().map(|c| format!("“{}”", c.name)).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// The GLB of every asset `doc` places, by asset id.
pub async fn asset_glbs(
    conn: &mut AsyncPgConnection,
    media: &MediaStore,
    doc: &SceneDoc,
) -> Result<BTreeMap<i64, Vec<u8>>, String> {
    let files = store::asset_files(conn, doc)
        .await
        .map_err(|e| e.to_string())?;
    let mut glbs = BTreeMap::new();
    for id in doc.asset_ids() {
        let Some((project, hash)) = files.get(&id) else {
            return Err(format!(
                "the scene places 3D asset {id}, which has been deleted since"
            ));
        };
        let key = media
            .original_key(*project, hash, "glb")
            .ok_or_else(|| format!("3D asset {id} has no readable file name"))?;
        let bytes = media
            .read_async(&key)
            .await
            .map_err(|e| format!("the file of 3D asset {id} could not be read: {e}"))?;
        glbs.insert(id, bytes);
    }
    Ok(glbs)
}

/// Loads the asset files of the scene a job draws and merges them into one GLB.
pub async fn load_scene(
    conn: &mut AsyncPgConnection,
    media: &MediaStore,
    scene: &mut SceneInput,
) -> Result<(), String> {
    let glbs = asset_glbs(conn, media, &scene.doc).await?;
    let doc = scene.doc.clone();
    let glb = tokio::task::spawn_blocking(move || export(&doc, &glbs, Include::MODELS))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    scene.glb = Some(Arc::new(glb));
    Ok(())
}

/// The product parameters that tie a render to its scene.
pub fn product_params(scene: &SceneInput, params: &mut Map<String, Value>) {
    params.insert("scene_id".into(), json!(scene.scene_id));
    params.insert("scene_revision".into(), json!(scene.revision));
    params.insert("camera".into(), json!(scene.camera));
}

/// A render job as its API shows it: the queue's row, what it draws, and its pictures.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderJob {
    pub job: Job,
    pub scene_id: i64,
    pub scene_revision: i32,
    pub camera: String,
    pub engine: Engine,
    pub outputs: Vec<crate::products::Product>,
}

/// What a render job's input says it draws (the rest of the snapshot is the engine's).
#[derive(Deserialize)]
struct Drawn {
    scene_id: i64,
    revision: i32,
    camera: String,
}

/// Render jobs with their pictures; a job that is not a render is left out.
async fn with_outputs(
    conn: &mut AsyncPgConnection,
    jobs: Vec<Job>,
) -> Result<Vec<RenderJob>, RenderError> {
    use crate::products::Product;
    use crate::schema::products;
    use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
    let ids: Vec<i64> = jobs.iter().map(|j| j.id).collect();
    let rows: Vec<Product> = products::table
        .filter(products::job_id.eq_any(&ids))
        .order((products::job_id, products::output_index))
        .select(Product::as_select())
        .load(conn)
        .await?;
    let mut outputs: BTreeMap<i64, Vec<Product>> = BTreeMap::new();
    for product in rows {
        if let Some(job) = product.job_id {
            outputs.entry(job).or_default().push(product);
        }
    }
    Ok(jobs
        .into_iter()
        .filter_map(|job| {
            let engine = Engine::from_provider(&job.provider)?;
            let drawn: Drawn = serde_json::from_value(job.input.get("scene")?.clone()).ok()?;
            let mine = outputs.remove(&job.id).unwrap_or_default();
            Some(RenderJob {
                job,
                scene_id: drawn.scene_id,
                scene_revision: drawn.revision,
                camera: drawn.camera,
                engine,
                outputs: mine,
            })
        })
        .collect())
}

/// Render job `id` (a job that draws a scene; any other job is not one).
pub async fn get(conn: &mut AsyncPgConnection, id: i64) -> Result<RenderJob, RenderError> {
    use crate::schema::jobs;
    use diesel::{OptionalExtension, QueryDsl, SelectableHelper};
    let job: Option<Job> = jobs::table
        .find(id)
        .select(Job::as_select())
        .first(conn)
        .await
        .optional()?;
    let job = job.ok_or(RenderError::NotFound(id))?;
    with_outputs(conn, vec![job])
        .await?
        .pop()
        .ok_or(RenderError::NotFound(id))
}

/// The render jobs of scene `id`, newest first, with their pictures: two queries.
pub async fn of_scene(
    conn: &mut AsyncPgConnection,
    scene_id: i64,
    limit: i64,
) -> Result<Vec<RenderJob>, RenderError> {
    let jobs: Vec<Job> = diesel::sql_query(
        "SELECT * FROM jobs WHERE input ? 'scene' AND input -> 'scene' ->> 'scene_id' = $1 \
         AND provider = ANY($2) ORDER BY id DESC LIMIT $3",
    )
    .bind::<diesel::sql_types::Text, _>(scene_id.to_string())
    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(
        Engine::ALL.map(Engine::provider_id).to_vec(),
    )
    .bind::<BigInt, _>(limit.clamp(1, 100))
    .load(conn)
    .await?;
    with_outputs(conn, jobs).await
}
