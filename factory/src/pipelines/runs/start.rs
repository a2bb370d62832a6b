//! Starting a run: everything checked first, then the run and all its steps in one
//! transaction.

use diesel::sql_query;
use diesel::sql_types::{BigInt, Integer, Jsonb, Nullable};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::json;

use super::{finish, get, Run, RunError, RunRequest, RUN_COLUMNS};
use crate::batches::{self, ItemLimits, LaunchRequest, SeedChoice, SEED_MAX};
use crate::library::wildcards;
use crate::models;
use crate::pipelines::graph::{Graph, StepKind, Upscale};
use crate::pipelines::keys::{plan, variation_seed, KeyInputs};
use crate::pipelines::store::{self, Pipeline, PipelineError, Version};
use crate::prompt::Mode;
use crate::providers::Providers;
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
                model_version: &|provider, model| {
                    providers.get(provider).and_then(|p| p.model_version(model))
                },
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
pub(super) async fn input_picture(
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
        made_from: None,
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
