//! The viewer's parts around a product page: triage (rating, favourite, reject, tags), reuse
//! (copy the prompt, use these settings, same settings with a new seed, download), zoom and
//! pan, and the keys that step through the gallery it was opened from.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::gallery::{gallery_overview, gallery_page, suggest_tags, triage};
use crate::api::products::rerun_with_new_seed;
use crate::components::button;
use crate::dto::{ProductDetailDto, TriageAction};

/// Rating, favourite, reject and tags for one product, saved as they change.
#[component]
pub fn TriagePanel(detail: ProductDetailDto) -> impl IntoView {
    let id = detail.product.id;
    let rating = RwSignal::new(detail.rating);
    let favourite = RwSignal::new(detail.favourite);
    let rejected = RwSignal::new(detail.rejected);
    let tags = RwSignal::new(detail.tags.clone());
    let new_tag = RwSignal::new(String::new());
    let suggestions = RwSignal::new(Vec::<(String, i64)>::new());
    let message = RwSignal::new(None::<String>);
    let send = move |action: TriageAction| {
        leptos::task::spawn_local(async move {
            if let Err(e) = triage(vec![id], action).await {
                message.set(Some(e.to_string()));
            }
        });
    };
    view! {
        <section aria-labelledby="triage-heading" class="space-y-2">
            <h2 id="triage-heading" class="font-semibold">"Rating and tags"</h2>
            <div class="flex flex-wrap items-center gap-1" role="group" aria-label="Rating">
                {(0..=5).map(|r: i16| view! {
                    <button type="button" class=button::secondary() aria-pressed=move || (rating.get() == Some(r)).to_string()
                        on:click=move |_| { rating.set(Some(r)); send(TriageAction::Rate(Some(r))); }>
                        {format!("★{r}")}
                    </button>
                }).collect_view()}
                <button type="button" class=button::secondary() aria-pressed=move || favourite.get().to_string()
                    on:click=move |_| { let on = !favourite.get_untracked(); favourite.set(on); send(TriageAction::Favourite(on)); }>
                    "Favourite"
                </button>
                <button type="button" class=button::secondary() aria-pressed=move || rejected.get().to_string()
                    on:click=move |_| { let on = !rejected.get_untracked(); rejected.set(on); send(TriageAction::Reject(on)); }>
                    "Rejected"
                </button>
            </div>
            <ul class="flex flex-wrap gap-1" aria-label="Tags" data-product-tags>
                {move || tags.get().into_iter().map(|t| {
                    let label = format!("Remove tag {t}");
                    let name = t.clone();
                    view! {
                        <li class="flex items-center gap-1 rounded-full bg-stone-100 px-2 py-0.5 text-xs dark:bg-stone-800">
                            {t.clone()}
                            <button type="button" aria-label=label on:click=move |_| {
                                let name = name.clone();
                                tags.update(|list| list.retain(|x| *x != name));
                                send(TriageAction::Untag(name));
                            }>"×"</button>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <form class="flex items-end gap-2" on:submit=move |ev| {
                ev.prevent_default();
                let name = new_tag.get_untracked().trim().to_string();
                if name.is_empty() { return; }
                new_tag.set(String::new());
                leptos::task::spawn_local(async move {
                    match triage(vec![id], TriageAction::Tag(name.clone())).await {
                        Ok(_) => tags.update(|list| if !list.iter().any(|t| t.eq_ignore_ascii_case(&name)) { list.push(name) }),
                        Err(e) => message.set(Some(e.to_string())),
                    }
                });
            }>
                <div>
                    <label for="viewer-tag" class="block text-xs font-medium">"Add a tag"</label>
                    <input id="viewer-tag" list="viewer-tag-suggestions" autocomplete="off"
                        class="mt-1 rounded-md border border-stone-300 px-2 py-1 dark:border-stone-700 dark:bg-stone-900"
                        prop:value=move || new_tag.get()
                        on:input=move |ev| {
                            let text = event_target_value(&ev);
                            new_tag.set(text.clone());
                            leptos::task::spawn_local(async move {
                                if let Ok(list) = suggest_tags(text).await { suggestions.set(list); }
                            });
                        } />
                    <datalist id="viewer-tag-suggestions">
                        {move || suggestions.get().into_iter().map(|(name, _)| view! { <option value=name></option> }).collect_view()}
                    </datalist>
                </div>
                <button type="submit" class=button::secondary()>"Add"</button>
            </form>
            {move || message.get().map(|m| view! { <p role="alert" class="text-red-700 dark:text-red-400">{m}</p> })}
        </section>
    }
}

/// Copy the prompt, use these settings, same settings with a new seed, download the original.
#[component]
pub fn ReuseButtons(detail: ProductDetailDto) -> impl IntoView {
    let product = detail.product.clone();
    let id = product.id;
    let generated = product.provider.is_some() && product.model.is_some();
    let settings = format!("/generate?project={}&settings={id}", product.project_id);
    let prompt = StoredValue::new(product.prompt.clone());
    let said = RwSignal::new(None::<String>);
    let queued = RwSignal::new(None::<i64>);
    view! {
        <div class="flex flex-wrap gap-2">
            <button type="button" class=button::secondary() on:click=move |_| {
                copy_text(&prompt.get_value());
                said.set(Some("Prompt copied.".into()));
            }>"Copy prompt"</button>
            {generated.then(|| view! {
                <a href=settings.clone() class=button::secondary() data-use-settings>"Use these settings"</a>
                <button type="button" class=button::secondary() on:click=move |_| {
                    leptos::task::spawn_local(async move {
                        match rerun_with_new_seed(id).await {
                            Ok(batch) => queued.set(Some(batch)),
                            Err(e) => said.set(Some(e.to_string())),
                        }
                    });
                }>"Same settings, new seed"</button>
            })}
            <a href=product.url.clone() download class=button::secondary()>"Download original"</a>
        </div>
        <p aria-live="polite" class="text-sm">
            {move || said.get()}
            {move || queued.get().map(|b| view! {
                "Queued: " <a class="text-indigo-700 underline dark:text-indigo-300" href=format!("/batches/{b}/grid")>{format!("batch #{b}")}</a>
            })}
        </p>
    }
}

fn copy_text(text: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let window = leptos::prelude::window();
        let clipboard = js_sys::Reflect::get(&window, &"navigator".into())
            .and_then(|n| js_sys::Reflect::get(&n, &"clipboard".into()));
        if let Ok(clipboard) = clipboard {
            if let Ok(write) = js_sys::Reflect::get(&clipboard, &"writeText".into()) {
                if let Ok(write) = write.dyn_into::<js_sys::Function>() {
                    let _ = write.call1(&clipboard, &text.into());
                }
            }
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}

/// The picture, zoomed 2.5× around the pointer on click, panned by moving the pointer.
#[component]
pub fn ZoomImage(
    src: String,
    alt: String,
    width: i32,
    height: i32,
    placeholder: Option<String>,
) -> impl IntoView {
    let zoomed = RwSignal::new(false);
    let origin = RwSignal::new((50.0f64, 50.0f64));
    let at = move |ev: &leptos::ev::MouseEvent| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            // Relative to the picture the pointer is over.
            if let Some(el) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            {
                let (w, h) = (
                    el.client_width().max(1) as f64,
                    el.client_height().max(1) as f64,
                );
                let x = ev.offset_x() as f64 / w * 100.0;
                let y = ev.offset_y() as f64 / h * 100.0;
                origin.set((x.clamp(0.0, 100.0), y.clamp(0.0, 100.0)));
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        <div class="overflow-hidden rounded-lg bg-stone-200 dark:bg-stone-800"
            style=placeholder.map(|c| format!("background-color: {c}"))
            on:mousemove=move |ev| if zoomed.get_untracked() { at(&ev) }>
            <button type="button" class="block w-full cursor-zoom-in" aria-pressed=move || zoomed.get().to_string()
                aria-label="Zoom" on:click=move |ev| { at(&ev); zoomed.update(|z| *z = !*z); }>
                <img src=src alt=alt width=width height=height data-viewer-image
                    class="w-full object-contain transition-transform duration-150"
                    style=move || {
                        let (x, y) = origin.get();
                        format!("transform-origin:{x}% {y}%;transform:scale({})", if zoomed.get() { 2.5 } else { 1.0 })
                    } />
            </button>
        </div>
    }
}

/// Arrow keys step to the previous and next product of the gallery view the viewer was opened
/// from (`?gallery=<view>&at=<position>`); Escape goes back to that view.
#[component]
pub fn GalleryKeys(
    /// Whether ← → step through the gallery (a player's page seeks with them instead; Page Up
    /// and Page Down always step).
    #[prop(default = true)]
    arrows: bool,
) -> impl IntoView {
    // Renders nothing: it only listens for keys.
    let query = use_query_map();
    let navigate = use_navigate();
    // The position is read when the key is pressed, not when the viewer was opened: the same
    // viewer may already have stepped. One step at a time: a key pressed while the next product
    // is being found is dropped rather than counted from the old position.
    let stepping = StoredValue::new(false);
    let step = move |delta: i64| {
        if stepping.get_value() {
            return;
        }
        let (Some(view), Some(at)) = query.with_untracked(|q| {
            (
                q.get("gallery"),
                q.get("at").and_then(|a| a.parse::<usize>().ok()),
            )
        }) else {
            return;
        };
        let target = at as i64 + delta;
        if target < 0 {
            return;
        }
        let target = target as usize;
        let navigate = navigate.clone();
        stepping.set_value(true);
        leptos::task::spawn_local(async move {
            if let Some(id) = product_at(&view, target).await {
                navigate(
                    &format!("/products/{id}?gallery={}&at={target}", urlencode(&view)),
                    Default::default(),
                );
            }
            stepping.set_value(false);
        });
    };
    let navigate = use_navigate();
    // The handle is removed with the component: leptos leaves a window listener in place until
    // then, and a viewer left behind would keep stepping from its own, stale position.
    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        let typing = ev
            .target()
            .map(|t| {
                #[cfg(feature = "hydrate")]
                {
                    use wasm_bindgen::JsCast;
                    t.dyn_into::<web_sys::HtmlInputElement>().is_ok()
                }
                #[cfg(not(feature = "hydrate"))]
                {
                    let _ = t;
                    false
                }
            })
            .unwrap_or(false);
        if typing {
            return;
        }
        match ev.key().as_str() {
            "ArrowRight" if arrows => step(1),
            "ArrowLeft" if arrows => step(-1),
            "PageDown" => step(1),
            "PageUp" => step(-1),
            "Escape" => {
                if let Some(view) = query.with_untracked(|q| q.get("gallery")) {
                    navigate(&format!("/gallery?{view}"), Default::default());
                }
            }
            _ => {}
        }
    });
    on_cleanup(move || keys.remove());
}

/// The product at a position of a gallery view, if there is one.
async fn product_at(view: &str, at: usize) -> Option<i64> {
    let overview = gallery_overview(view.to_string()).await.ok()?;
    let start = overview.landmarks.get(at / 100).cloned()?;
    let page = gallery_page(view.to_string(), Some(start), Some(overview.snapshot))
        .await
        .ok()?;
    page.tiles.get(at % 100).map(|tile| tile.id)
}

/// Percent-encodes a query string so that it travels as one parameter.
pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
