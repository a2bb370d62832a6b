//! Generation server functions: what can be generated, launching a batch, a batch's results.

use leptos::prelude::*;

use crate::dto::{
    ExpansionMode, GenerateOptionsDto, GridDto, JobDto, LaunchForm, LaunchedDto, ModelDto,
    PreviewDto, ProductDto,
};
#[cfg(feature = "ssr")]
use crate::dto::{GridCellItemDto, PromptErrorDto, ProviderDto, TokenDto};
#[cfg(feature = "ssr")]
use crate::dto::{LaunchSpec, SeedMode};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use factory::{batches, db::DbError, jobs::queue, models, products, projects};

#[server(endpoint = "generate/options")]
pub async fn generate_options() -> Result<GenerateOptionsDto, AppError> {
    super::respond(async move {
        let engine = super::engine()?;
        let mut conn = engine.conn().await?;
        let projects = projects::list(&mut conn, projects::Listing::Active).await?;
        let mut providers = Vec::new();
        for mut info in engine.providers().infos() {
            // Render engines draw scenes; they are offered on the scene pages.
            if info
                .models
                .iter()
                .all(|m| m.capability == factory::providers::Capability::Render)
                && !info.models.is_empty()
            {
                continue;
            }
            // Models loaded by reference before are offered again.
            if info.any_model {
                info.models.extend(models::list(&mut conn, &info.id).await?);
            }
            providers.push(ProviderDto::from(&info));
        }
        Ok(GenerateOptionsDto {
            projects: projects.into_iter().map(Into::into).collect(),
            providers,
            max_count: engine.settings().max_items.min(u64::from(u32::MAX)) as u32,
            confirm_above: engine.settings().confirm_items,
        })
    })
    .await
}

/// Reads a model's published schema by reference (`owner/name[:version]`), keeps it, and
/// answers it as the form offers it.
#[server(endpoint = "generate/describe_model")]
pub async fn describe_model(provider: String, reference: String) -> Result<ModelDto, AppError> {
    super::respond(async move {
        let engine = super::engine()?;
        let mut conn = engine.conn().await?;
        let info = models::describe(&mut conn, engine.providers(), &provider, &reference).await?;
        Ok(ModelDto::from(&info))
    })
    .await
}

/// Queues `form.count` generations; checks everything first and queues nothing on bad input.
#[server(endpoint = "generate/launch")]
pub async fn launch_batch(form: LaunchForm) -> Result<LaunchedDto, AppError> {
    super::respond(async move {
        let request = launch_request(form.spec()?)?;
        let (batch, jobs) = super::engine()?.launch(&request).await?;
        Ok(LaunchedDto {
            batch_id: batch.id,
            jobs: jobs.into_iter().map(JobDto::from).collect(),
        })
    })
    .await
}

/// A batch's jobs and the products made so far.
#[server(endpoint = "generate/batch")]
pub async fn batch_results(batch_id: i64) -> Result<(Vec<JobDto>, Vec<ProductDto>), AppError> {
    super::respond(async move {
        let mut conn = super::engine()?.conn().await?;
        let jobs = queue::list_for_batch(&mut conn, batch_id)
            .await
            .map_err(DbError::from)?;
        let made = products::list_for_batch(&mut conn, batch_id)
            .await
            .map_err(DbError::from)?;
        Ok((
            jobs.into_iter().map(Into::into).collect(),
            made.into_iter().map(Into::into).collect(),
        ))
    })
    .await
}

/// The engine's launch request for `spec`: the one conversion the Generate form and the REST
/// API share, so both are checked the same way.
#[cfg(feature = "ssr")]
pub fn launch_request(spec: LaunchSpec) -> Result<batches::LaunchRequest, AppError> {
    Ok(batches::LaunchRequest {
        seed: seed_choice(spec.seed_mode, spec.seed)?,
        mode: expansion_mode(spec.mode),
        project_id: spec.project_id,
        provider: spec.provider,
        model: spec.model,
        prompt: spec.prompt,
        negative_prompt: spec.negative_prompt,
        params: spec.params,
        count: spec.count,
        confirmed: spec.confirmed,
        networks: spec
            .networks
            .into_iter()
            .map(|n| factory::providers::Network {
                id: n.id,
                strength: n.strength,
            })
            .collect(),
        input_image: spec.input_image,
        made_from: spec.made_from,
    })
}

