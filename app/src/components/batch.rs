//! A launched batch, live: its jobs' progress, then its pictures as they arrive.

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::api::generate::batch_results;
use crate::components::job::{describe, fraction, ProgressBar, StateBadge};
use crate::dto::{JobState, ProductDto, ProductKind};
use crate::live::use_live;

/// Given by a page that can start an image-to-image launch from a result ("Use as input").
#[derive(Clone, Copy)]
pub struct UseAsInput(pub Callback<ProductDto>);

/// A launched batch: its jobs' progress, then its pictures as they arrive.
#[component]
pub fn BatchView(batch_id: i64) -> impl IntoView {
    let live = use_live();
    let use_as_input = use_context::<UseAsInput>();
    let initial = Resource::new(move || batch_id, batch_results);
    // What the server said when the page opened, with whatever the live feed has heard since
    // (the newer of the two for each job).
    let jobs = Memo::new(move |_| {
        let mut by_id: BTreeMap<i64, crate::dto::JobDto> = BTreeMap::new();
        if let Some(Ok((initial_jobs, _))) = initial.get() {
            by_id.extend(initial_jobs.into_iter().map(|j| (j.id, j)));
        }
        live.jobs.with(|all| {
            for job in all.values().filter(|j| j.batch_id == batch_id) {
                let newer = by_id
                    .get(&job.id)
                    .is_none_or(|known| known.updated_at <= job.updated_at);
                if newer {
                    by_id.insert(job.id, job.clone());
                }
            }
        });
        let mut jobs: Vec<_> = by_id.into_values().collect();
        jobs.sort_by_key(|j| j.item_index);
        jobs
    });
    let products = Memo::new(move |_| {
        let mut by_id: BTreeMap<i64, ProductDto> = BTreeMap::new();
        if let Some(Ok((_, made))) = initial.get() {
            by_id.extend(made.into_iter().map(|p| (p.id, p)));
        }
        live.products.with(|all| {
            by_id.extend(
                all.iter()
                    .filter(|p| p.batch_id == Some(batch_id))
                    .map(|p| (p.id, p.clone())),
            );
        });
        by_id.into_values().collect::<Vec<_>>()
    });
    let done = move || jobs.with(|j| j.iter().filter(|j| j.is_terminal()).count());

    view! {
        <section aria-labelledby="batch-heading" class="mt-6" data-batch-id=batch_id>
            <div class="flex items-baseline justify-between">
                <h2 id="batch-heading" class="text-lg font-semibold">
                    {format!("Batch {batch_id}")}
                    <a href=format!("/batches/{batch_id}/grid") class="ml-3 text-sm font-normal text-indigo-600 underline dark:text-indigo-400">"Open as grid"</a>
                </h2>
                <p class="text-sm" aria-live="polite" data-batch-status>
                    {move || format!("{} of {} done", done(), jobs.with(Vec::len))}
                </p>
            </div>
            <ul class="mt-3 grid gap-2 sm:grid-cols-2" aria-label="Batch progress">
                <For each=move || jobs.get() key=|j| (j.id, j.state, j.progress.map(|p| (p * 100.0) as i32)) let:job>
                    <li class="rounded-md border border-stone-200 p-2 text-sm dark:border-stone-800" data-job-id=job.id data-state=job.state.as_str()>
                        <div class="flex items-center justify-between gap-2">
                            <span>{format!("Image {} · seed {}", job.item_index + 1, job.seed)}</span>
                            <StateBadge state=job.state />
                        </div>
                        <div class="mt-1"><ProgressBar value=fraction(&job) label=format!("Image {}: {}", job.item_index + 1, describe(&job)) /></div>
                        {(job.state == JobState::Running).then(|| view! { <p class="mt-1 truncate text-xs text-stone-600 dark:text-stone-400" data-job-status>{describe(&job)}</p> })}
                        {job.error.clone().map(|e| view! { <p class="mt-1 text-red-700 dark:text-red-400">{e}</p> })}
                    </li>
                </For>
            </ul>
            <ul class="mt-4 grid grid-cols-2 gap-3 sm:grid-cols-4" aria-label="Results">
                <For each=move || products.get() key=|p| p.id let:product>
                    <li class="space-y-1">
                        <a href=product.url.clone() target="_blank" rel="noopener"
                            class="block overflow-hidden rounded-md bg-stone-200 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-500 dark:bg-stone-800"
                            style=product.placeholder.clone().map(|c| format!("background-color: {c}"))
                            aria-label=format!("Open {} (seed {})", product.title().to_lowercase(), product.seed.unwrap_or_default())>
                            <img src=product.thumb_url.clone() alt=product.prompt.clone() loading="lazy"
                                class="aspect-square w-full object-cover"
                                width=product.width.unwrap_or(256) height=product.height.unwrap_or(256) />
                        </a>
                        <div class="flex flex-wrap items-center gap-x-2 text-xs">
                            <a href=format!("/products/{}", product.id) class="text-indigo-700 underline dark:text-indigo-300">
                                {product.title()}
                            </a>
                            {product.parent_id.map(|parent| view! {
                                <a href=format!("/products/{parent}") class="text-indigo-700 underline dark:text-indigo-300">
                                    {format!("made from #{parent}")}
                                </a>
                            })}
                            {use_as_input.filter(|_| matches!(product.kind, ProductKind::Image | ProductKind::Upload)).map(|UseAsInput(callback)| {
                                let chosen = product.clone();
                                view! {
                                    <button type="button" class="text-indigo-700 underline dark:text-indigo-300"
                                        on:click=move |_| callback.run(chosen.clone())>
                                        "Use as input"<span class="sr-only">{format!(" (image #{})", product.id)}</span>
                                    </button>
                                }
                            })}
                        </div>
                    </li>
                </For>
            </ul>
        </section>
    }
}
