//! The model browser: search Civitai's catalog from the Generate page, with preview images,
//! and pick a checkpoint (it becomes the model) or LoRAs (added below it). What a project picks
//! is remembered and offered first next time.

use leptos::prelude::*;

use crate::api::catalog::{project_picks, remember_pick, search_catalog};
use crate::api::generate::describe_model;
use crate::components::button;
use crate::components::field::{FormMessage, INPUT, LABEL};
use crate::dto::{CatalogKind, CatalogModelDto, CatalogSort, ModelDto, PickDto};

/// The base models the catalog can be filtered by (the server checks the same list).
const BASE_MODELS: &[&str] = &["SD 1.5", "SDXL 1.0", "Pony", "Illustrious", "Flux.1 D"];

#[component]
pub fn ModelBrowser(
    #[prop(into)] project_id: Signal<Option<i64>>,
    /// The provider models are loaded at (`civitai`).
    provider: &'static str,
    /// A checkpoint was picked and read: make it the model.
    on_model: impl Fn(ModelDto) + Copy + Send + Sync + 'static,
    /// A LoRA was picked.
    on_lora: impl Fn(PickDto) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let kind = RwSignal::new(CatalogKind::Checkpoint);
    let base = RwSignal::new(String::new());
    let sort = RwSignal::new(CatalogSort::HighestRated);
    let results = RwSignal::new(Vec::<CatalogModelDto>::new());
    let next = RwSignal::new(None::<String>);
    let searching = RwSignal::new(false);
    let searched = RwSignal::new(false);
    let message = RwSignal::new(None::<String>);
    let picks_changed = RwSignal::new(0u32);
    let picks = Resource::new(
        move || (project_id.get(), picks_changed.get()),
        |(project, _)| async move {
            match project {
                Some(id) => project_picks(id).await.unwrap_or_default(),
                None => Vec::new(),
            }
        },
    );

    let search = move |more: bool| {
        if searching.get_untracked() {
            return;
        }
        searching.set(true);
        message.set(None);
        let cursor = if more { next.get_untracked() } else { None };
        let (t, k, b, s) = (
            text.get_untracked(),
            kind.get_untracked(),
            base.get_untracked(),
            sort.get_untracked(),
        );
        leptos::task::spawn_local(async move {
            match search_catalog(t, k, Some(b), s, cursor).await {
                Ok(page) => {
                    if more {
                        results.update(|r| r.extend(page.models));
                    } else {
                        results.set(page.models);
                    }
                    next.set(page.next_cursor);
                    searched.set(true);
                }
                Err(e) => message.set(Some(e.to_string())),
            }
            searching.set(false);
        });
    };

    let use_pick = move |pick: PickDto| {
        message.set(None);
        leptos::task::spawn_local(async move {
            if let Some(project) = project_id.get_untracked() {
                if remember_pick(project, pick.clone()).await.is_ok() {
                    picks_changed.update(|n| *n += 1);
                }
            }
            match pick.kind {
                CatalogKind::Lora => on_lora(pick),
                CatalogKind::Checkpoint => {
                    match describe_model(provider.to_string(), pick.air.clone()).await {
                        Ok(model) => on_model(model),
                        Err(e) => message.set(Some(e.to_string())),
                    }
                }
            }
        });
    };

    view! {
        <details class="rounded-md border border-stone-200 p-3 dark:border-stone-700" data-model-browser>
            <summary class="cursor-pointer text-sm font-medium focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-500">
                "Browse Civitai models"
            </summary>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let picked = picks.await;
                    (!picked.is_empty()).then(|| view! {
                        <section aria-labelledby="picked-heading" class="mt-3">
                            <h3 id="picked-heading" class="text-xs font-semibold uppercase tracking-wide text-stone-600 dark:text-stone-400">"Picked in this project"</h3>
                            <ul class="mt-1 space-y-1">
                                {picked.into_iter().map(|pick| {
                                    let label = match pick.kind {
                                        CatalogKind::Checkpoint => "Use as model",
                                        CatalogKind::Lora => "Add LoRA",
                                    };
                                    let name = pick.name.clone();
                                    let again = pick.clone();
                                    view! {
                                        <li class="flex items-center justify-between gap-2 text-sm">
                                            <span class="truncate">{name.clone()}</span>
                                            <button type="button" class=button::secondary() on:click=move |_| use_pick(again.clone())>
                                                {label}<span class="sr-only">{format!(" {name}")}</span>
                                            </button>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        </section>
                    })
                })}
            </Suspense>
            <div class="mt-3 grid grid-cols-2 gap-2">
                <div class="col-span-2">
                    <label for="browse-text" class=LABEL>"Search the catalog"</label>
                    <input id="browse-text" type="search" class=INPUT bind:value=text autocomplete="off"
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                            if ev.key() == "Enter" {
                                ev.prevent_default();
                                search(false);
                            }
                        } />
                </div>
                <div>
                    <label for="browse-kind" class=LABEL>"Kind"</label>
                    <select id="browse-kind" class=INPUT on:change=move |ev| kind.set(match event_target_value(&ev).as_str() {
                        "lora" => CatalogKind::Lora,
                        _ => CatalogKind::Checkpoint,
                    })>
                        <option value="checkpoint">"Checkpoints"</option>
                        <option value="lora">"LoRAs"</option>
                    </select>
                </div>
                <div>
                    <label for="browse-base" class=LABEL>"Base model"</label>
                    <select id="browse-base" class=INPUT bind:value=base>
                        <option value="">"Any"</option>
                        {BASE_MODELS.iter().map(|b| view! { <option value=*b>{*b}</option> }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="browse-sort" class=LABEL>"Order"</label>
                    <select id="browse-sort" class=INPUT on:change=move |ev| sort.set(match event_target_value(&ev).as_str() {
                        "most_downloaded" => CatalogSort::MostDownloaded,
                        "newest" => CatalogSort::Newest,
                        _ => CatalogSort::HighestRated,
                    })>
                        <option value="highest_rated">"Highest rated"</option>
                        <option value="most_downloaded">"Most downloaded"</option>
                        <option value="newest">"Newest"</option>
                    </select>
                </div>
                <div class="flex items-end">
                    <button type="button" class=button::primary() disabled=move || searching.get() on:click=move |_| search(false)>
                        {move || if searching.get() { "Searching…" } else { "Search" }}
                    </button>
                </div>
            </div>
            <FormMessage message=Signal::derive(move || message.get()) />
            <ul class="mt-3 grid grid-cols-2 gap-2" aria-label="Catalog results" aria-busy=move || searching.get().to_string()>
                {move || results.get().into_iter().map(|model| view! { <CatalogCard model use_pick /> }).collect_view()}
            </ul>
            <Show when=move || searched.get() && results.with(Vec::is_empty)>
                <p class="mt-2 text-sm text-stone-600 dark:text-stone-400">"Nothing found. Try other words or another base model."</p>
            </Show>
            <Show when=move || next.with(Option::is_some)>
                <button type="button" class=format!("{} mt-2", button::secondary()) disabled=move || searching.get() on:click=move |_| search(true)>
                    "Load more"
                </button>
            </Show>
        </details>
    }
}

#[component]
fn CatalogCard(
    model: CatalogModelDto,
    use_pick: impl Fn(PickDto) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let version = model.versions.first().cloned();
    let pick = version.as_ref().and_then(|v| PickDto::of(&model, v));
    let label = match model.kind {
        CatalogKind::Checkpoint => "Use as model",
        CatalogKind::Lora => "Add LoRA",
    };
    let name = model.name.clone();
    let detail = version
        .as_ref()
        .map(|v| format!("{} · {}", v.name, v.base_model))
        .unwrap_or_default();
    let preview = version.as_ref().and_then(|v| v.preview_url.clone());
    view! {
        <li class="flex flex-col gap-1 rounded-md border border-stone-200 p-2 text-sm dark:border-stone-700" data-catalog-model=model.id>
            {match preview {
                Some(url) => view! {
                    <img src=url alt=format!("Preview of {name}") loading="lazy" referrerpolicy="no-referrer"
                        class="aspect-square w-full rounded bg-stone-100 object-cover dark:bg-stone-800" />
                }.into_any(),
                None => view! { <div class="aspect-square w-full rounded bg-stone-100 dark:bg-stone-800"></div> }.into_any(),
            }}
            <span class="font-medium">{name.clone()}</span>
            <span class="text-xs text-stone-600 dark:text-stone-400">{detail}</span>
            {match pick {
                Some(pick) => view! {
                    <button type="button" class=button::secondary() on:click=move |_| use_pick(pick.clone())>
                        {label}<span class="sr-only">{format!(" {name}")}</span>
                    </button>
                }.into_any(),
                None => view! { <span class="text-xs text-stone-600 dark:text-stone-400">"Not runnable here"</span> }.into_any(),
            }}
        </li>
    }
}
