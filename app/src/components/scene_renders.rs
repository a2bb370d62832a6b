//! A scene's Render panel (engine, camera, size, format, samples; an engine that is not
//! installed is shown with how to install it) and its render jobs, followed while they run:
//! progress, what the engine says, Cancel, and the pictures once done.

use leptos::prelude::*;

use crate::api::scenes::{cancel_render, render_engines, scene_renders};
use crate::components::button;
use crate::components::field::{FormMessage, INPUT, LABEL};
use crate::dto::{JobState, RenderEngine, RenderFormat, RenderJobDto, RenderOrderDto};
use crate::error::AppError;

fn format_name(f: RenderFormat) -> &'static str {
    match f {
        RenderFormat::Png => "png",
        RenderFormat::Jpeg => "jpeg",
        RenderFormat::Exr => "exr",
    }
}

/// The Render form. `render` queues the order (the page saves the draft first).
#[component]
pub fn RenderPanel(
    scene_id: i64,
    cameras: Signal<Vec<String>>,
    render: Callback<RenderOrderDto>,
    busy: Signal<bool>,
) -> impl IntoView {
    let engines = Resource::new(|| (), |_| render_engines());
    let engine = RwSignal::new(RenderEngine::Builtin);
    let camera = RwSignal::new(String::new());
    let width = RwSignal::new("512".to_string());
    let height = RwSignal::new("512".to_string());
    let format = RwSignal::new(RenderFormat::Png);
    let samples = RwSignal::new(String::new());
    let chosen = move || {
        engines
            .get()
            .and_then(Result::ok)
            .and_then(|list| list.into_iter().find(|e| e.engine == engine.get()))
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let camera = camera.get_untracked();
        render.run(RenderOrderDto {
            scene_id,
            camera: (!camera.is_empty()).then_some(camera),
            engine: engine.get_untracked(),
            width: width.get_untracked().trim().parse().unwrap_or(512),
            height: height.get_untracked().trim().parse().unwrap_or(512),
            format: format.get_untracked(),
            samples: samples.get_untracked().trim().parse().ok(),
        });
    };
    view! {
        <form on:submit=submit aria-labelledby="render-heading" class="space-y-3">
            <h2 id="render-heading" class="font-semibold">"Render"</h2>
            <div class="grid grid-cols-2 gap-3">
                <div>
                    <label for="render-engine" class=LABEL>"Engine"</label>
                    <select id="render-engine" class=INPUT on:change=move |ev| {
                        engine.set(if event_target_value(&ev) == "blender" { RenderEngine::Blender } else { RenderEngine::Builtin });
                        samples.set(String::new());
                        // Every engine writes PNG; the other engine may not write the format
                        // chosen for this one.
                        format.set(RenderFormat::Png);
                    }>
                        <Suspense fallback=|| ()>
                            {move || engines.get().and_then(Result::ok).map(|list| list.into_iter().map(|e| view! {
                                <option value=e.engine.as_str() disabled=!e.available>
                                    {if e.available { e.name.clone() } else { format!("{} (not installed)", e.name) }}
                                </option>
                            }).collect_view())}
                        </Suspense>
                    </select>
                </div>
                <div>
                    <label for="render-camera" class=LABEL>"Camera"</label>
                    <select id="render-camera" class=INPUT on:change=move |ev| camera.set(event_target_value(&ev))>
                        {move || cameras.get().into_iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="render-width" class=LABEL>"Width (px)"</label>
                    <input id="render-width" type="number" min="16" max="4096" class=INPUT
                        prop:value=move || width.get() on:input=move |ev| width.set(event_target_value(&ev)) />
                </div>
                <div>
                    <label for="render-height" class=LABEL>"Height (px)"</label>
                    <input id="render-height" type="number" min="16" max="4096" class=INPUT
                        prop:value=move || height.get() on:input=move |ev| height.set(event_target_value(&ev)) />
                </div>
                <div>
                    <label for="render-format" class=LABEL>"Format"</label>
                    <select id="render-format" class=INPUT on:change=move |ev| {
                        format.set(match event_target_value(&ev).as_str() {
                            "jpeg" => RenderFormat::Jpeg,
                            "exr" => RenderFormat::Exr,
                            _ => RenderFormat::Png,
                        })
                    }>
                        {move || chosen().map(|e| e.formats.into_iter().map(|f| view! {
                            <option value=format_name(f) selected=move || format.get() == f>{format_name(f).to_uppercase()}</option>
                        }).collect_view())}
                    </select>
                </div>
                <div>
                    <label for="render-samples" class=LABEL>
                        {move || chosen().map(|e| format!("Samples (1–{})", e.max_samples)).unwrap_or_else(|| "Samples".into())}
                    </label>
                    <input id="render-samples" type="number" min="1" class=INPUT
                        placeholder=move || chosen().map(|e| e.default_samples.to_string()).unwrap_or_default()
                        prop:value=move || samples.get() on:input=move |ev| samples.set(event_target_value(&ev)) />
                </div>
            </div>
            <ul class="space-y-1 text-xs text-stone-600 dark:text-stone-400" aria-label="Engines">
                {move || engines.get().and_then(Result::ok).map(|list| list.into_iter().map(|e| view! {
                    <li data-engine=e.engine.as_str()>
                        <span class="font-medium">{if e.available { format!("{}: ", e.name) } else { format!("{} is unavailable: ", e.name) }}</span>
                        {e.detail.clone()}
                    </li>
                }).collect_view())}
            </ul>
            <button type="submit" class=button::primary() disabled=move || busy.get()>"Render"</button>
        </form>
    }
}

fn state_words(job: &RenderJobDto) -> String {
    match job.state {
        JobState::Queued | JobState::RetryWait => "waiting in the queue".into(),
        JobState::Submitting | JobState::Running | JobState::Downloading => {
            job.status.clone().unwrap_or_else(|| "rendering".into())
        }
        JobState::Succeeded => "done".into(),
        JobState::Failed => format!("failed: {}", job.error.clone().unwrap_or_default()),
        JobState::Canceled => "cancelled".into(),
    }
}

/// The scene's render jobs, looked at again every second while one is unfinished. `version`
/// is bumped by the page when it queues one.
#[component]
pub fn SceneRenders(scene_id: i64, version: RwSignal<u32>) -> impl IntoView {
    let renders = Resource::new(move || version.get(), move |_| scene_renders(scene_id));
    let error = RwSignal::new(None::<AppError>);
    Effect::new(move |_| {
        if let Some(Ok(list)) = renders.get() {
            if list.iter().any(|j| !j.state.is_terminal()) {
                set_timeout(
                    move || version.update(|v| *v += 1),
                    std::time::Duration::from_millis(1000),
                );
            }
        }
    });
    let cancel = move |id: i64| {
        leptos::task::spawn_local(async move {
            match cancel_render(id).await {
                Ok(()) => version.update(|v| *v += 1),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section aria-labelledby="renders-heading" class="mt-6">
            <h2 id="renders-heading" class="font-semibold">"Renders"</h2>
            <FormMessage message=Signal::derive(move || error.get().map(|e| e.to_string())) />
            <ul class="mt-2 space-y-3" aria-label="Render jobs">
                <Transition fallback=|| ()>
                    {move || renders.get().map(|r| match r {
                        Err(e) => view! { <li><FormMessage message=Signal::stored(Some(e.to_string())) /></li> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <li class="text-sm text-stone-600 dark:text-stone-400">"Nothing rendered yet."</li>
                        }.into_any(),
                        Ok(list) => list.into_iter().map(|job| {
                            let id = job.id;
                            let running = !job.state.is_terminal();
                            let engine = match job.engine { RenderEngine::Builtin => "built-in", RenderEngine::Blender => "Blender" };
                            view! {
                                <li class="rounded-lg border border-stone-200 p-3 dark:border-stone-800" data-render=id data-state=format!("{:?}", job.state).to_lowercase()>
                                    <p class="text-sm">
                                        <span class="font-medium">{format!("#{id} · {engine} · camera “{}”", job.camera)}</span>
                                        " — "<span data-render-status>{state_words(&job)}</span>
                                    </p>
                                    {running.then(|| view! {
                                        <progress class="mt-1 w-full" max="1" value=job.progress.unwrap_or(0.0).to_string()
                                            aria-label=format!("Progress of render #{id}")></progress>
                                        <button type="button" class=format!("{} mt-1", button::secondary()) on:click=move |_| cancel(id)>
                                            {format!("Cancel render #{id}")}
                                        </button>
                                    })}
                                    <div class="mt-2 flex flex-wrap gap-2">
                                        {job.outputs.iter().map(|o| view! {
                                            <a href=format!("/products/{}", o.product_id)>
                                                <img src=o.thumb_url.clone() alt=format!("Render #{id} from camera “{}”", job.camera)
                                                    width="160" loading="lazy" class="rounded" />
                                            </a>
                                        }).collect_view()}
                                    </div>
                                </li>
                            }
                        }).collect_view().into_any(),
                    })}
                </Transition>
            </ul>
        </section>
    }
}
