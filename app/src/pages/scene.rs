//! `/scenes/:id`: a scene edited as a form per node, with a live preview of the draft (drawn by
//! the built-in engine from the chosen camera as you type), an interactive 3D view of the saved
//! scene, the Render panel and the scene's renders.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::assets::list_assets;
use crate::api::scenes::{get_scene, preview_scene, queue_render, save_scene};
use crate::components::button;
use crate::components::field::{FormMessage, INPUT, LABEL};
use crate::components::scene_nodes::{new_node, ColorInput, NodeForm};
use crate::components::scene_renders::{RenderPanel, SceneRenders};
use crate::dto::{RenderOrderDto, SceneDto, SceneGraph, SceneNode};
use crate::error::AppError;

#[component]
pub fn ScenePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()));
    let scene = Resource::new(id, |id| async move {
        match id {
            Some(id) => get_scene(id).await.map(Some),
            None => Ok(None),
        }
    });
    view! {
        <script type="module" src="/vendor/model-viewer.min.js"></script>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || scene.get().map(|r| match r {
                Err(e) => view! { <FormMessage message=Signal::stored(Some(e.to_string())) /> }.into_any(),
                Ok(None) => view! { <p>"There is no such scene."</p> }.into_any(),
                Ok(Some(s)) => view! { <SceneEditor saved=s /> }.into_any(),
            })}
        </Transition>
    }
}

/// What a problem's pointer names, in words: `/nodes/2/target` is node 2's target.
fn where_in(graph: &SceneGraph, pointer: &str) -> String {
    let mut parts = pointer.trim_start_matches('/').splitn(3, '/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("nodes"), Some(i), rest) => {
            let name = i
                .parse::<usize>()
                .ok()
                .and_then(|i| graph.nodes.get(i))
                .map_or_else(|| format!("node {i}"), |n| format!("“{}”", n.name()));
            match rest {
                Some(field) => format!("{name}, {}", field.replace(['/', '_'], " ")),
                None => name,
            }
        }
        _ => pointer.trim_start_matches('/').replace('_', " "),
    }
}

