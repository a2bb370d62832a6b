//! What a run of a pipeline would do before it starts: each step's key and seed, which steps
//! the cache already answers, and the price of the steps that would run (only those).

use diesel_async::AsyncPgConnection;

use super::graph::{Graph, StepKind};
use super::keys::{plan, KeyInputs, StepKey};
use super::store::{self, PipelineError};
use crate::costs;

/// One step of a previewed run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepPreview {
    pub name: String,
    pub key: StepKey,
    pub seed: Option<i64>,
    /// The products the cache holds for the step; `None`: it will run.
    pub cached: Option<Vec<i64>>,
    /// Pictures the step asks a provider for when it runs (0 for steps on this machine).
    pub provider_images: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// In dependency order.
    pub steps: Vec<StepPreview>,
    /// How many steps will run.
    pub to_run: usize,
    /// The price of the steps that will run, in millionths of a dollar.
    pub cost_micros: i64,
    /// Steps that will run on a provider model without a known price.
    pub unpriced: Vec<String>,
}

/// Checks `graph`, works out every step's key and seed for the run `inputs` describe, and asks
/// the cache about all of them in one query.
pub async fn preview(
    conn: &mut AsyncPgConnection,
    graph: &Graph,
    inputs: &KeyInputs<'_>,
) -> Result<Preview, PipelineError> {
    let order = graph.check().map_err(PipelineError::Invalid)?;
    let planned = plan(graph, &order, inputs);
    let keys: Vec<StepKey> = planned.iter().map(|p| p.key.clone()).collect();
    let mut cached = store::cached(conn, &keys).await?;
    let prices = costs::prices(conn).await?;
    let mut preview = Preview {
        steps: Vec::with_capacity(order.len()),
        to_run: 0,
        cost_micros: 0,
        unpriced: Vec::new(),
    };
    for index in order {
        let step = &graph.steps[index];
        let key = planned[index].key.clone();
        let hit = cached.remove(&key);
        let provider_images = match &step.kind {
            StepKind::Variations { count, .. } => u64::from(*count),
            kind if kind.provider_model().is_some() => 1,
            _ => 0,
        };
        if hit.is_none() {
            preview.to_run += 1;
            if let Some((provider, model)) = step.kind.provider_model() {
                let params = match &step.kind {
                    StepKind::Upscale {
                        how: super::graph::Upscale::Provider { params, .. },
                    } => params.clone(),
                    kind => kind.call().map(|c| c.params.clone()).unwrap_or_default(),
                };
                match costs::price_for(&prices, provider, model) {
                    Some(price) => {
                        preview.cost_micros +=
                            costs::estimate(price, &params, provider_images).total_micros
                    }
                    None => preview.unpriced.push(step.name.clone()),
                }
            }
        }
        preview.steps.push(StepPreview {
            name: step.name.clone(),
            key,
            seed: planned[index].seed,
            cached: hit,
            provider_images,
        });
    }
    Ok(preview)
}
