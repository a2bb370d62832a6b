//! The Queue page's view of the queue: batches with their counts per state, and a batch's jobs,
//! a page at a time.
//!
//! Both lists are keyset-paged, so a queue of 10,000 waiting jobs costs the same per request as
//! one of ten: a page of batches reads the unfinished jobs' partial index once, then one
//! aggregate per listed batch; a page of jobs reads one batch's jobs only.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{Array, BigInt, Float, Integer, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{Job, JobState};

/// The most rows one page may hold.
pub const MAX_PAGE: i64 = 200;
/// Thumbnails shown on a batch's row.
const BATCH_THUMBS: i64 = 4;
/// The states a job waits or runs in (the partial index `jobs_unfinished_batch_idx`).
const UNFINISHED: &str = "('queued', 'submitting', 'running', 'downloading', 'retry_wait')";

/// Which batches a page lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Batches with a job still waiting or running, in the order they run: the batch holding
    /// the front of the queue first.
    Active,
    /// Batches whose every job is finished, newest first.
    Finished,
}

/// Where the next page of batches starts: the last listed batch's key in its section's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchCursor {
    /// The highest priority among the batch's unfinished jobs, and its oldest unfinished job.
    Active {
        priority: i64,
        first_job: i64,
    },
    Finished {
        batch: i64,
    },
}

/// How many of a batch's jobs are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateCounts {
    pub queued: i64,
    /// Submitting, running at the provider or downloading.
    pub running: i64,
    pub retry_wait: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub canceled: i64,
}

impl StateCounts {
    pub fn unfinished(&self) -> i64 {
        self.queued + self.running + self.retry_wait
    }

    pub fn finished(&self) -> i64 {
        self.succeeded + self.failed + self.canceled
    }
}

/// A product's small picture, as the Queue page links it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumb {
    pub product_id: i64,
    pub project_id: i64,
    pub hash: String,
}

/// One batch as the Queue page lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchSummary {
    pub id: i64,
    pub project_id: i64,
    pub project_name: String,
    pub provider: String,
    pub model: String,
    /// The prompt as written, tokens and all.
    pub template: String,
    pub created_at: DateTime<Utc>,
    pub counts: StateCounts,
    /// The provider's progress (0..=1) summed over the jobs running now.
    pub running_progress: f32,
    /// The most recent pictures it made, newest first.
    pub thumbs: Vec<Thumb>,
}

