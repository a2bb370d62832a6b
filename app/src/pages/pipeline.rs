//! `/pipelines/:id`: one pipeline. Edit its steps (saving makes a new version), preview and
//! start a run (from a picture with `?input=`), follow it live, and browse earlier runs and
//! versions; duplicate it under a new name; delete it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use leptos_router::NavigateOptions;

use crate::api::pipelines::{
    delete_pipeline, duplicate_pipeline, pipeline_detail, preview_run, run_pipeline, save_pipeline,
};
use crate::components::button;
use crate::components::field::{FormMessage, INPUT, LABEL};
use crate::components::pipeline_run::{run_state_label, RunView};
use crate::components::pipeline_steps::{Editor, StepsEditor};
use crate::dto::{PipelineDetailDto, RunPreviewDto};
use crate::error::AppError;

#[component]
pub fn PipelinePage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok())));
    let opened = RwSignal::new(None::<i32>);
    let reload = RwSignal::new(0u32);
    // Kept here, not in the view a reload redraws: what the last save said, and the run shown
    // (`None`: the newest).
    let saved = RwSignal::new(None::<Result<i32, AppError>>);
    let current_run = RwSignal::new(None::<i64>);
    let detail = Resource::new(
        move || (id.get(), opened.get(), reload.get()),
        |(id, version, _)| async move {
            match id {
                Some(id) => pipeline_detail(id, version).await,
                None => Err(AppError::NotFound("That is not a pipeline address.".into())),
            }
        },
    );
    view! {
        <Transition fallback=|| view! { <p class="text-sm text-stone-500">"Loading…"</p> }>
            {move || detail.get().map(|r| match r {
                Err(e) => view! {
                    <Title text="Pipeline" />
                    <FormMessage message=Signal::stored(Some(e.to_string())) />
                }.into_any(),
                Ok(d) => view! { <PipelineView detail=d opened reload saved current_run /> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn PipelineView(
    detail: PipelineDetailDto,
    opened: RwSignal<Option<i32>>,
    reload: RwSignal<u32>,
    saved: RwSignal<Option<Result<i32, AppError>>>,
    current_run: RwSignal<Option<i64>>,
) -> impl IntoView {
    let query = use_query_map();
    let input = move || query.with(|q| q.get("input").and_then(|v| v.parse::<i64>().ok()));
    let pipeline_id = detail.pipeline.id;
    let editor = Editor::new();
    editor.load(detail.steps.clone());
    let save = move |_| {
        let steps = editor.forms();
        leptos::task::spawn_local(async move {
            let result = save_pipeline(pipeline_id, steps).await;
            let ok = result.is_ok();
            saved.set(Some(result));
            if ok {
                opened.set(None);
                reload.update(|r| *r += 1);
            }
        });
    };
    let newest = detail.runs.first().map(|r| r.id);
    let shown_run = move || current_run.get().or(newest);
    let latest = detail.pipeline.latest_version;
    let title = detail.pipeline.name.clone();
    view! {
        <Title text=format!("{title} · Pipeline") />
        <h1 class="text-2xl font-semibold tracking-tight">{title.clone()}</h1>
        <p class="mt-1 text-sm text-stone-600 dark:text-stone-400" data-version=detail.version>
            {format!("Version {} of {latest}", detail.version)}
            {(detail.version != latest).then_some(" (an earlier version: saving it makes it the newest)")}
        </p>
        <div class="mt-4 grid gap-6 lg:grid-cols-2">
            <section aria-labelledby="steps-heading">
                <h2 id="steps-heading" class="text-lg font-semibold">"Steps"</h2>
                <div class="mt-2"><StepsEditor editor /></div>
                <div class="mt-3 flex flex-wrap items-center gap-2">
                    <button type="button" class=button::primary() on:click=save>"Save pipeline"</button>
                    {move || match saved.get() {
                        Some(Ok(v)) => view! { <p class="text-sm" role="status">{format!("Saved as version {v}.")}</p> }.into_any(),
                        _ => ().into_any(),
                    }}
                </div>
                <FormMessage message=Signal::derive(move || saved.get().and_then(|r| r.err()).map(|e| e.to_string())) />
            </section>
            <section aria-labelledby="run-panel-heading" class="space-y-4">
                <h2 id="run-panel-heading" class="text-lg font-semibold">"Run"</h2>
                <RunPanel pipeline_id input=Signal::derive(input) current_run reload />
                {move || shown_run().map(|run| view! {
                    <RunView run_id=Signal::derive(move || shown_run().unwrap_or(run))
                        on_new_run=Callback::new(move |id| { current_run.set(Some(id)); reload.update(|r| *r += 1); })
                        on_changed=Callback::new(move |()| ()) />
                })}
            </section>
        </div>
        <div class="mt-8 grid gap-6 lg:grid-cols-3">
            <section aria-labelledby="runs-heading">
                <h2 id="runs-heading" class="text-lg font-semibold">"Earlier runs"</h2>
                <ul class="mt-2 space-y-1 text-sm">
                    {detail.runs.iter().map(|r| {
                        let id = r.id;
                        let label = format!("#{} · v{} · seed {} · {}{}", r.id, r.version, r.run_seed,
                            run_state_label(r.state), r.rerun_of.map(|o| format!(" · re-run of #{o}")).unwrap_or_default());
                        view! { <li><button type="button" class="underline" on:click=move |_| current_run.set(Some(id))>{label}</button></li> }
                    }).collect_view()}
                </ul>
            </section>
            <section aria-labelledby="versions-heading">
                <h2 id="versions-heading" class="text-lg font-semibold">"Versions"</h2>
                <ul class="mt-2 space-y-1 text-sm">
                    {detail.versions.iter().map(|(v, at)| {
                        let v = *v;
                        let label = format!("Version {v} · {}", at.format("%-d %b %Y, %H:%M"));
                        view! { <li><button type="button" class="underline" aria-current=(v == detail.version).to_string()
                            on:click=move |_| opened.set(Some(v))>{label}</button></li> }
                    }).collect_view()}
                </ul>
            </section>
            <Duplicate pipeline_id name=title.clone() />
            <Delete pipeline_id project_id=detail.pipeline.project_id name=title />
        </div>
    }
}

#[component]
fn RunPanel(
    pipeline_id: i64,
    input: Signal<Option<i64>>,
    current_run: RwSignal<Option<i64>>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let seed = RwSignal::new(String::new());
    let message = RwSignal::new(None::<String>);
    let preview = RwSignal::new(None::<RunPreviewDto>);
    let parsed_seed = move || -> Result<Option<i64>, String> {
        let text = seed.get_untracked();
        match text.trim() {
            "" => Ok(None),
            t => t.parse().map(Some).map_err(|_| {
                format!(
                    "“{t}” is not a seed: write a whole number, or leave it empty for a new one."
                )
            }),
        }
    };
    let show_preview = move |_| {
        let Ok(Some(run_seed)) = parsed_seed() else {
            message.set(Some(
                "Write a run seed to see what the cache holds for it (a new seed runs every step)."
                    .into(),
            ));
            return;
        };
        leptos::task::spawn_local(async move {
            match preview_run(pipeline_id, run_seed, input.get_untracked()).await {
                Ok(p) => {
                    message.set(None);
                    preview.set(Some(p));
                }
                Err(e) => message.set(Some(e.to_string())),
            }
        });
    };
    let run = move |_| {
        let run_seed = match parsed_seed() {
            Ok(s) => s,
            Err(e) => return message.set(Some(e)),
        };
        leptos::task::spawn_local(async move {
            match run_pipeline(pipeline_id, run_seed, input.get_untracked()).await {
                Ok(r) => {
                    message.set(None);
                    seed.set(r.summary.run_seed.to_string());
                    current_run.set(Some(r.summary.id));
                    reload.update(|n| *n += 1);
                }
                Err(e) => message.set(Some(e.to_string())),
            }
        });
    };
    view! {
        {move || input.get().map(|id| view! {
            <p class="text-sm">"Starts from " <a class="underline" href=format!("/products/{id}")>{format!("picture #{id}")}</a></p>
        })}
        <div class="flex flex-wrap items-end gap-2">
            <div>
                <label for="run-seed" class=LABEL>"Run seed (empty: a new one)"</label>
                <input id="run-seed" class=INPUT inputmode="numeric" bind:value=seed />
            </div>
            <button type="button" class=button::secondary() on:click=show_preview>"Preview"</button>
            <button type="button" class=button::primary() on:click=run>"Run pipeline"</button>
        </div>
        {move || preview.get().map(|p| view! {
            <p class="text-sm" role="status" data-preview>
                {format!("{} step{} to run", p.to_run, if p.to_run == 1 { "" } else { "s" })}
                {(!p.cached.is_empty()).then(|| format!("; from the cache: {}", p.cached.join(", ")))}
                {format!("; estimated ${:.4}", p.cost_micros as f64 / 1e6)}
                {(!p.unpriced.is_empty()).then(|| format!(" (no price known for {})", p.unpriced.join(", ")))}
            </p>
        })}
        <FormMessage message=Signal::derive(move || message.get()) />
    }
}

#[component]
fn Duplicate(pipeline_id: i64, name: String) -> impl IntoView {
    let copy_name = RwSignal::new(format!("{name} (copy)"));
    let message = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let duplicate = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match duplicate_pipeline(pipeline_id, copy_name.get_untracked()).await {
                Ok(p) => navigate(&format!("/pipelines/{}", p.id), NavigateOptions::default()),
                Err(e) => message.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <section aria-labelledby="duplicate-heading">
            <h2 id="duplicate-heading" class="text-lg font-semibold">"Duplicate"</h2>
            <form class="mt-2 space-y-2" on:submit=duplicate>
                <label for="duplicate-name" class=LABEL>"Name of the copy"</label>
                <input id="duplicate-name" class=INPUT bind:value=copy_name />
                <button type="submit" class=button::secondary()>"Duplicate pipeline"</button>
                <FormMessage message=Signal::derive(move || message.get()) />
            </form>
        </section>
    }
}

/// Deletes the pipeline after a confirmation, then goes back to the project's pipelines.
#[component]
fn Delete(pipeline_id: i64, project_id: i64, name: String) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let message = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let delete = move |_| {
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match delete_pipeline(pipeline_id).await {
                Ok(()) => navigate(
                    &format!("/pipelines?project={project_id}"),
                    NavigateOptions::default(),
                ),
                Err(e) => {
                    confirming.set(false);
                    message.set(Some(e.to_string()));
                }
            }
        });
    };
    view! {
        <section aria-labelledby="delete-heading">
            <h2 id="delete-heading" class="text-lg font-semibold">"Delete"</h2>
            <div class="mt-2 flex flex-wrap items-center gap-2 text-sm">
                <Show when=move || confirming.get() fallback=move || view! {
                    <button type="button" class=button::secondary() on:click=move |_| confirming.set(true)>"Delete pipeline…"</button>
                }>
                    <span>{format!("Delete “{name}” with its versions and runs? What they made stays in the gallery.")}</span>
                    <button type="button" class=button::primary() on:click=delete.clone()>"Yes, delete it"</button>
                    <button type="button" class=button::secondary() on:click=move |_| confirming.set(false)>"Keep it"</button>
                </Show>
            </div>
            <FormMessage message=Signal::derive(move || message.get()) />
        </section>
    }
}
