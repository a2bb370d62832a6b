//! `/gallery`: every product, filtered and searched, in a virtualised grid. The view lives in
//! the URL (reload and back/forward restore it) and is remembered for the next visit.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;

use crate::api::gallery::{
    gallery_overview, gallery_summary, last_gallery_view, save_gallery_view,
};
use crate::components::button;
use crate::components::field::{FormMessage, INPUT, LABEL};
use crate::components::gallery_grid::GalleryGrid;
use crate::components::import_panel::ImportPanel;
use crate::dto::{GalleryQuery, GallerySort, RejectedView, TileSize};

#[component]
pub fn GalleryPage() -> impl IntoView {
    let location = use_location();
    // While the router moves to another page, this one keeps its view (it must not read the
    // next page's query as a gallery filter).
    let search = Memo::new(move |previous: Option<&String>| {
        if location.pathname.get() != "/gallery" {
            return previous.cloned().unwrap_or_default();
        }
        location.search.get().trim_start_matches('?').to_string()
    });
    let parsed = Memo::new(move |_| GalleryQuery::parse(&search.get()));
    let navigate = use_navigate();
    let go = StoredValue::new(move |q: GalleryQuery| {
        let text = q.to_query();
        navigate(&format!("/gallery?{text}"), NavigateOptions::default());
        leptos::task::spawn_local(async move {
            let _ = save_gallery_view(text).await;
        });
    });
    // A visit without a view in its address opens the last one.
    let restored = StoredValue::new(false);
    let restore = use_navigate();
    Effect::new(move |_| {
        if restored.get_value() {
            return;
        }
        restored.set_value(true);
        if search.get_untracked().is_empty() {
            let navigate = restore.clone();
            leptos::task::spawn_local(async move {
                if let Ok(Some(last)) = last_gallery_view().await {
                    if !last.is_empty() {
                        navigate(
                            &format!("/gallery?{last}"),
                            NavigateOptions {
                                replace: true,
                                ..Default::default()
                            },
                        );
                    }
                }
            });
        }
    });
    let refreshed = RwSignal::new(0u32);
    let overview = Resource::new(
        move || (search.get(), refreshed.get()),
        |(query, _)| gallery_overview(query),
    );
    // Months and facets come beside the grid, which does not wait for them.
    // Asked for from the browser only: the server's first answer does not wait for it.
    let summary = LocalResource::new(move || {
        let (query, _) = (search.get(), refreshed.get());
        gallery_summary(query, None)
    });
    let months = Signal::derive(move || {
        summary
            .get()
            .and_then(Result::ok)
            .map(|s| s.months)
            .unwrap_or_default()
    });
    let update = move |change: &dyn Fn(&mut GalleryQuery)| {
        let mut q = parsed.get_untracked().unwrap_or_default();
        change(&mut q);
        go.with_value(|go| go(q));
    };

    view! {
        <Title text="Gallery" />
        <h1 class="text-2xl font-semibold tracking-tight">"Gallery"</h1>
        {move || match parsed.get() {
            Err(e) => view! {
                <div class="mt-4"><FormMessage message=Signal::stored(Some(e)) /></div>
                <a href="/gallery?" class=button::secondary()>"Show everything"</a>
            }.into_any(),
            Ok(q) => view! { <Filters query=q.clone() update=update /> }.into_any(),
        }}
        <ImportPanel preferred=Signal::derive(move || parsed.with(|q| q.as_ref().ok().and_then(|q| q.project)))
            on_done=Callback::new(move |_| refreshed.update(|n| *n += 1)) />
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let q = parsed.get_untracked().unwrap_or_default();
                summary.await.ok().map(|s| view! {
                    <FacetPickers query=q providers=s.providers models=s.models ratings=s.ratings update=update />
                })
            })}
        </Transition>
        <Transition fallback=|| view! { <p class="mt-4 text-sm text-stone-500">"Loading the gallery…"</p> }>
            {move || Suspend::new(async move {
                let size = parsed.get_untracked().map(|q| q.size).unwrap_or_default();
                let trash = parsed.get_untracked().map(|q| q.trash).unwrap_or_default();
                let by_date = parsed
                    .get_untracked()
                    .is_ok_and(|q| matches!(q.sort, GallerySort::Newest | GallerySort::Oldest));
                match overview.await {
                    Ok(o) => {
                        let total = o.total;
                        view! {
                            <p class="mt-3 text-sm text-stone-600 dark:text-stone-400" data-gallery-count>
                                {format!("{total} product{}", if total == 1 { "" } else { "s" })}
                                {(!o.terms.is_empty()).then(|| format!(" matching {}", o.terms.join(" ")))}
                                {(total > 0).then(|| view! {
                                    " · "
                                    <a class="text-indigo-700 underline dark:text-indigo-300" data-export-view
                                        href=format!("/exports/archive.zip?gallery={}", crate::components::viewer::urlencode(&search.get_untracked()))>
                                        "Export these as a ZIP"
                                    </a>
                                })}
                            </p>
                            <div class="mt-2">
                                {if total == 0 {
                                    view! { <p class="rounded-lg border border-dashed border-stone-300 p-8 text-center text-stone-500">"Nothing here matches. Loosen the filter, or generate something."</p> }.into_any()
                                } else {
                                    view! { <GalleryGrid query=search.get_untracked() overview=o months=months by_date=by_date size=size trash=trash
                                        on_refresh=Callback::new(move |_| refreshed.update(|n| *n += 1)) /> }.into_any()
                                }}
                            </div>
                        }.into_any()
                    }
                    Err(e) => view! { <div class="mt-4"><FormMessage message=Signal::stored(Some(e.to_string())) /></div> }.into_any(),
                }
            })}
        </Transition>
    }
}

