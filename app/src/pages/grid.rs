//! `/batches/:id/grid`: a batch laid out by two of its tokens (or the seed), labelled, with
//! missing cells shown as such, and the same grid as a downloadable PNG.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::generate::batch_grid;
use crate::components::field::FormMessage;
use crate::dto::{GridCellItemDto, GridDto, JobState};
use crate::live::use_live;

const SELECT: &str = "mt-1 block rounded-md border border-stone-300 bg-white px-2 py-1 text-sm \
    dark:border-stone-700 dark:bg-stone-900";

#[component]
pub fn GridPage() -> impl IntoView {
    let params = use_params_map();
    let batch_id = move || {
        params
            .with(|p| p.get("id"))
            .and_then(|id| id.parse::<i64>().ok())
    };
    let x = RwSignal::new(String::new());
    let y = RwSignal::new(String::new());
    let live = use_live();
    // Results arriving while the batch runs refresh the grid.
    let arrived = Memo::new(move |_| {
        let id = batch_id();
        live.products
            .with(|all| all.iter().filter(|p| p.batch_id == id).count())
            + live.jobs.with(|all| {
                all.values()
                    .filter(|j| Some(j.batch_id) == id && j.is_terminal())
                    .count()
            })
    });
    let grid = Resource::new(
        move || (batch_id(), x.get(), y.get(), arrived.get()),
        |(id, x, y, _)| async move {
            match id {
                Some(id) => batch_grid(id, x, y).await,
                None => Err(crate::error::AppError::NotFound(
                    "That is not a batch address.".into(),
                )),
            }
        },
    );
    view! {
        <Title text="Grid" />
        <Transition fallback=|| view! { <p class="text-sm text-stone-500">"Loading…"</p> }>
            {move || grid.get().map(|r| match r {
                Ok(g) => view! { <GridView grid=g x y /> }.into_any(),
                Err(e) => view! {
                    <FormMessage message=Signal::stored(Some(e.to_string())) />
                    <button type="button" class="mt-2 rounded-md border border-stone-300 px-3 py-1.5 text-sm dark:border-stone-700"
                        on:click=move |_| { x.set(String::new()); y.set(ONE_ROW.to_string()); }>
                        "Lay the batch out in one row"
                    </button>
                }.into_any(),
            })}
        </Transition>
    }
}

/// The rows choice that puts every item in one row (`factory::grids::ONE_ROW`).
const ONE_ROW: &str = "-";

#[component]
fn GridView(grid: GridDto, x: RwSignal<String>, y: RwSignal<String>) -> impl IntoView {
    // Choosing for one axis what the other shows swaps them: a grid needs two different axes.
    let (shown_x, shown_y) = (grid.x.clone(), grid.y.clone());
    let choose_x = move |value: String| {
        if value == shown_y {
            y.set(shown_x.clone());
        }
        x.set(value);
    };
    let (shown_x, shown_y) = (grid.x.clone(), grid.y.clone());
    let choose_y = move |value: String| {
        if value == shown_x {
            x.set(shown_y.clone());
        }
        y.set(value);
    };
    let axis_select = |id: &'static str,
                       label: &'static str,
                       current: String,
                       one_row: bool,
                       choose: Callback<String>| {
        let mut axes: Vec<(String, String)> = grid
            .axes
            .iter()
            .map(|a| (a.key.clone(), a.label.clone()))
            .collect();
        if one_row {
            axes.push((ONE_ROW.into(), "one row".into()));
        }
        view! {
            <div>
                <label for=id class="block text-sm font-medium">{label}</label>
                <select id=id class=SELECT on:change=move |ev| choose.run(event_target_value(&ev))>
                    {axes.into_iter().map(|(key, label)| {
                        let selected = key == current;
                        view! { <option value=key selected=selected>{label}</option> }
                    }).collect_view()}
                </select>
            </div>
        }
    };
    let download = format!(
        "/batches/{}/grid.png?x={}&y={}",
        grid.batch_id, grid.x, grid.y
    );
    let columns = grid.columns.clone();
    view! {
        <h1 class="text-2xl font-semibold tracking-tight">{format!("Batch {} grid", grid.batch_id)}</h1>
        <p class="mt-1 font-mono text-sm text-stone-600 dark:text-stone-400">{grid.prompt_template.clone()}</p>
        <div class="mt-3 flex flex-wrap items-end gap-4">
            {axis_select("grid-x", "Columns (x)", grid.x.clone(), false, Callback::new(choose_x))}
            {axis_select("grid-y", "Rows (y)", grid.y.clone(), true, Callback::new(choose_y))}
            <a href=download download class="rounded-md border border-stone-300 px-3 py-1.5 text-sm dark:border-stone-700">"Download PNG"</a>
        </div>
        <div class="mt-4 overflow-x-auto">
            <table class="border-separate border-spacing-2" data-grid data-rows=grid.rows.len() data-columns=grid.columns.len()>
                <thead>
                    <tr>
                        <th scope="col"></th>
                        {columns.into_iter().map(|c| view! { <th scope="col" class="text-sm font-medium" data-column>{c}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {grid.rows.iter().cloned().zip(grid.cells.into_iter()).map(|(row, cells)| view! {
                        <tr>
                            <th scope="row" class="text-right text-sm font-medium" data-row>{row}</th>
                            {cells.into_iter().map(|cell| view! { <GridCell cell /> }).collect_view()}
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn GridCell(cell: Vec<GridCellItemDto>) -> impl IntoView {
    let shown = cell.iter().find(|i| i.product.is_some()).cloned();
    let more = cell.len().saturating_sub(1);
    let state = cell.first().map(|i| i.state);
    view! {
        <td class="h-40 w-40 align-top" data-cell data-state=state.map_or("none", JobState::as_str)>
            {match shown {
                Some(item) => {
                    let product = item.product.expect("shown items have a product");
                    view! {
                        <a href=product.url.clone() target="_blank" rel="noopener" class="relative block"
                            style=product.placeholder.clone().map(|c| format!("background-color: {c}"))>
                            <img src=product.thumb_url.clone() alt=item.prompt.clone() title=format!("{} · seed {}", item.prompt, item.seed)
                                class="h-40 w-40 rounded-md object-cover" loading="lazy" />
                            {(more > 0).then(|| view! {
                                <span class="absolute bottom-1 right-1 rounded bg-black/60 px-1 text-xs text-white">{format!("+{more}")}</span>
                            })}
                        </a>
                    }.into_any()
                }
                None => {
                    let word = match state {
                        None => "no item",
                        Some(JobState::Failed) => "failed",
                        Some(JobState::Canceled) => "canceled",
                        Some(
                            JobState::Queued
                            | JobState::Submitting
                            | JobState::Running
                            | JobState::Downloading
                            | JobState::RetryWait
                            | JobState::Succeeded,
                        ) => "pending",
                    };
                    view! {
                        <div class="flex h-40 w-40 items-center justify-center rounded-md border border-dashed border-stone-300 text-sm text-stone-500 dark:border-stone-700">{word}</div>
                    }.into_any()
                }
            }}
        </td>
    }
}
