//! Runs as pages show them: one run with its steps' progress and pictures, a pipeline's
//! overview, and the preview of a run of its latest version.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::sql_query;
use diesel::sql_types::{Array, BigInt};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::start::input_picture;
use super::{get, list, steps, Run, RunError, RunStep};
use crate::pipelines::keys::KeyInputs;
use crate::pipelines::store::{self, Pipeline, Version};
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
    providers: &crate::providers::Providers,
    pipeline_id: i64,
    run_seed: i64,
    input_product: Option<i64>,
) -> Result<crate::pipelines::Preview, RunError> {
    let pipeline = store::get(conn, pipeline_id).await?;
    let version = store::latest(conn, pipeline_id).await?;
    let input = input_picture(conn, &pipeline, &version.graph, input_product).await?;
    let inputs = KeyInputs {
        run_seed,
        // Only "always run" steps see it, and they never come from the cache anyway.
        run_id: 0,
        model_version: &|provider, model| {
            providers.get(provider).and_then(|p| p.model_version(model))
        },
        input_picture: input.as_ref().map(|(_, hash)| hash.as_str()),
    };
    Ok(crate::pipelines::preview(conn, &version.graph, &inputs).await?)
}
