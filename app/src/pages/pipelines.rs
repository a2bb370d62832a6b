//! `/pipelines`: a project's pipelines, and a new one. With `?input=<picture>` (from a
//! picture's page) it offers the pipelines to run on that picture.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::api::pipelines::{create_pipeline, list_pipelines};
use crate::components::button;
use crate::components::field::{FieldError, FormMessage, INPUT, LABEL};
use crate::components::project_select::ProjectSelect;

#[component]
pub fn PipelinesPage() -> impl IntoView {
    let query = use_query_map();
    let input = move || query.with(|q| q.get("input").and_then(|v| v.parse::<i64>().ok()));
    let asked = query.with_untracked(|q| q.get("project"));
    let project = RwSignal::new(asked.unwrap_or_default());
    let version = RwSignal::new(0u32);
    let pipelines = Resource::new(
        move || (project.get(), version.get()),
        |(project, _)| async move {
            match project.parse::<i64>() {
                Ok(id) => list_pipelines(id).await,
                Err(_) => Ok(Vec::new()),
            }
        },
    );
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<crate::error::AppError>);
    let navigate = use_navigate();
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(project_id) = project.get_untracked().parse::<i64>() else {
            return;
        };
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match create_pipeline(project_id, name.get_untracked()).await {
                Ok(made) => {
                    version.update(|v| *v += 1);
                    navigate(
                        &format!("/pipelines/{}", made.id),
                        NavigateOptions::default(),
                    );
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let link = move |id: i64| match input() {
        Some(picture) => format!("/pipelines/{id}?input={picture}"),
        None => format!("/pipelines/{id}"),
    };
    view! {
        <Title text="Pipelines" />
        <h1 class="text-2xl font-semibold tracking-tight">"Pipelines"</h1>
        <p class="mt-1 text-sm text-stone-600 dark:text-stone-400">
            "Steps chained into one run: generate, vary, upscale, crop, lay out. "
            "A step whose inputs and settings have not changed is answered from the cache, even after a restart."
        </p>
        {move || input().map(|picture| view! {
            <p class="mt-3 rounded-md bg-indigo-50 p-3 text-sm dark:bg-indigo-950" data-run-input>
                {format!("Choose a pipeline to run on picture #{picture}. It needs an input step.")}
            </p>
        })}
        <div class="mt-4 max-w-xs">
            <ProjectSelect id="pipelines-project" project />
        </div>
        <ul class="mt-4 space-y-1" aria-label="Pipelines">
            <Transition fallback=|| ()>
                {move || pipelines.get().map(|r| match r {
                    Err(e) => view! { <li><FormMessage message=Signal::stored(Some(e.to_string())) /></li> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <li class="text-sm text-stone-600 dark:text-stone-400">"No pipelines in this project yet."</li>
                    }.into_any(),
                    Ok(list) => list.into_iter().map(|p| view! {
                        <li>
                            <a href=link(p.id) class="text-indigo-700 underline dark:text-indigo-300">{p.name.clone()}</a>
                            <span class="ml-2 text-sm text-stone-600 dark:text-stone-400">{format!("version {}", p.latest_version)}</span>
                        </li>
                    }).collect_view().into_any(),
                })}
            </Transition>
        </ul>
        <form class="mt-6 flex max-w-md flex-wrap items-end gap-2" on:submit=create>
            <div class="grow">
                <label for="pipeline-name" class=LABEL>"New pipeline"</label>
                <input id="pipeline-name" class=INPUT bind:value=name placeholder="Lighthouse variations"
                    aria-describedby="pipeline-name-error" />
            </div>
            <button type="submit" class=button::primary()>"Create pipeline"</button>
            <div class="w-full">
                <FieldError id="pipeline-name-error".into() error=Signal::derive(move || error.get().and_then(|e| e.for_field("name"))) />
                <FormMessage message=Signal::derive(move || error.get().and_then(|e| e.general())) />
            </div>
        </form>
    }
}
