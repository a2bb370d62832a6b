//! A batch on the Queue page: its template, counts per state, progress and latest pictures, with
//! batch-wide cancel and retry; opened, its jobs as compact rows, a page at a time.

use std::collections::HashSet;

use leptos::prelude::*;

use crate::api::queue::{
    cancel_batch, cancel_job, move_job_to_front, queue_batch_jobs, retry_failed_in_batch, retry_job,
};
use crate::components::button;
use crate::components::job::{describe, fraction, ProgressBar, StateBadge};
use crate::components::pager::{Pager, PagerNav};
use crate::dto::{BatchSummaryDto, JobDto, JobFilter, JobState, QueueJobDto};
use crate::live::use_live;

#[component]
pub fn BatchCard(
    id: i64,
    /// The section's current page, which this card reads its batch from.
    loaded: Signal<Vec<BatchSummaryDto>>,
    open: RwSignal<HashSet<i64>>,
    refresh: Signal<u64>,
    /// Called after an action here changed the queue.
    on_change: Callback<()>,
) -> impl IntoView {
    let live = use_live();
    let batch = Memo::new(move |_| loaded.with(|all| all.iter().find(|b| b.id == id).cloned()));
    let is_open = move || open.with(|o| o.contains(&id));
    let toggle = move |_| {
        open.update(|o| {
            if !o.remove(&id) {
                o.insert(id);
            }
        })
    };
    // What the last batch-wide action did, said next to the buttons.
    let status = RwSignal::new(None::<String>);
    let act = move |retry: bool| {
        Action::new(move |_: &()| async move {
            let result = if retry {
                retry_failed_in_batch(id).await
            } else {
                cancel_batch(id).await
            };
            match result {
                Ok(n) => status.set(Some(if retry {
                    format!("{n} failed {} queued again.", plural(n, "job", "jobs"))
                } else {
                    format!("{n} {} cancelled.", plural(n, "job", "jobs"))
                })),
                Err(e) => live.toast(e.to_string()),
            }
            on_change.run(());
        })
    };
    let (cancel, retry) = (act(false), act(true));
    let panel = format!("batch-{id}-jobs");

    move || {
        batch.get().map(|b| {
            let counts = b.counts;
            let label = format!("Batch {id}");
            let template = b.template.clone();
            view! {
                <li class="rounded-lg border border-stone-200 bg-white shadow-sm dark:border-stone-800 dark:bg-stone-900" data-batch-row=id>
                    <div class="flex flex-wrap items-center gap-3 p-3">
                        <button type="button" class="flex min-w-0 flex-1 items-start gap-2 text-left"
                            aria-expanded=move || is_open().to_string() aria-controls=panel.clone()
                            on:click=toggle>
                            <span aria-hidden="true" class="mt-0.5 w-3 text-stone-500">{move || if is_open() { "▾" } else { "▸" }}</span>
                            <span class="min-w-0">
                                <span class="block truncate text-sm font-medium" title=template.clone()>
                                    {format!("{label}: ")}<span class="font-mono">{template.clone()}</span>
                                </span>
                                <span class="block text-xs text-stone-600 dark:text-stone-400">
                                    {format!("{} · {} / {} · {} · {}", b.project_name, b.provider, b.model, plural_count(counts.total(), "image", "images"), b.created_at.format("%Y-%m-%d %H:%M"))}
                                </span>
                            </span>
                        </button>
                        <ul class="flex flex-wrap gap-1 text-xs" aria-label=format!("{label}: jobs by state") data-batch-counts>
                            {counts.phrases().into_iter().map(|(state, words)| view! {
                                <li class="rounded bg-stone-100 px-1.5 py-0.5 dark:bg-stone-800" data-count=state>{words}</li>
                            }).collect_view()}
                        </ul>
                        <div class="flex gap-1">
                            {b.thumbs.iter().map(|t| view! {
                                <a href=format!("/products/{}", t.product_id) aria-label=format!("{label}: picture {}", t.product_id)>
                                    <img src=t.url() alt="" width="32" height="32" loading="lazy" class="h-8 w-8 rounded object-cover" />
                                </a>
                            }).collect_view()}
                        </div>
                        <div class="flex items-center gap-2">
                            <span role="status" class="text-xs text-stone-600 dark:text-stone-400" data-batch-status>{move || status.get()}</span>
                            {(counts.failed > 0).then(|| view! {
                                <button type="button" class=button::secondary() aria-label=format!("Retry failed jobs of {label}") on:click=move |_| { retry.dispatch(()); }>"Retry failed"</button>
                            })}
                            {(counts.unfinished() > 0).then(|| view! {
                                <button type="button" class=button::secondary() aria-label=format!("Cancel {label}") on:click=move |_| { cancel.dispatch(()); }>"Cancel batch"</button>
                            })}
                            <a class="self-center text-sm text-indigo-700 underline dark:text-indigo-300" href=format!("/batches/{id}/grid") aria-label=format!("Open {label} as a grid")>"Grid"</a>
                        </div>
                    </div>
                    <div class="px-3 pb-2">
                        <ProgressBar value=b.progress label=format!("{label}: {} of {} finished", counts.total() - counts.unfinished(), counts.total()) />
                    </div>
                    <div id=panel.clone()>
                        <Show when=is_open>
                            <BatchJobs batch_id=id refresh on_change />
                        </Show>
                    </div>
                </li>
            }
            .into_any()
        })
    }
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

fn plural_count(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// An open batch's jobs, a page at a time, optionally of one state.
#[component]
fn BatchJobs(batch_id: i64, refresh: Signal<u64>, on_change: Callback<()>) -> impl IntoView {
    let filter = RwSignal::new(JobFilter::All);
    let reload = RwSignal::new(0u64);
    let pager = Pager::new(move |after| {
        refresh.track();
        reload.track();
        let filter = filter.get();
        async move {
            queue_batch_jobs(batch_id, filter, after)
                .await
                .map(|p| (p.jobs, p.next))
        }
    });
    let jobs = move || pager.rows();
    let changed = Callback::new(move |_| {
        reload.update(|r| *r += 1);
        on_change.run(());
    });
    let select = format!("batch-{batch_id}-filter");

    view! {
        <div class="border-t border-stone-200 px-3 py-2 dark:border-stone-800">
            <div class="flex flex-wrap items-center gap-3 text-sm">
                <label for=select.clone()>"Show"</label>
                <select id=select class="rounded border border-stone-300 bg-white px-2 py-1 dark:border-stone-700 dark:bg-stone-950"
                    on:change=move |ev| { filter.set(JobFilter::parse(&event_target_value(&ev))); pager.restart(); }>
                    {JobFilter::ALL.into_iter().map(|f| view! { <option value=f.as_str() selected=move || filter.get() == f>{f.label()}</option> }).collect_view()}
                </select>
                <PagerNav pager label=format!("Batch {batch_id}") rows="jobs" />
            </div>
            <ul class="mt-2 divide-y divide-stone-100 dark:divide-stone-800" aria-label=format!("Jobs of batch {batch_id}")>
                <For each=jobs key=|j| (j.job.id, j.job.updated_at, j.thumb.is_some()) let:row>
                    <JobRow row changed />
                </For>
            </ul>
            <Show when=move || pager.is_loaded() && pager.is_empty()>
                <p class="py-2 text-sm text-stone-500">"No jobs of this kind in the batch."</p>
            </Show>
        </div>
    }
}

/// What a job's buttons do.
#[derive(Clone, Copy)]
enum JobAction {
    Cancel,
    Retry,
    MoveToFront,
}

/// One job, compact: its picture once made, state, prompt and seed, progress, and buttons.
#[component]
fn JobRow(row: QueueJobDto, changed: Callback<()>) -> impl IntoView {
    let live = use_live();
    let listed = row.job.clone();
    let id = listed.id;
    // The live feed's copy when it is newer than the page's.
    let job = Memo::new(move |_| {
        live.jobs
            .with(|all| {
                all.get(&id)
                    .filter(|l| l.updated_at > listed.updated_at)
                    .cloned()
            })
            .unwrap_or_else(|| listed.clone())
    });
    let act = move |what: JobAction| {
        Action::new(move |_: &()| async move {
            let result = match what {
                JobAction::Cancel => cancel_job(id).await.map(|_| ()),
                JobAction::Retry => retry_job(id).await.map(|_| ()),
                JobAction::MoveToFront => move_job_to_front(id).await.map(|_| ()),
            };
            if let Err(e) = result {
                live.toast(e.to_string());
            }
            changed.run(());
        })
    };
    let (cancel, retry, front) = (
        act(JobAction::Cancel),
        act(JobAction::Retry),
        act(JobAction::MoveToFront),
    );
    let label = format!(
        "Image {} of batch {}",
        row.job.item_index + 1,
        row.job.batch_id
    );
    let thumb = row.thumb.clone();
    let state = Signal::derive(move || job.with(|j| j.state));

    move || {
        let j: JobDto = job.get();
        let waiting = j.is_waiting();
        let unfinished = !j.is_terminal() && !j.cancel_requested;
        let retryable = matches!(j.state, JobState::Failed | JobState::Canceled);
        let description = describe(&j);
        let label = label.clone();
        view! {
            <li class="flex flex-wrap items-center gap-3 py-1.5" data-job-id=id data-state=j.state.as_str()>
                <span class="h-10 w-10 shrink-0">
                    {thumb.clone().map(|t| view! {
                        <a href=format!("/products/{}", t.product_id) aria-label=format!("{label}: open the picture")>
                            <img src=t.url() alt="" width="40" height="40" loading="lazy" class="h-10 w-10 rounded object-cover" />
                        </a>
                    })}
                </span>
                <div class="min-w-0 flex-1">
                    <div class="flex items-center gap-2 text-sm">
                        <StateBadge state=state />
                        <span class="shrink-0 text-xs text-stone-600 dark:text-stone-400">{format!("{label}:")}</span>
                        {" "}
                        <span class="truncate" title=j.prompt.clone()>{j.prompt.clone()}</span>
                    </div>
                    <p class="text-xs text-stone-600 dark:text-stone-400">{format!("seed {} · {description}", j.seed)}</p>
                    {(j.state == JobState::Running).then(|| view! {
                        <ProgressBar value=fraction(&j) label=format!("{label}: {description}") />
                    })}
                    {j.error.clone().map(|e| view! { <p class="text-sm text-red-700 dark:text-red-400">{e}</p> })}
                    {j.possibly_duplicated.then(|| view! {
                        <p class="text-sm text-amber-700 dark:text-amber-400">
                            "This was sent to the provider and its answer was lost (the app stopped, or the connection failed), so the provider may have accepted it twice, and may charge twice. It was sent again to be sure it runs."
                        </p>
                    })}
                </div>
                <div class="flex gap-2">
                    {waiting.then(|| view! {
                        <button type="button" class=button::secondary() aria-label=format!("Move to front: {label}") on:click=move |_| { front.dispatch(()); }>"Move to front"</button>
                    })}
                    {unfinished.then(|| view! {
                        <button type="button" class=button::secondary() aria-label=format!("Cancel {label}") on:click=move |_| { cancel.dispatch(()); }>"Cancel"</button>
                    })}
                    {retryable.then(|| view! {
                        <button type="button" class=button::secondary() aria-label=format!("Retry {label}") on:click=move |_| { retry.dispatch(()); }>"Retry"</button>
                    })}
                </div>
            </li>
        }
    }
}
