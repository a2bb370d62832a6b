//! A character's portraits: queue one in a style (built-in or edited) on any provider, or a
//! variation that changes only the outfit, the pose or the scene and keeps the face and the
//! seed; the pictures appear as the queue makes them, each linking to its product.

use leptos::prelude::*;

use crate::api::characters::{character_portraits, queue_portrait};
use crate::api::generate::generate_options;
use crate::components::button;
use crate::components::field::{FormMessage, INPUT, LABEL};
use crate::dto::{PortraitOrderDto, PortraitVariation, PortraitsDto};
use crate::error::AppError;

/// Which words a button changes.
#[derive(Clone, Copy)]
enum Change {
    /// The newest portrait's words again (the same request for the same style).
    None,
    Outfit,
    Pose,
    Scene,
}

fn next(base: PortraitVariation, change: Change) -> PortraitVariation {
    match change {
        Change::None => base,
        Change::Outfit => PortraitVariation {
            outfit: base.outfit + 1,
            ..base
        },
        Change::Pose => PortraitVariation {
            pose: base.pose + 1,
            ..base
        },
        Change::Scene => PortraitVariation {
            scene: base.scene + 1,
            ..base
        },
    }
}

fn describe(v: PortraitVariation) -> String {
    let mut parts = Vec::new();
    if v.outfit > 0 {
        parts.push(format!("outfit {}", v.outfit));
    }
    if v.pose > 0 {
        parts.push(format!("pose {}", v.pose));
    }
    if v.scene > 0 {
        parts.push(format!("scene {}", v.scene));
    }
    match parts.is_empty() {
        true => "own outfit".into(),
        false => parts.join(", "),
    }
}

