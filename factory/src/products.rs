//! Products: stored results, one row per file, with where they came from.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;

use crate::schema::products;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = products)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct Product {
    pub id: i64,
    pub project_id: i64,
    pub kind: String,
    pub content_hash: String,
    pub path: String,
    pub mime: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub bytes: i64,
    pub prompt: String,
    pub negative_prompt: String,
    pub params: Value,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub seed: Option<i64>,
    pub job_id: Option<i64>,
    pub batch_id: Option<i64>,
    pub output_index: i32,
    pub bindings: Value,
    pub parent_id: Option<i64>,
    pub rating: Option<i16>,
    pub favourite: bool,
    pub rejected: bool,
    pub thumbhash: Option<String>,
    pub created_at: DateTime<Utc>,
    /// In the trash since then.
    pub deleted_at: Option<DateTime<Utc>>,
    /// How long a video or sound lasts.
    pub duration_ms: Option<i32>,
    /// What was probed of a video or sound ([`crate::media::av::Probe`]).
    pub av_info: Option<Value>,
}

impl Product {
    /// The original's file extension (from its stored path).
    pub fn ext(&self) -> &str {
        self.path.rsplit('.').next().unwrap_or("")
    }

    pub fn created_event(&self) -> crate::events::EventKind {
        crate::events::EventKind::ProductCreated(Box::new(self.clone()))
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = products)]
pub struct NewProduct {
    pub project_id: i64,
    pub content_hash: String,
    pub path: String,
    pub mime: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub bytes: i64,
    pub prompt: String,
    pub negative_prompt: String,
    pub params: Value,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub seed: Option<i64>,
    pub job_id: Option<i64>,
    pub batch_id: Option<i64>,
    pub output_index: i32,
    pub bindings: Value,
    pub thumbhash: Option<String>,
    /// The product it was made from (its input picture), or for.
    pub parent_id: Option<i64>,
    pub kind: &'static str,
    pub duration_ms: Option<i32>,
    pub av_info: Option<Value>,
}

impl NewProduct {
    /// The file `stored` as a product of `project_id`, with nothing yet about where it came
    /// from.
    pub fn stored(project_id: i64, stored: crate::media::StoredFile) -> Self {
        Self {
            content_hash: stored.hash,
            path: stored.rel_path,
            mime: stored.format.mime().to_string(),
            width: Some(stored.width as i32),
            height: Some(stored.height as i32),
            bytes: stored.bytes as i64,
            thumbhash: Some(stored.thumbhash),
            ..Self::blank(project_id)
        }
    }

    /// A picture of `project_id` with no file yet and nothing about where it came from.
    fn blank(project_id: i64) -> Self {
        Self {
            project_id,
            content_hash: String::new(),
            path: String::new(),
            mime: String::new(),
            width: None,
            height: None,
            bytes: 0,
            prompt: String::new(),
            negative_prompt: String::new(),
            params: Value::Object(Default::default()),
            provider: None,
            model: None,
            seed: None,
            job_id: None,
            batch_id: None,
            output_index: 0,
            bindings: Value::Object(Default::default()),
            thumbhash: None,
            parent_id: None,
            kind: "image",
            duration_ms: None,
            av_info: None,
        }
    }

    /// A stored video or sound as a product of `project_id`, of kind `video` or `audio`.
    pub fn stored_av(project_id: i64, stored: crate::media::StoredAv) -> Self {
        let video = stored.probe.video.as_ref();
        Self {
            project_id,
            content_hash: stored.hash,
            path: stored.rel_path,
            mime: stored.probe.mime().to_string(),
            width: video.map(|v| v.width as i32),
            height: video.map(|v| v.height as i32),
            bytes: stored.bytes as i64,
            thumbhash: Some(stored.thumbhash),
            kind: if video.is_some() { "video" } else { "audio" },
            duration_ms: Some((stored.probe.duration_secs * 1000.0).round() as i32),
            av_info: Some(serde_json::to_value(&stored.probe).expect("a probe serialises")),
            ..Self::blank(project_id)
        }
    }

    /// Output `index` of `job`, stored as `file` ([`stored`](Self::stored) or
    /// [`stored_av`](Self::stored_av)): the file, and where it came from (the request's prompt
    /// and settings, the job's seed and bindings).
    pub fn from_job(
        job: &crate::jobs::Job,
        request: &crate::providers::GenerationRequest,
        index: usize,
        file: NewProduct,
    ) -> Self {
        Self {
            prompt: request.prompt.clone(),
            negative_prompt: request.negative_prompt.clone(),
            params: Value::Object({
                let mut params = request.params.clone();
                if let Some(scene) = &request.scene {
                    crate::render::jobs::product_params(scene, &mut params);
                }
                params
            }),
            provider: Some(job.provider.clone()),
            model: Some(job.model.clone()),
            seed: Some(job.seed),
            job_id: Some(job.id),
            batch_id: Some(job.batch_id),
            output_index: index as i32,
            bindings: job.bindings.clone(),
            parent_id: request
                .input_image
                .as_ref()
                .map(|i| i.product_id)
                .or(request.made_from),
            ..file
        }
    }
}

/// Inserts products; a job output already stored (a retried download) is skipped, not
/// duplicated. Returns the rows actually inserted.
pub async fn insert_new(
    conn: &mut AsyncPgConnection,
    rows: &[NewProduct],
) -> QueryResult<Vec<Product>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // The unique index is partial (job_id IS NOT NULL), so ON CONFLICT names its columns and
    // predicate rather than a constraint.
    diesel::insert_into(products::table)
        .values(rows)
        .on_conflict((products::job_id, products::output_index))
        .filter_target(products::job_id.is_not_null())
        .do_nothing()
        .returning(Product::as_returning())
        .get_results(conn)
        .await
}

pub async fn list_for_batch(
    conn: &mut AsyncPgConnection,
    batch_id: i64,
) -> QueryResult<Vec<Product>> {
    products::table
        .filter(products::batch_id.eq(batch_id))
        .filter(products::deleted_at.is_null())
        .order((products::job_id.asc(), products::output_index.asc()))
        .select(Product::as_select())
        .load(conn)
        .await
}

pub async fn count_for_project(conn: &mut AsyncPgConnection, project_id: i64) -> QueryResult<i64> {
    products::table
        .filter(products::project_id.eq(project_id))
        .filter(products::deleted_at.is_null())
        .count()
        .get_result(conn)
        .await
}

/// One product.
pub async fn get(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Product>> {
    products::table
        .find(id)
        .select(Product::as_select())
        .first(conn)
        .await
        .optional()
}

/// Where a product came from and what it went into: its parent (the input it was made from),
/// and the products made from it, oldest first.
pub async fn lineage(
    conn: &mut AsyncPgConnection,
    product: &Product,
) -> QueryResult<(Option<Product>, Vec<Product>)> {
    let parent = match product.parent_id {
        Some(id) => get(conn, id).await?,
        None => None,
    };
    let children = products::table
        .filter(products::parent_id.eq(product.id))
        .filter(products::deleted_at.is_null())
        .order((products::created_at.asc(), products::id.asc()))
        .limit(200)
        .select(Product::as_select())
        .load(conn)
        .await?;
    Ok((parent, children))
}