impl BatchSummary {
    /// How far along the batch is, 0..=1: finished jobs count whole, running ones by their
    /// provider's progress.
    pub fn progress(&self) -> f32 {
        let total = self.counts.unfinished() + self.counts.finished();
        if total == 0 {
            return 1.0;
        }
        ((self.counts.finished() as f32 + self.running_progress) / total as f32).clamp(0.0, 1.0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct BatchPage {
    pub batches: Vec<BatchSummary>,
    /// Where the next page starts; `None` on the last.
    pub next: Option<BatchCursor>,
}

/// A page of batches of `section`, after `after`.
pub async fn batches(
    conn: &mut AsyncPgConnection,
    section: Section,
    after: Option<BatchCursor>,
    limit: i64,
) -> QueryResult<BatchPage> {
    let limit = limit.clamp(1, MAX_PAGE);
    #[derive(QueryableByName)]
    struct Key {
        #[diesel(sql_type = BigInt)]
        batch_id: i64,
        #[diesel(sql_type = BigInt)]
        priority: i64,
        #[diesel(sql_type = BigInt)]
        first_job: i64,
    }
    // One more than asked, to know whether there is a next page.
    let keys: Vec<Key> = match (section, after) {
        (Section::Active, after) => {
            let (priority, first_job) = match after {
                Some(BatchCursor::Active {
                    priority,
                    first_job,
                }) => (Some(priority), first_job),
                _ => (None, 0),
            };
            sql_query(format!(
                "WITH active AS (
                     SELECT batch_id, max(priority) AS priority, min(id) AS first_job
                     FROM jobs WHERE state IN {UNFINISHED} GROUP BY batch_id)
                 SELECT batch_id, priority, first_job FROM active
                 WHERE $1::bigint IS NULL OR priority < $1 OR (priority = $1 AND first_job > $2)
                 ORDER BY priority DESC, first_job ASC LIMIT $3"
            ))
            .bind::<Nullable<BigInt>, _>(priority)
            .bind::<BigInt, _>(first_job)
            .bind::<BigInt, _>(limit + 1)
            .load(conn)
            .await?
        }
        (Section::Finished, after) => {
            let before = match after {
                Some(BatchCursor::Finished { batch }) => Some(batch),
                _ => None,
            };
            sql_query(format!(
                "SELECT b.id AS batch_id, 0::bigint AS priority, 0::bigint AS first_job
                 FROM batches b
                 WHERE ($1::bigint IS NULL OR b.id < $1)
                   AND NOT EXISTS (SELECT 1 FROM jobs j
                                   WHERE j.batch_id = b.id AND j.state IN {UNFINISHED})
                 ORDER BY b.id DESC LIMIT $2"
            ))
            .bind::<Nullable<BigInt>, _>(before)
            .bind::<BigInt, _>(limit + 1)
            .load(conn)
            .await?
        }
    };
    let more = keys.len() as i64 > limit;
    let keys = &keys[..keys.len().min(limit as usize)];
    let next = more.then(|| {
        let last = keys.last().expect("a full page has a last row");
        match section {
            Section::Active => BatchCursor::Active {
                priority: last.priority,
                first_job: last.first_job,
            },
            Section::Finished => BatchCursor::Finished {
                batch: last.batch_id,
            },
        }
    });
    let ids: Vec<i64> = keys.iter().map(|k| k.batch_id).collect();
    let mut summaries = summaries(conn, &ids).await?;
    // In the section's order, which the detail query does not keep.
    summaries.sort_by_key(|s| ids.iter().position(|id| *id == s.id));
    Ok(BatchPage {
        batches: summaries,
        next,
    })
}

/// The summaries of the batches `ids` (any order).
pub async fn summaries(
    conn: &mut AsyncPgConnection,
    ids: &[i64],
) -> QueryResult<Vec<BatchSummary>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = BigInt)]
        project_id: i64,
        #[diesel(sql_type = Text)]
        project_name: String,
        #[diesel(sql_type = Text)]
        provider: String,
        #[diesel(sql_type = Text)]
        model: String,
        #[diesel(sql_type = Text)]
        prompt_template: String,
        #[diesel(sql_type = Timestamptz)]
        created_at: DateTime<Utc>,
        #[diesel(sql_type = BigInt)]
        queued: i64,
        #[diesel(sql_type = BigInt)]
        running: i64,
        #[diesel(sql_type = BigInt)]
        retry_wait: i64,
        #[diesel(sql_type = BigInt)]
        succeeded: i64,
        #[diesel(sql_type = BigInt)]
        failed: i64,
        #[diesel(sql_type = BigInt)]
        canceled: i64,
        #[diesel(sql_type = Float)]
        running_progress: f32,
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<Row> = sql_query(
        "SELECT b.id, b.project_id, p.name AS project_name, b.provider, b.model,
                b.prompt_template, b.created_at, c.*
         FROM batches b
         JOIN projects p ON p.id = b.project_id
         CROSS JOIN LATERAL (
             SELECT count(*) FILTER (WHERE state = 'queued') AS queued,
                    count(*) FILTER (WHERE state IN ('submitting', 'running', 'downloading'))
                        AS running,
                    count(*) FILTER (WHERE state = 'retry_wait') AS retry_wait,
                    count(*) FILTER (WHERE state = 'succeeded') AS succeeded,
                    count(*) FILTER (WHERE state = 'failed') AS failed,
                    count(*) FILTER (WHERE state = 'canceled') AS canceled,
                    coalesce(sum(progress) FILTER (WHERE state = 'running'), 0)::real
                        AS running_progress
             FROM jobs WHERE batch_id = b.id) c
         WHERE b.id = ANY($1)",
    )
    .bind::<Array<BigInt>, _>(ids)
    .load(conn)
    .await?;
    let mut thumbs = batch_thumbs(conn, ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| BatchSummary {
            thumbs: thumbs.remove(&r.id).unwrap_or_default(),
            id: r.id,
            project_id: r.project_id,
            project_name: r.project_name,
            provider: r.provider,
            model: r.model,
            template: r.prompt_template,
            created_at: r.created_at,
            counts: StateCounts {
                queued: r.queued,
                running: r.running,
                retry_wait: r.retry_wait,
                succeeded: r.succeeded,
                failed: r.failed,
                canceled: r.canceled,
            },
            running_progress: r.running_progress,
        })
        .collect())
}

