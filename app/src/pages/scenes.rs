//! `/scenes`: a project's scenes, and a new one (it starts with a camera and a sun; models are
//! placed on its page).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::api::scenes::{create_scene, list_scenes};
use crate::components::button;
use crate::components::field::{FieldError, FormMessage, INPUT, LABEL};
use crate::components::project_select::ProjectSelect;
use crate::error::AppError;

#[component]
pub fn ScenesPage() -> impl IntoView {
    let query = use_query_map();
    let project = RwSignal::new(
        query
            .with_untracked(|q| q.get("project"))
            .unwrap_or_default(),
    );
    let scenes = Resource::new(
        move || project.get(),
        |project| async move {
            match project.parse::<i64>() {
                Ok(id) => list_scenes(id).await,
                Err(_) => Ok(Vec::new()),
            }
        },
    );
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let navigate = use_navigate();
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(project_id) = project.get_untracked().parse::<i64>() else {
            error.set(Some(AppError::invalid("name", "Choose a project first.")));
            return;
        };
        busy.set(true);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match create_scene(project_id, name.get_untracked()).await {
                Ok(scene) => navigate(&format!("/scenes/{}", scene.id), NavigateOptions::default()),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let name_error = Signal::derive(move || {
        error.with(|e| {
            e.as_ref()
                .and_then(|e| e.for_field("name").or_else(|| e.for_field("/name")))
        })
    });
    view! {
        <Title text="Scenes" />
        <h1 class="text-2xl font-semibold tracking-tight">"Scenes"</h1>
        <p class="mt-1 text-sm text-stone-600 dark:text-stone-400">
            "3D assets placed with transforms, lit, and seen through cameras; rendered by the built-in engine or by Blender into the gallery."
        </p>
        <div class="mt-4 max-w-xs">
            <ProjectSelect id="scenes-project" project />
        </div>
        <form class="mt-6 flex max-w-xl flex-wrap items-end gap-3" on:submit=create>
            <div class="grow">
                <label for="scene-name" class=LABEL>"New scene's name"</label>
                <input id="scene-name" class=INPUT type="text" autocomplete="off"
                    prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))
                    aria-invalid=move || name_error.get().is_some().to_string()
                    aria-describedby="scene-name-error" />
                <FieldError id="scene-name-error".to_string() error=name_error />
            </div>
            <button type="submit" class=button::primary() disabled=move || busy.get()>"Create scene"</button>
        </form>
        <FormMessage message=Signal::derive(move || error.with(|e| e.as_ref().and_then(|e| e.general()))) />
        <ul class="mt-6 divide-y divide-stone-200 dark:divide-stone-800" aria-label="Scenes">
            <Transition fallback=|| ()>
                {move || scenes.get().map(|r| match r {
                    Err(e) => view! { <li><FormMessage message=Signal::stored(Some(e.to_string())) /></li> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <li class="py-2 text-sm text-stone-600 dark:text-stone-400">"No scenes in this project yet."</li>
                    }.into_any(),
                    Ok(list) => list.into_iter().map(|s| view! {
                        <li class="flex items-baseline justify-between py-2">
                            <a class="font-medium text-indigo-700 underline dark:text-indigo-300" href=format!("/scenes/{}", s.id)>{s.name.clone()}</a>
                            <span class="text-xs text-stone-600 dark:text-stone-400">
                                {format!("{} nodes · changed {}", s.nodes, s.updated_at.format("%Y-%m-%d %H:%M"))}
                            </span>
                        </li>
                    }).collect_view().into_any(),
                })}
            </Transition>
        </ul>
    }
}