#[cfg(feature = "ssr")]
fn seed_choice(mode: SeedMode, seed: Option<i64>) -> Result<batches::SeedChoice, AppError> {
    Ok(match (mode, seed) {
        (SeedMode::Fixed, Some(seed)) => batches::SeedChoice::Fixed(seed),
        (SeedMode::Fixed, None) => {
            return Err(AppError::invalid(
                "seed",
                "Enter a seed, or choose another seed mode.",
            ))
        }
        (SeedMode::Random, _) => batches::SeedChoice::Random,
        (SeedMode::Derived, seed) => batches::SeedChoice::Derived(seed),
    })
}

#[cfg(feature = "ssr")]
fn expansion_mode(mode: ExpansionMode) -> factory::prompt::Mode {
    match mode {
        ExpansionMode::Combinatorial => factory::prompt::Mode::Combinatorial,
        ExpansionMode::Random => factory::prompt::Mode::Random,
    }
}

/// How many prompts the preview shows.
pub const PREVIEW_EXAMPLES: usize = 5;

/// The live preview: how many items the prompt makes and the first few, or where it is wrong.
/// Nothing is written.
#[server(endpoint = "generate/preview")]
pub async fn preview_prompt(
    project_id: Option<i64>,
    prompt: String,
    mode: ExpansionMode,
    count: u32,
    seed: Option<i64>,
) -> Result<PreviewDto, AppError> {
    super::respond(async move {
        use factory::library::wildcards;
        use factory::prompt::Expansion;
        let engine = super::engine()?;
        let lists = match project_id {
            Some(id) => wildcards::for_project(&mut *engine.conn().await?, id)
                .await
                .map_err(DbError::from)?,
            None => Default::default(),
        };
        let limits = engine.item_limits();
        let expansion = Expansion {
            mode: expansion_mode(mode),
            count: count.max(1),
            batch_seed: seed.unwrap_or(0),
            cap: limits.cap,
        };
        // Bounded work: at most the item cap is enumerated.
        Ok(
            match expansion.preview(prompt.trim(), &lists, PREVIEW_EXAMPLES) {
                Ok(p) => PreviewDto {
                    needs_confirm: p.total > limits.confirm_above,
                    total: p.total,
                    combinations: p.combinations,
                    examples: p.examples,
                    error: None,
                },
                Err(e) => PreviewDto {
                    total: 0,
                    combinations: 0,
                    examples: Vec::new(),
                    needs_confirm: false,
                    error: Some(PromptErrorDto {
                        line: e.line,
                        column: e.column,
                        message: e.message,
                    }),
                },
            },
        )
    })
    .await
}

/// A batch laid out by two axes (token keys, or `seed`); empty axes pick the first two tokens.
#[server(endpoint = "generate/grid")]
pub async fn batch_grid(batch_id: i64, x: String, y: String) -> Result<GridDto, AppError> {
    super::respond(async move {
        use factory::grids::BatchGrid;
        let mut conn = super::engine()?.conn().await?;
        let grid = BatchGrid::load(&mut conn, batch_id, &x, &y)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("There is no batch {batch_id}.")))?;
        let cells = grid
            .layout
            .cells
            .iter()
            .map(|row| {
                row.iter()
                    .map(|cell| {
                        cell.iter()
                            .map(|&i| {
                                let job = &grid.jobs[i];
                                GridCellItemDto {
                                    job_id: job.id,
                                    state: job.state().into(),
                                    prompt: job.request().map(|r| r.prompt).unwrap_or_default(),
                                    seed: job.seed,
                                    product: grid.product_of(job).cloned().map(ProductDto::from),
                                }
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        Ok(GridDto {
            batch_id,
            project_id: grid.batch.project_id,
            prompt_template: grid.batch.prompt_template.clone(),
            axes: grid
                .axes
                .iter()
                .map(|a| TokenDto {
                    key: a.key.clone(),
                    label: a.label.clone(),
                })
                .collect(),
            x: grid.x.clone(),
            y: grid.y.clone(),
            columns: grid.layout.columns.clone(),
            rows: grid.layout.rows.clone(),
            cells,
        })
    })
    .await
}
