//! The gallery's virtualised grid: only the rows near the viewport exist in the DOM, pages load
//! by their landmark as they come near, and the scroll box never passes a height the browser
//! can hold (past it, scroll positions map proportionally onto rows), so every product is
//! reachable. Layout per frame is a few arithmetic steps for the visible rows, whatever the
//! size of the gallery or the density of its dates.
//!
//! Keyboard: arrows or h/j/k/l move, Enter opens the viewer, 0–5 rate, F favourites, X rejects
//! (with Undo), Space selects, ? lists the keys.

use std::collections::{HashMap, HashSet};

use leptos::html;
use leptos::prelude::*;

use crate::api::gallery::{gallery_fresh, gallery_page, triage};
use crate::components::button;
use crate::components::gallery_bulk::{SelectionBar, TagForm};
use crate::components::highlight::Highlighted;
use crate::components::media_tile::TileMedia;
use crate::components::month_scrubber::MonthScrubber;
use crate::dto::{GalleryOverviewDto, MonthDto, TileDto, TileSize, TriageAction};

const GAP: f64 = 8.0;
/// The tallest scroll box made; beyond it positions are scaled (browsers stop near 16.7M px).
const MAX_SCROLL_PX: f64 = 4_000_000.0;
const OVERSCAN_ROWS: i64 = 2;
const PAGE: usize = 100;

/// What the last triage changed, to undo it.
#[derive(Clone)]
struct Undo {
    message: String,
    ids: Vec<i64>,
    /// What reverses it; `None` when nothing can (a bulk rating over different ratings).
    action: Option<TriageAction>,
}