#[component]
fn SceneEditor(saved: SceneDto) -> impl IntoView {
    let scene_id = saved.id;
    let project_id = saved.project_id;
    let draft = RwSignal::new(saved.scene.clone());
    let revision = RwSignal::new(saved.revision);
    let export_url = saved.export_url.clone();
    let dirty = RwSignal::new(false);
    let reshape = RwSignal::new(0u32);
    let problems = RwSignal::new(Vec::<(String, String)>::new());
    let error = RwSignal::new(None::<AppError>);
    let status = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let renders_version = RwSignal::new(0u32);
    let assets = Resource::new(
        move || (),
        move |_| async move {
            list_assets(project_id)
                .await
                .map(|list| list.into_iter().map(|a| (a.id, a.name)).collect::<Vec<_>>())
        },
    );
    let cameras = Signal::derive(move || {
        draft.with(|d| {
            d.nodes
                .iter()
                .filter_map(|n| match n {
                    SceneNode::Camera(c) => Some(c.name.clone()),
                    _ => None,
                })
                .collect::<Vec<_>>()
        })
    });

    // Every change marks the draft unsaved and asks for a new preview a moment later.
    let preview = RwSignal::new(None::<String>);
    let preview_error = RwSignal::new(None::<String>);
    let preview_camera = RwSignal::new(String::new());
    let asked = StoredValue::new(0u64);
    let first = StoredValue::new(true);
    Effect::new(move |_| {
        let graph = draft.get();
        let camera = preview_camera.get();
        if !first.get_value() {
            dirty.set(true);
        }
        first.set_value(false);
        asked.update_value(|n| *n += 1);
        let ticket = asked.get_value();
        set_timeout(
            move || {
                if asked.get_value() != ticket {
                    return;
                }
                leptos::task::spawn_local(async move {
                    let camera = (!camera.is_empty()).then_some(camera);
                    let drawn = preview_scene(project_id, graph, camera, 480, 360).await;
                    if asked.get_value() != ticket {
                        return;
                    }
                    match drawn {
                        Ok(url) => {
                            preview.set(Some(url));
                            preview_error.set(None);
                        }
                        Err(e) => preview_error.set(Some(e.to_string())),
                    }
                });
            },
            std::time::Duration::from_millis(300),
        );
    });

    let save = move || async move {
        busy.set(true);
        status.set(Some("Saving…".into()));
        let result = save_scene(scene_id, revision.get_untracked(), draft.get_untracked()).await;
        busy.set(false);
        match result {
            Ok(saved) => {
                revision.set(saved.revision);
                dirty.set(false);
                problems.set(Vec::new());
                error.set(None);
                status.set(Some(format!("Saved (revision {}).", saved.revision)));
                true
            }
            Err(AppError::InvalidFields(fields)) => {
                status.set(None);
                problems.set(fields);
                error.set(None);
                false
            }
            Err(e) => {
                status.set(None);
                error.set(Some(e));
                false
            }
        }
    };
    let on_save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        leptos::task::spawn_local(async move {
            save().await;
        });
    };
    let render = Callback::new(move |order: RenderOrderDto| {
        leptos::task::spawn_local(async move {
            // A render draws the saved scene: the draft is saved first.
            if dirty.get_untracked() && !save().await {
                return;
            }
            busy.set(true);
            match queue_render(order).await {
                Ok(job) => {
                    status.set(Some(format!("Render #{} queued.", job.id)));
                    error.set(None);
                    renders_version.update(|v| *v += 1);
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    });
    let add = move |kind: &'static str| {
        let first_asset = assets
            .get_untracked()
            .and_then(Result::ok)
            .and_then(|list| list.first().map(|(id, _)| *id));
        let node = draft.with_untracked(|d| new_node(kind, d, first_asset));
        match node {
            Some(node) => {
                draft.update(|d| d.nodes.push(node));
                reshape.update(|v| *v += 1);
            }
            None => error.set(Some(AppError::invalid(
                "nodes",
                "This project has no 3D assets yet: upload a model on the 3D assets page first.",
            ))),
        }
    };

    view! {
        <Title text=move || draft.with(|d| d.name.clone()) />
        <h1 class="text-2xl font-semibold tracking-tight">{move || draft.with(|d| d.name.clone())}</h1>
        <p class="mt-1 text-sm">
            <a class="text-indigo-700 underline dark:text-indigo-300" href=format!("/scenes?project={project_id}")>"All scenes of this project"</a>
            " · "
            <a class="text-indigo-700 underline dark:text-indigo-300" href=export_url.clone() download="">"Download as GLB"</a>
        </p>
        <div class="mt-4 grid gap-6 xl:grid-cols-2">
            <form on:submit=on_save class="space-y-4" aria-label="Scene">
                <div class="grid grid-cols-2 gap-3">
                    <div>
                        <label for="scene-name" class=LABEL>"Name"</label>
                        <input id="scene-name" type="text" class=INPUT value=saved.scene.name.clone()
                            on:input=move |ev| { let v = event_target_value(&ev); draft.update(|d| d.name = v) } />
                    </div>
                    <ColorInput id="scene-environment".to_string() label="Environment colour" value=saved.scene.environment
                        on_set=Callback::new(move |c| draft.update(|d| d.environment = c)) />
                </div>
                <h2 class="font-semibold">"Nodes"</h2>
                <div class="space-y-3">
                    {move || {
                        reshape.get();
                        let list = assets.get().and_then(Result::ok).unwrap_or_default();
                        let count = draft.with_untracked(|d| d.nodes.len());
                        (0..count).map(|i| view! { <NodeForm index=i draft assets=list.clone() reshape /> }).collect_view()
                    }}
                </div>
                <div class="flex flex-wrap gap-2" role="group" aria-label="Add a node">
                    <button type="button" class=button::secondary() on:click=move |_| add("model")>"Add model"</button>
                    <button type="button" class=button::secondary() on:click=move |_| add("light")>"Add light"</button>
                    <button type="button" class=button::secondary() on:click=move |_| add("camera")>"Add camera"</button>
                    <button type="button" class=button::secondary() on:click=move |_| add("group")>"Add group"</button>
                </div>
                {move || (!problems.get().is_empty()).then(|| view! {
                    <div role="alert" class="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700 dark:bg-red-950 dark:text-red-300">
                        <p>"The scene was not saved:"</p>
                        <ul class="list-disc pl-6" aria-label="Problems in the scene">
                            {problems.get().into_iter().map(|(at, what)| view! {
                                <li><span class="font-medium">{draft.with_untracked(|d| where_in(d, &at))}</span>": "{what}</li>
                            }).collect_view()}
                        </ul>
                    </div>
                })}
                <FormMessage message=Signal::derive(move || error.get().map(|e| e.to_string())) />
                <div class="flex items-center gap-3">
                    <button type="submit" class=button::primary() disabled=move || busy.get()>"Save scene"</button>
                    <p id="scene-status" role="status" class="text-sm text-stone-700 dark:text-stone-300">
                        {move || status.get().or_else(|| dirty.get().then(|| "Unsaved changes.".to_string()))}
                    </p>
                </div>
            </form>
            <div>
                <section aria-labelledby="preview-heading">
                    <div class="flex items-end justify-between gap-3">
                        <h2 id="preview-heading" class="font-semibold">"Preview"</h2>
                        <div>
                            <label for="preview-camera" class=LABEL>"Seen from"</label>
                            <select id="preview-camera" class=INPUT on:change=move |ev| preview_camera.set(event_target_value(&ev))>
                                {move || cameras.get().into_iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
                            </select>
                        </div>
                    </div>
                    <div class="mt-2 aspect-[4/3] w-full overflow-hidden rounded-lg bg-stone-900">
                        {move || preview.get().map(|url| view! {
                            <img id="scene-preview" src=url alt="The scene as edited, drawn by the built-in engine from the chosen camera" class="h-full w-full object-contain" />
                        })}
                    </div>
                    <p class="mt-1 text-sm text-red-700 dark:text-red-300" aria-live="polite">{move || preview_error.get()}</p>
                </section>
                <section aria-labelledby="view-heading" class="mt-6">
                    <h2 id="view-heading" class="font-semibold">"3D view of the saved scene"</h2>
                    {move || {
                        let src = format!("{export_url}?revision={}", revision.get());
                        view! {
                            <model-viewer src=src alt="The saved scene in 3D: drag to turn, scroll to zoom"
                                camera-controls="" loading="eager" class="mt-2 block h-80 w-full rounded-lg bg-stone-900"></model-viewer>
                        }
                    }}
                </section>
                <div class="mt-6">
                    <RenderPanel scene_id cameras render busy=busy.into() />
                </div>
                <SceneRenders scene_id version=renders_version />
            </div>
        </div>
    }
}