type Toggle = (
    &'static str,
    fn(&GalleryQuery) -> bool,
    fn(&mut GalleryQuery, bool),
);

/// The filter bar's on/off filters.
const TOGGLES: [Toggle; 3] = [
    ("Favourites", |q| q.favourites, |q, on| q.favourites = on),
    ("Made from another", |q| q.derived, |q, on| q.derived = on),
    ("Trash", |q| q.trash, |q, on| q.trash = on),
];

/// The kinds a gallery narrows to (the engine's words).
const KINDS: [(&str, &str); 6] = [
    ("", "Everything"),
    ("image", "Pictures"),
    ("upload", "Uploads"),
    ("video", "Videos"),
    ("audio", "Sounds"),
    ("model3d", "3D models"),
];

/// The lengths a gallery narrows videos and sounds to: key, label, shortest and longest (s).
type Length = (&'static str, &'static str, Option<u32>, Option<u32>);
const LENGTHS: [Length; 4] = [
    ("", "Any length", None, None),
    ("short", "Up to 10 s", None, Some(10)),
    ("medium", "10 s to 1 min", Some(10), Some(60)),
    ("long", "Over 1 min", Some(60), None),
];

/// The facets of the current view: provider and model with their counts, to narrow by.
#[component]
fn FacetPickers(
    query: GalleryQuery,
    providers: Vec<(String, i64)>,
    models: Vec<(String, i64)>,
    ratings: Vec<(Option<i16>, i64)>,
    update: impl Fn(&dyn Fn(&mut GalleryQuery)) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let picker = move |id: &'static str,
                       label: &'static str,
                       current: Option<String>,
                       values: Vec<(String, i64)>,
                       set: fn(&mut GalleryQuery, Option<String>)| {
        view! {
            <div>
                <label for=id class=LABEL>{label}</label>
                <select id=id class=INPUT data-facet=id on:change=move |ev| {
                    let v = event_target_value(&ev);
                    update(&|q| set(q, (!v.is_empty()).then(|| v.clone())));
                }>
                    <option value="" selected=current.is_none()>"All"</option>
                    {values.into_iter().map(|(v, n)| {
                        let selected = current.as_deref() == Some(v.as_str());
                        view! { <option value=v.clone() selected=selected>{format!("{v} ({n})")}</option> }
                    }).collect_view()}
                </select>
            </div>
        }
    };
    let rated = ratings
        .iter()
        .map(|(r, n)| match r {
            Some(r) => format!("★{r}: {n}"),
            None => format!("unrated: {n}"),
        })
        .collect::<Vec<_>>()
        .join(" · ");
    view! {
        <div class="mt-2 flex flex-wrap items-end gap-3">
            {picker("gallery-provider", "Provider", query.provider.clone(), providers, |q, v| q.provider = v)}
            {picker("gallery-model", "Model", query.model.clone(), models, |q, v| q.model = v)}
            <div>
                <label for="gallery-kind" class=LABEL>"Kind"</label>
                <select id="gallery-kind" class=INPUT on:change=move |ev| {
                    let v = event_target_value(&ev);
                    update(&|q| q.kind = (!v.is_empty()).then(|| v.clone()));
                }>
                    {KINDS.into_iter().map(|(value, label)| view! {
                        <option value=value selected=query.kind.as_deref().unwrap_or("") == value>{label}</option>
                    }).collect_view()}
                </select>
            </div>
            <div>
                <label for="gallery-length" class=LABEL>"Length"</label>
                <select id="gallery-length" class=INPUT on:change=move |ev| {
                    let v = event_target_value(&ev);
                    let (min, max) = LENGTHS.iter().find(|(key, ..)| *key == v).map_or((None, None), |(_, _, min, max)| (*min, *max));
                    update(&|q| { q.min_secs = min; q.max_secs = max; });
                }>
                    {LENGTHS.into_iter().map(|(key, label, min, max)| view! {
                        <option value=key selected=(query.min_secs, query.max_secs) == (min, max)>{label}</option>
                    }).collect_view()}
                </select>
            </div>
            <p class="text-xs text-stone-600 dark:text-stone-400" data-rating-facets>{rated}</p>
        </div>
    }
}