#[component]
pub fn GalleryGrid(
    /// The URL query the overview was made for.
    query: String,
    overview: GalleryOverviewDto,
    /// The scrubber's months, once the summary arrives.
    #[prop(into)]
    months: Signal<Vec<MonthDto>>,
    /// Whether the order is by date (newest or oldest first): the scrubber's column is kept
    /// from the start, so the grid's columns do not change when the months arrive.
    #[prop(optional)]
    by_date: bool,
    size: TileSize,
    /// The trash view: selections are restored instead of deleted.
    #[prop(optional)]
    trash: bool,
    /// Takes a new overview (new products join the grid).
    on_refresh: Callback<()>,
) -> impl IntoView {
    let total = overview.total.max(0) as usize;
    let landmarks = StoredValue::new(overview.landmarks.clone());
    let snapshot = overview.snapshot;
    // A search marks the words it matched on each tile.
    let terms = StoredValue::new(overview.terms.clone());
    let query = StoredValue::new(query);
    let pages: RwSignal<HashMap<usize, Vec<TileDto>>> = RwSignal::new(HashMap::new());
    let requested = StoredValue::new(HashSet::<usize>::new());
    let scroll_top = RwSignal::new(0.0f64);
    let width = RwSignal::new(960.0f64);
    let viewport = RwSignal::new(600.0f64);
    let focused = RwSignal::new(None::<usize>);
    let selected: RwSignal<HashSet<i64>> = RwSignal::new(HashSet::new());
    // The compare set (C), in the order products were added; at most four.
    let compare: RwSignal<Vec<i64>> = RwSignal::new(Vec::new());
    let hidden: RwSignal<HashSet<i64>> = RwSignal::new(HashSet::new());
    let undo = RwSignal::new(None::<Undo>);
    let help = RwSignal::new(false);
    // The tag being typed after T, for these products.
    let tagging = RwSignal::new(None::<Vec<i64>>);
    let error = RwSignal::new(None::<String>);
    let scroller = NodeRef::<html::Div>::new();
    // Products made while the page is open that match the view: shown above the grid, which
    // does not move.
    let fresh = RwSignal::new(Vec::<TileDto>::new());
    let live = crate::live::use_live();
    Effect::new(move |_| {
        let newest = live.products.with(|p| p.iter().map(|p| p.id).max());
        if newest.is_some_and(|id| id > snapshot) {
            let q = query.get_value();
            leptos::task::spawn_local(async move {
                if let Ok(tiles) = gallery_fresh(q, snapshot).await {
                    fresh.set(tiles);
                }
            });
        }
    });

    let cell = size.pixels() + GAP;
    let cols = Memo::new(move |_| (((width.get() + GAP) / cell).floor() as usize).max(1));
    let rows = Memo::new(move |_| total.div_ceil(cols.get()));
    let content_height = Memo::new(move |_| rows.get() as f64 * cell);
    let box_height = Memo::new(move |_| content_height.get().min(MAX_SCROLL_PX));
    // The content offset shown at a scroll position, and back.
    let to_content = move |top: f64| {
        let (content, boxed, view) = (content_height.get(), box_height.get(), viewport.get());
        if content <= boxed || boxed <= view {
            top
        } else {
            top * (content - view) / (boxed - view)
        }
    };
    let to_scroll = move |offset: f64| {
        let (content, boxed, view) = (content_height.get(), box_height.get(), viewport.get());
        if content <= boxed || content <= view {
            offset
        } else {
            offset * (boxed - view) / (content - view)
        }
    };
    let first_row = Memo::new(move |_| {
        ((to_content(scroll_top.get()) / cell).floor() as i64 - OVERSCAN_ROWS).max(0) as usize
    });
    let last_row = Memo::new(move |_| {
        let bottom = to_content(scroll_top.get()) + viewport.get();
        ((bottom / cell).ceil() as i64 + OVERSCAN_ROWS).min(rows.get() as i64) as usize
    });
    let visible = Memo::new(move |_| {
        let c = cols.get();
        (first_row.get() * c)..(last_row.get() * c).min(total)
    });

    // Loads the pages the visible range needs, each once.
    Effect::new(move |_| {
        let range = visible.get();
        if range.is_empty() {
            return;
        }
        for page in range.start / PAGE..=(range.end - 1) / PAGE {
            if !requested.with_value(|r| r.contains(&page)) {
                requested.update_value(|r| {
                    r.insert(page);
                });
                let start = landmarks.with_value(|l| l.get(page).cloned());
                let q = query.get_value();
                leptos::task::spawn_local(async move {
                    match gallery_page(q, start, Some(snapshot)).await {
                        Ok(p) => pages.update(|all| {
                            all.insert(page, p.tiles);
                        }),
                        Err(e) => {
                            requested.update_value(|r| {
                                r.remove(&page);
                            });
                            error.set(Some(e.to_string()));
                        }
                    }
                });
            }
        }
    });

    // The box's size, read after layout: when it mounts, when the scrubber beside it appears,
    // on resize, and on scroll (a zero size would lay out one column).
    let measure = move || {
        if let Some(el) = scroller.get_untracked() {
            let (w, h) = (el.client_width() as f64, el.client_height() as f64);
            if w > 0.0 && w != width.get_untracked() {
                width.set(w);
            }
            if h > 0.0 && h != viewport.get_untracked() {
                viewport.set(h);
            }
            scroll_top.set(el.scroll_top() as f64);
        }
    };
    Effect::new(move |_| {
        months.track();
        if scroller.get().is_some() {
            request_animation_frame(measure);
        }
    });
    let resize = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || resize.remove());

    let tile_at = move |index: usize| -> Option<TileDto> {
        pages.with(|p| {
            p.get(&(index / PAGE))
                .and_then(|t| t.get(index % PAGE).cloned())
        })
    };
    let update_tile = move |id: i64, change: &dyn Fn(&mut TileDto)| {
        pages.update(|all| {
            for tile in all.values_mut().flatten().filter(|t| t.id == id) {
                change(tile);
            }
        })
    };

    // Scrolls so that row `row` is in view (used by the keyboard and the scrubber).
    let show_row = move |row: usize, at_top: bool| {
        let Some(el) = scroller.get() else { return };
        let top = row as f64 * cell;
        let current = to_content(el.scroll_top() as f64);
        let target = if at_top || top < current {
            top
        } else if top + cell > current + viewport.get() {
            top + cell - viewport.get()
        } else {
            return;
        };
        el.set_scroll_top(to_scroll(target).round() as i32);
        scroll_top.set(el.scroll_top() as f64);
    };

    let act = move |ids: Vec<i64>,
                    action: TriageAction,
                    inverse: Option<(String, Option<TriageAction>)>| {
        let ids_for_call = ids.clone();
        leptos::task::spawn_local(async move {
            match triage(ids_for_call, action).await {
                Ok(_) => {
                    if let Some((message, action)) = inverse {
                        undo.set(Some(Undo {
                            message,
                            ids,
                            action,
                        }));
                    }
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let run_undo = move || {
        if let Some(Undo {
            ids,
            action: Some(action),
            ..
        }) = undo.get_untracked()
        {
            let u = Undo {
                message: String::new(),
                ids,
                action: Some(action.clone()),
            };
            undo.set(None);
            for id in &u.ids {
                hidden.update(|h| {
                    h.remove(id);
                });
                if let TriageAction::Reject(on) = action {
                    update_tile(*id, &|t| t.rejected = on);
                }
            }
            act(u.ids, action, None);
        }
    };

    let bulk = move |action: TriageAction, message: &'static str, inverse: Option<TriageAction>| {
        let ids: Vec<i64> = selected.get_untracked().into_iter().collect();
        if ids.is_empty() {
            return;
        }
        if matches!(action, TriageAction::Reject(true) | TriageAction::Trash(_)) {
            hidden.update(|h| h.extend(ids.iter().copied()));
        }
        if let TriageAction::Rate(r) = action {
            for id in &ids {
                update_tile(*id, &|t| t.rating = r);
            }
        }
        selected.update(|s| s.clear());
        act(ids, action, Some((message.to_string(), inverse)));
    };

    let navigate = leptos_router::hooks::use_navigate();
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        let c = cols.get_untracked();
        let current = focused.get_untracked();
        let mv = |to: i64| {
            let to = to.clamp(0, total as i64 - 1) as usize;
            focused.set(Some(to));
            show_row(to / c, false);
        };
        let here = current.unwrap_or(0) as i64;
        let key = ev.key();
        let tile = current.and_then(tile_at);
        match key.as_str() {
            "ArrowRight" | "l" => mv(if current.is_some() { here + 1 } else { 0 }),
            "ArrowLeft" | "h" => mv(here - 1),
            "ArrowDown" | "j" => mv(if current.is_some() {
                here + c as i64
            } else {
                0
            }),
            "ArrowUp" | "k" => mv(here - c as i64),
            "Home" => mv(0),
            "End" => mv(total as i64 - 1),
            "Enter" => {
                if let (Some(t), Some(at)) = (tile, current) {
                    navigate(
                        &format!(
                            "/products/{}?gallery={}&at={at}",
                            t.id,
                            crate::components::viewer::urlencode(&query.get_value())
                        ),
                        Default::default(),
                    );
                }
            }
            "0" | "1" | "2" | "3" | "4" | "5" if !selected.get_untracked().is_empty() => {
                let r: i16 = key.parse().unwrap_or(0);
                bulk(TriageAction::Rate(Some(r)), "Rated the selection.", None);
            }
            "0" | "1" | "2" | "3" | "4" | "5" => {
                if let Some(t) = tile {
                    let r: i16 = key.parse().unwrap_or(0);
                    let before = t.rating;
                    update_tile(t.id, &|x| x.rating = Some(r));
                    act(
                        vec![t.id],
                        TriageAction::Rate(Some(r)),
                        Some((format!("Rated {r}."), Some(TriageAction::Rate(before)))),
                    );
                }
            }
            "f" | "F" => {
                if let Some(t) = tile {
                    let on = !t.favourite;
                    update_tile(t.id, &|x| x.favourite = on);
                    act(vec![t.id], TriageAction::Favourite(on), None);
                }
            }
            "x" | "X" => {
                if let Some(t) = tile {
                    hidden.update(|h| {
                        h.insert(t.id);
                    });
                    act(
                        vec![t.id],
                        TriageAction::Reject(true),
                        Some(("Rejected.".into(), Some(TriageAction::Reject(false)))),
                    );
                }
            }
            "u" | "U" => run_undo(),
            " " => {
                if let Some(t) = tile {
                    selected.update(|s| {
                        if !s.remove(&t.id) {
                            s.insert(t.id);
                        }
                    });
                }
            }
            "t" | "T" => {
                let chosen: Vec<i64> = selected.get_untracked().into_iter().collect();
                let ids = if chosen.is_empty() {
                    tile.map(|t| vec![t.id]).unwrap_or_default()
                } else {
                    chosen
                };
                if !ids.is_empty() {
                    tagging.set(Some(ids));
                }
            }
            "c" | "C" => {
                if let Some(t) = tile {
                    compare.update(|c| {
                        if let Some(at) = c.iter().position(|id| *id == t.id) {
                            c.remove(at);
                        } else {
                            if c.len() == 4 {
                                c.remove(0);
                            }
                            c.push(t.id);
                        }
                    });
                }
            }
            "?" => help.update(|h| *h = !*h),
            "Escape" => {
                help.set(false);
                selected.update(|s| s.clear());
            }
            _ => return,
        }
        ev.prevent_default();
    };

    let large = size == TileSize::Large;
    let side = size.pixels();
    view! {
        {move || {
            let tiles = fresh.get();
            (!tiles.is_empty()).then(|| view! {
                <div class="mb-2 flex items-center gap-2 rounded-lg border border-emerald-200 bg-emerald-50 p-2 text-sm dark:border-emerald-900 dark:bg-emerald-950" data-fresh>
                    <span>{format!("{} new since this view opened", tiles.len())}</span>
                    <ul class="flex gap-1" aria-label="New products">
                        {tiles.iter().take(12).map(|t| view! {
                            <li><a href=format!("/products/{}", t.id)>
                                <img src=t.thumb_url(false) alt=t.prompt.clone() width="40" height="40" class="h-10 w-10 rounded object-cover" />
                            </a></li>
                        }).collect_view()}
                    </ul>
                    <button type="button" class=button::secondary() on:click=move |_| on_refresh.run(())>"Show them in the grid"</button>
                </div>
            })
        }}
        <div class="flex gap-4">
            <div class="min-w-0 flex-1">
                <div
                    node_ref=scroller
                    class="relative h-[70vh] overflow-y-auto rounded-lg border border-stone-200 focus:outline focus:outline-2 focus:outline-indigo-500 dark:border-stone-800"
                    tabindex="0"
                    role="listbox"
                    aria-label=format!("Gallery, {total} products. Arrow keys move, Enter opens, 0 to 5 rate, F favourite, X reject, question mark for all keys.")
                    aria-activedescendant=move || focused.get().map(|i| format!("tile-{i}"))
                    aria-multiselectable="true"
                    data-gallery-grid
                    data-total=total
                    on:scroll=move |_| measure()
                    on:keydown=on_key
                    on:focus=move |_| {
                        if focused.get_untracked().is_none() && total > 0 {
                            let first = first_row.get_untracked() * cols.get_untracked();
                            focused.set(Some(first.min(total - 1)));
                        }
                    }
                >
                    <div style:height=move || format!("{}px", box_height.get()) aria-hidden="true"></div>
                    <div
                        class="absolute left-0 right-0"
                        style:top=move || {
                            let offset = first_row.get() as f64 * cell - to_content(scroll_top.get());
                            format!("{}px", scroll_top.get() + offset)
                        }
                    >
                        <For each=move || visible.get() key=|i| *i let:index>
                            {
                                let style = move || {
                                    let c = cols.get();
                                    let (row, col) = (index / c - first_row.get(), index % c);
                                    format!(
                                        "position:absolute;left:{}px;top:{}px;width:{side}px;height:{side}px",
                                        col as f64 * cell,
                                        row as f64 * cell
                                    )
                                };
                                let tile = move || tile_at(index);
                                let navigate = leptos_router::hooks::use_navigate();
                                view! {
                                    <div
                                        id=format!("tile-{index}")
                                        role="option"
                                        style=style
                                        aria-selected=move || tile().is_some_and(|t| selected.get().contains(&t.id)).to_string()
                                        class=move || {
                                            let mut c = "overflow-hidden rounded-md bg-stone-200 dark:bg-stone-800".to_string();
                                            if focused.get() == Some(index) {
                                                c.push_str(" ring-4 ring-indigo-500");
                                            }
                                            if tile().is_some_and(|t| selected.get().contains(&t.id)) {
                                                c.push_str(" outline outline-4 outline-amber-400");
                                            }
                                            c
                                        }
                                        data-tile
                                        on:click=move |ev: leptos::ev::MouseEvent| {
                                            focused.set(Some(index));
                                            if ev.shift_key() {
                                                if let Some(t) = tile() {
                                                    selected.update(|s| { s.insert(t.id); });
                                                }
                                            }
                                        }
                                        on:dblclick=move |_| {
                                            if let Some(t) = tile() {
                                                navigate(
                                                    &format!(
                                                        "/products/{}?gallery={}&at={index}",
                                                        t.id,
                                                        crate::components::viewer::urlencode(&query.get_value())
                                                    ),
                                                    Default::default(),
                                                );
                                            }
                                        }
                                    >
                                        {move || match tile() {
                                            Some(t) if hidden.get().contains(&t.id) => view! {
                                                <div class="flex h-full items-center justify-center text-xs text-stone-500" data-hidden-tile>"Removed"</div>
                                            }.into_any(),
                                            Some(t) => {
                                                view! {
                                                    <TileMedia tile=t.clone() large focused=Signal::derive(move || focused.get() == Some(index)) />
                                                    {terms.with_value(|terms| (!terms.is_empty()).then(|| view! {
                                                        <div class="pointer-events-none absolute inset-x-0 top-0 line-clamp-2 bg-black/70 px-1 text-xs text-white" data-tile-caption>
                                                            <Highlighted text=t.prompt.clone() terms=terms.clone() />
                                                        </div>
                                                    }))}
                                                    <div class="pointer-events-none absolute bottom-1 left-1 flex gap-1 text-xs">
                                                        {t.rating.map(|r| view! { <span class="rounded bg-black/60 px-1 text-white" data-rating=r>{format!("★{r}")}<span class="sr-only">" stars"</span></span> })}
                                                        {t.favourite.then(|| view! { <span class="rounded bg-black/60 px-1 text-rose-300" data-favourite><span aria-hidden="true">"♥"</span><span class="sr-only">"favourite"</span></span> })}
                                                        {compare.get().contains(&t.id).then(|| view! { <span class="rounded bg-black/60 px-1 text-sky-300" data-in-compare><span aria-hidden="true">"⇄"</span><span class="sr-only">"in the compare set"</span></span> })}
                                                    </div>
                                                }.into_any()
                                            }
                                            None => view! { <div class="h-full w-full animate-pulse"><span class="sr-only">"Loading"</span></div> }.into_any(),
                                        }}
                                    </div>
                                }
                            }
                        </For>
                    </div>
                </div>
                <div class="mt-2 flex flex-wrap items-center gap-2 text-sm" aria-live="polite">
                    <SelectionBar selected compare trash bulk=Callback::new(move |(action, message, inverse)| bulk(action, message, inverse)) />
                    {move || undo.get().map(|u| view! {
                        <span data-undo-toast>{u.message}</span>
                        {u.action.is_some().then(|| view! {
                            <button type="button" class=button::secondary() on:click=move |_| run_undo()>"Undo"</button>
                        })}
                    })}
                    {move || error.get().map(|e| view! { <span class="text-red-700 dark:text-red-400">{e}</span> })}
                </div>
                {move || tagging.get().map(|ids| view! {
                    <TagForm ids
                        on_tagged=Callback::new(move |(n, name, ids): (usize, String, Vec<i64>)| {
                            undo.set(Some(Undo { message: format!("Tagged {n} with “{name}”."), ids, action: Some(TriageAction::Untag(name)) }))
                        })
                        on_error=Callback::new(move |e: String| error.set(Some(e)))
                        on_close=Callback::new(move |_| {
                            tagging.set(None);
                            if let Some(el) = scroller.get() { let _ = el.focus(); }
                        }) />
                })}
                {move || help.get().then(|| view! {
                    <div role="dialog" aria-label="Keyboard keys" class="mt-2 rounded-lg border border-stone-300 bg-white p-3 text-sm dark:border-stone-700 dark:bg-stone-900" data-keys-help>
                        <ul class="grid grid-cols-2 gap-1">
                            <li>"← → ↑ ↓ or h l k j: move"</li>
                            <li>"Enter: open the viewer"</li>
                            <li>"0–5: rate"</li>
                            <li>"F: favourite"</li>
                            <li>"X: reject (U: undo)"</li>
                            <li>"Space: select; shift-click: add"</li>
                            <li>"T: tag the selection or this one"</li>
                            <li>"C: add to the compare set (2 to 4)"</li>
                            <li>"Home / End: first / last"</li>
                            <li>"Escape: clear selection, close this"</li>
                        </ul>
                    </div>
                })}
            </div>
            {by_date.then(|| view! {
                <MonthScrubber months=months on_jump=Callback::new(move |index: usize| {
                    focused.set(Some(index.min(total.saturating_sub(1))));
                    show_row(index / cols.get_untracked(), true);
                }) />
            })}
        </div>
    }
}