#[derive(QueryableByName)]
struct ThumbRow {
    #[diesel(sql_type = BigInt)]
    owner: i64,
    #[diesel(sql_type = BigInt)]
    product_id: i64,
    #[diesel(sql_type = BigInt)]
    project_id: i64,
    #[diesel(sql_type = Text)]
    hash: String,
}

impl ThumbRow {
    fn thumb(self) -> Thumb {
        Thumb {
            product_id: self.product_id,
            project_id: self.project_id,
            hash: self.hash,
        }
    }
}

async fn batch_thumbs(
    conn: &mut AsyncPgConnection,
    ids: &[i64],
) -> QueryResult<std::collections::HashMap<i64, Vec<Thumb>>> {
    let rows: Vec<ThumbRow> = sql_query(
        "SELECT u.batch_id AS owner, t.id AS product_id, t.project_id, t.content_hash AS hash
         FROM unnest($1::bigint[]) AS u(batch_id)
         CROSS JOIN LATERAL (
             SELECT id, project_id, content_hash FROM products
             WHERE batch_id = u.batch_id AND kind = 'image' AND deleted_at IS NULL
             ORDER BY id DESC LIMIT $2) t",
    )
    .bind::<Array<BigInt>, _>(ids)
    .bind::<BigInt, _>(BATCH_THUMBS)
    .load(conn)
    .await?;
    let mut by_batch = std::collections::HashMap::<i64, Vec<Thumb>>::new();
    for row in rows {
        by_batch.entry(row.owner).or_default().push(row.thumb());
    }
    Ok(by_batch)
}

/// Where the next page of a batch's jobs starts: the last listed job's place in the batch's
/// order (moved to the front first, then item order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobCursor {
    pub priority: i64,
    pub item_index: i32,
}

/// A job with its first picture, once it made one.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRow {
    pub job: Job,
    pub thumb: Option<Thumb>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct JobPage {
    pub jobs: Vec<JobRow>,
    pub next: Option<JobCursor>,
}

/// A page of one batch's jobs — those in `states` when given — jobs moved to the front first,
/// then in item order.
pub async fn batch_jobs(
    conn: &mut AsyncPgConnection,
    batch_id: i64,
    states: &[JobState],
    after: Option<JobCursor>,
    limit: i64,
) -> QueryResult<JobPage> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(embed)]
        job: Job,
        #[diesel(sql_type = Nullable<BigInt>)]
        thumb_id: Option<i64>,
        #[diesel(sql_type = Nullable<BigInt>)]
        thumb_project: Option<i64>,
        #[diesel(sql_type = Nullable<Text>)]
        thumb_hash: Option<String>,
    }
    let limit = limit.clamp(1, MAX_PAGE);
    let states: Vec<String> = states.iter().map(|s| s.as_str().to_string()).collect();
    let rows: Vec<Row> = sql_query(
        "SELECT j.*, t.id AS thumb_id, t.project_id AS thumb_project, t.content_hash AS thumb_hash
         FROM jobs j
         LEFT JOIN LATERAL (
             SELECT id, project_id, content_hash FROM products
             WHERE job_id = j.id AND kind = 'image' AND deleted_at IS NULL
             ORDER BY output_index LIMIT 1) t ON true
         WHERE j.batch_id = $1
           AND (cardinality($2::text[]) = 0 OR j.state = ANY($2))
           AND ($3::bigint IS NULL OR j.priority < $3 OR (j.priority = $3 AND j.item_index > $4))
         ORDER BY j.priority DESC, j.item_index ASC LIMIT $5",
    )
    .bind::<BigInt, _>(batch_id)
    .bind::<Array<Text>, _>(states)
    .bind::<Nullable<BigInt>, _>(after.map(|a| a.priority))
    .bind::<Integer, _>(after.map_or(0, |a| a.item_index))
    .bind::<BigInt, _>(limit + 1)
    .load(conn)
    .await?;
    let more = rows.len() as i64 > limit;
    let jobs: Vec<JobRow> = rows
        .into_iter()
        .take(limit as usize)
        .map(|r| JobRow {
            thumb: match (r.thumb_id, r.thumb_project, r.thumb_hash) {
                (Some(product_id), Some(project_id), Some(hash)) => Some(Thumb {
                    product_id,
                    project_id,
                    hash,
                }),
                _ => None,
            },
            job: r.job,
        })
        .collect();
    let next = more.then(|| {
        let last = &jobs.last().expect("a full page has a last row").job;
        JobCursor {
            priority: last.priority,
            item_index: last.item_index,
        }
    });
    Ok(JobPage { jobs, next })
}