/// The filter bar: each change is a new URL.
#[component]
fn Filters(
    query: GalleryQuery,
    update: impl Fn(&dyn Fn(&mut GalleryQuery)) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let text = RwSignal::new(query.search.clone());
    let tag = RwSignal::new(String::new());
    let q = query.clone();
    view! {
        <form
            class="mt-4 flex flex-wrap items-end gap-3"
            role="search"
            on:submit=move |ev| {
                ev.prevent_default();
                let t = text.get_untracked();
                update(&|q| {
                    q.search = t.clone();
                    if !t.is_empty() && q.sort == GallerySort::Newest {
                        q.sort = GallerySort::Relevance;
                    }
                });
            }
        >
            <div class="min-w-64 flex-1">
                <label for="gallery-search" class=LABEL>"Search prompts, or a seed"</label>
                <input id="gallery-search" type="search" class=INPUT placeholder="red fox, seed:1234"
                    prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev)) />
            </div>
            <button type="submit" class=button::primary()>"Search"</button>
            <div>
                <label for="gallery-sort" class=LABEL>"Sort"</label>
                <select id="gallery-sort" class=INPUT on:change=move |ev| {
                    let key = event_target_value(&ev);
                    update(&|q| {
                        q.sort = GallerySort::ALL.into_iter().find(|s| s.key() == key).unwrap_or_default();
                        if q.sort == GallerySort::Random && q.shuffle_seed == 0 {
                            q.shuffle_seed = (js_now() as i64) % 1_000_000;
                        }
                    });
                }>
                    {GallerySort::ALL.into_iter().map(|s| view! {
                        <option value=s.key() selected=q.sort == s>{s.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <div>
                <label for="gallery-rating" class=LABEL>"Rating at least"</label>
                <select id="gallery-rating" class=INPUT on:change=move |ev| {
                    let v = event_target_value(&ev);
                    update(&|q| q.min_rating = v.parse().ok());
                }>
                    <option value="" selected=q.min_rating.is_none()>"Any"</option>
                    {(1..=5).map(|r: i16| view! { <option value=r.to_string() selected=q.min_rating == Some(r)>{format!("{r} ★")}</option> }).collect_view()}
                </select>
            </div>
            <div>
                <label for="gallery-rejected" class=LABEL>"Rejected"</label>
                <select id="gallery-rejected" class=INPUT on:change=move |ev| {
                    let v = event_target_value(&ev);
                    update(&|q| q.rejected = match v.as_str() { "include" => RejectedView::Include, "only" => RejectedView::Only, _ => RejectedView::Hide });
                }>
                    <option value="hide" selected=q.rejected == RejectedView::Hide>"Hidden"</option>
                    <option value="include" selected=q.rejected == RejectedView::Include>"Shown"</option>
                    <option value="only" selected=q.rejected == RejectedView::Only>"Only rejected"</option>
                </select>
            </div>
            {TOGGLES.iter().map(|(label, get, set)| {
                let (set, checked) = (*set, get(&q));
                view! {
                    <label class="flex items-center gap-2 text-sm">
                        <input type="checkbox" prop:checked=checked on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            update(&|q| set(q, on));
                        } />
                        {*label}
                    </label>
                }
            }).collect_view()}
            <div>
                <label for="gallery-tag" class=LABEL>"Tag"</label>
                <input id="gallery-tag" class=INPUT placeholder="add a tag filter"
                    prop:value=move || tag.get() on:input=move |ev| tag.set(event_target_value(&ev))
                    on:keydown=move |ev| {
                        if ev.key() == "Enter" {
                            ev.prevent_default();
                            let t = tag.get_untracked().trim().to_string();
                            if !t.is_empty() {
                                update(&|q| q.tags.push(t.clone()));
                            }
                        }
                    } />
            </div>
            <a href="/tags" class="text-sm text-indigo-700 underline dark:text-indigo-300">"Manage tags"</a>
            <fieldset class="flex items-center gap-1 text-sm">
                <legend class="sr-only">"Thumbnail size"</legend>
                {TileSize::ALL.into_iter().map(|s| view! {
                    <button type="button" aria-pressed=(q.size == s).to_string() class=button::secondary()
                        on:click=move |_| update(&|q| q.size = s)>{s.label()}</button>
                }).collect_view()}
            </fieldset>
        </form>
        {(!q.tags.is_empty() || q.provider.is_some() || q.model.is_some()).then(|| view! {
            <ul class="mt-2 flex flex-wrap gap-2 text-sm" aria-label="Active filters">
                {q.tags.iter().cloned().map(|t| {
                    let label = format!("Remove tag filter {t}");
                    view! { <li><button type="button" class=button::secondary() aria-label=label
                        on:click=move |_| { let t = t.clone(); update(&move |q| q.tags.retain(|x| *x != t)) }>{format!("tag: {} ×", t)}</button></li> }
                }).collect_view()}
            </ul>
        })}
    }
}

fn js_now() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}