#[component]
pub fn Portraits(character_id: i64) -> impl IntoView {
    let version = RwSignal::new(0u32);
    let listed = Resource::new(
        move || version.get(),
        move |_| character_portraits(character_id),
    );
    let options = Resource::new(|| (), |_| generate_options());
    let style = RwSignal::new(String::new());
    let template = RwSignal::new(String::new());
    let provider = RwSignal::new(String::new());
    let model = RwSignal::new(String::new());
    let error = RwSignal::new(None::<AppError>);
    let status = RwSignal::new(None::<String>);
    let latest = RwSignal::new(PortraitVariation::default());

    // The first style's template, once the styles are known; and the newest portrait's words.
    Effect::new(move |_| {
        if let Some(Ok(PortraitsDto { styles, portraits })) = listed.get() {
            if template.get_untracked().is_empty() {
                if let Some(first) = styles.first() {
                    style.set(first.name.clone());
                    template.set(first.template.clone());
                }
            }
            if let Some(newest) = portraits.first() {
                latest.set(newest.variation);
            }
            // Look again shortly while a portrait is still being made.
            if portraits.iter().any(|p| !p.state.is_terminal()) {
                set_timeout(
                    move || version.update(|v| *v += 1),
                    std::time::Duration::from_millis(1500),
                );
            }
        }
    });

    let queue = move |change: Change| {
        let variation = next(latest.get_untracked(), change);
        let order = PortraitOrderDto {
            provider: Some(provider.get_untracked()).filter(|p| !p.trim().is_empty()),
            model: Some(model.get_untracked()).filter(|m| !m.trim().is_empty()),
            style: Some(template.get_untracked()),
            variation,
        };
        status.set(Some("Queueing…".into()));
        leptos::task::spawn_local(async move {
            match queue_portrait(character_id, order).await {
                Ok(q) => {
                    error.set(None);
                    latest.set(variation);
                    status.set(Some(format!(
                        "Queued as batch #{} (seed {}): {}",
                        q.batch_id, q.seed, q.prompt
                    )));
                    version.update(|v| *v += 1);
                }
                Err(e) => {
                    status.set(None);
                    error.set(Some(e));
                }
            }
        });
    };

    let choose_style = move |ev: leptos::ev::Event| {
        let name = event_target_value(&ev);
        if let Some(Ok(dto)) = listed.get_untracked() {
            if let Some(s) = dto.styles.iter().find(|s| s.name == name) {
                template.set(s.template.clone());
            }
        }
        style.set(name);
    };

    view! {
        <section aria-labelledby="portraits-heading" class="mt-6 rounded-lg border border-stone-200 p-4 print:hidden dark:border-stone-800">
            <h2 id="portraits-heading" class="font-semibold">"Portraits"</h2>
            <p class="text-sm text-stone-600 dark:text-stone-400">
                "The prompt is the character's appearance in a style; the seed comes from the character's, so the same style gives the same request. "
                "New outfit, pose or scene change only those words."
            </p>
            <div class="mt-3 grid gap-3 sm:grid-cols-3">
                <div>
                    <label for="portrait-style" class=LABEL>"Style"</label>
                    <select id="portrait-style" class=INPUT on:change=choose_style>
                        <Suspense fallback=|| ()>
                            {move || listed.get().and_then(Result::ok).map(|dto| dto.styles.into_iter().map(|s| {
                                let chosen = style.get_untracked() == s.name;
                                view! { <option value=s.name.clone() selected=chosen>{s.name.clone()}</option> }
                            }).collect_view())}
                        </Suspense>
                    </select>
                </div>
                <div class="sm:col-span-2">
                    <label for="portrait-model" class=LABEL>"Provider and model"</label>
                    <select id="portrait-model" class=INPUT on:change=move |ev| {
                        // "provider/model" (provider ids have no slash), or empty for the default.
                        let value = event_target_value(&ev);
                        let (p, m) = value.split_once('/').unwrap_or_default();
                        provider.set(p.to_string());
                        model.set(m.to_string());
                    }>
                        <option value="">"Offline generator (default)"</option>
                        <Suspense fallback=|| ()>
                            {move || options.get().and_then(Result::ok).map(|o| o.providers.into_iter().map(|p| {
                                // Portraits start from the prompt: models that need a picture are left out.
                                let models = p.models.into_iter().filter(|m| !m.needs_image).map(|m| {
                                    let value = format!("{}/{}", p.id, m.id);
                                    view! { <option value=value>{m.name}</option> }
                                }).collect_view();
                                view! { <optgroup label=p.name>{models}</optgroup> }
                            }).collect_view())}
                        </Suspense>
                    </select>
                </div>
                <div class="sm:col-span-3">
                    <label for="portrait-template" class=LABEL>"Style template"</label>
                    <textarea id="portrait-template" rows="2" class=INPUT
                        aria-describedby="portrait-template-help"
                        prop:value=move || template.get()
                        on:input=move |ev| template.set(event_target_value(&ev))></textarea>
                    <p id="portrait-template-help" class="mt-1 text-xs text-stone-600 dark:text-stone-400">
                        "Must place {subject} (the appearance); may use {outfit}, {pose} and {scene}."
                    </p>
                </div>
            </div>
            <div class="mt-3 flex flex-wrap gap-2">
                <button type="button" class=button::primary() on:click=move |_| queue(Change::None)>"Portrait"</button>
                <button type="button" class=button::secondary() on:click=move |_| queue(Change::Outfit)>"New outfit"</button>
                <button type="button" class=button::secondary() on:click=move |_| queue(Change::Pose)>"New pose"</button>
                <button type="button" class=button::secondary() on:click=move |_| queue(Change::Scene)>"New scene"</button>
            </div>
            <p class="mt-2 text-sm text-stone-700 dark:text-stone-300" aria-live="polite" data-portrait-status>{move || status.get()}</p>
            <FormMessage message=Signal::derive(move || error.get().map(|e| e.to_string())) />
            <ul class="mt-3 grid grid-cols-2 gap-3 sm:grid-cols-4" aria-label="Portraits">
                <Transition fallback=|| ()>
                    {move || listed.get().map(|r| match r {
                        Err(e) => view! { <li><FormMessage message=Signal::stored(Some(e.to_string())) /></li> }.into_any(),
                        Ok(dto) if dto.portraits.is_empty() => view! {
                            <li class="col-span-full text-sm text-stone-600 dark:text-stone-400">"No portraits yet."</li>
                        }.into_any(),
                        Ok(dto) => dto.portraits.into_iter().map(|p| {
                            let caption = format!("{}, {}", p.style_name, describe(p.variation));
                            match p.product {
                                Some(product) => {
                                    let alt = format!("Portrait: {caption}");
                                    view! {
                                        <li>
                                            <a href=format!("/products/{}", product.id) class="block focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-500" data-portrait>
                                                <img src=product.thumb_url alt=alt class="aspect-square w-full rounded-md object-cover" loading="lazy" />
                                                <span class="mt-1 block text-xs text-stone-700 dark:text-stone-300">{caption}</span>
                                            </a>
                                        </li>
                                    }.into_any()
                                }
                                None => {
                                    let state = match (&p.error, p.state.is_terminal()) {
                                        (Some(e), _) => format!("{}: {e}", p.state.as_str()),
                                        (None, false) => format!("{}…", p.state.as_str()),
                                        (None, true) => p.state.as_str().to_string(),
                                    };
                                    view! {
                                        <li class="flex aspect-square flex-col items-center justify-center rounded-md border border-dashed border-stone-300 p-2 text-center text-xs text-stone-600 dark:border-stone-700 dark:text-stone-400" data-portrait-pending>
                                            <span>{caption}</span>
                                            <span>{state}</span>
                                        </li>
                                    }.into_any()
                                }
                            }
                        }).collect_view().into_any(),
                    })}
                </Transition>
            </ul>
        </section>
    }
}
