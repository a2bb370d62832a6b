//! The Queue page: every job, live, with cancel, retry, move to front, and pause/resume all.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::queue::{cancel_job, move_job_to_front, retry_job, set_queue_paused};
use crate::components::button;
use crate::components::job::{describe, fraction, ProgressBar, StateBadge};
use crate::components::pauses::ProviderPauses;
use crate::dto::{JobDto, JobState};
use crate::live::{use_live, Live};

#[component]
pub fn QueuePage() -> impl IntoView {
    let live = use_live();
    let toggle = Action::new(move |paused: &bool| {
        let paused = *paused;
        async move {
            if let Err(e) = set_queue_paused(paused).await {
                live.toast(e.to_string());
            }
        }
    });
    // Unfinished jobs in the order they run (in flight, then by priority and age), then finished
    // ones, newest first.
    let ordered = move || {
        let jobs = live.jobs.get();
        let (mut active, mut done): (Vec<JobDto>, Vec<JobDto>) =
            jobs.into_values().partition(|j| !j.is_terminal());
        active.sort_by_key(|j| (j.is_waiting(), std::cmp::Reverse(j.priority), j.id));
        done.sort_by_key(|j| std::cmp::Reverse(j.updated_at));
        active.extend(done);
        active
    };

    view! {
        <Title text="Queue" />
        <div class="flex flex-wrap items-center justify-between gap-3">
            <h1 class="text-2xl font-semibold tracking-tight">"Queue"</h1>
            <div class="flex items-center gap-3 text-sm">
                <span aria-live="polite">
                    {move || {
                        let t = live.totals.get();
                        format!("{} waiting · {} running · {} done · {} failed", t.queued + t.retry_wait, t.running, t.succeeded, t.failed)
                    }}
                </span>
                <button
                    type="button"
                    class=button::secondary()
                    on:click=move |_| { toggle.dispatch(!live.paused.get_untracked()); }
                >
                    {move || if live.paused.get() { "Resume queue" } else { "Pause queue" }}
                </button>
            </div>
        </div>
        <Show when=move || live.paused.get()>
            <p class="mt-3 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-800 dark:bg-amber-950 dark:text-amber-300">
                "The queue is paused: nothing new starts until you resume it. Jobs already running finish."
            </p>
        </Show>
        <ProviderPauses />
        <Show
            when=move || live.connected.get() || !live.jobs.get().is_empty()
            fallback=|| view! { <p class="mt-6 text-sm text-stone-500">"Connecting to the live queue…"</p> }
        >
            <Show when=move || !live.jobs.get().is_empty() fallback=|| view! { <p class="mt-6 text-sm text-stone-500">"Nothing queued yet. Start on the Generate page."</p> }>
                <ul class="mt-6 space-y-2" aria-label="Jobs">
                    <For each=ordered key=|j| (j.id, j.updated_at, j.state, j.progress.map(|p| (p * 100.0) as i32)) let:job>
                        <JobRow job live />
                    </For>
                </ul>
            </Show>
        </Show>
    }
}

/// What a job's buttons do.
#[derive(Clone, Copy)]
enum QueueAction {
    Cancel,
    Retry,
    MoveToFront,
}

#[component]
fn JobRow(job: JobDto, live: Live) -> impl IntoView {
    let id = job.id;
    let act = move |what: QueueAction| {
        Action::new(move |_: &()| async move {
            let result = match what {
                QueueAction::Cancel => cancel_job(id).await.map(|_| ()),
                QueueAction::Retry => retry_job(id).await.map(|_| ()),
                QueueAction::MoveToFront => move_job_to_front(id).await.map(|_| ()),
            };
            if let Err(e) = result {
                live.toast(e.to_string());
            }
        })
    };
    let (cancel, retry, front) = (
        act(QueueAction::Cancel),
        act(QueueAction::Retry),
        act(QueueAction::MoveToFront),
    );
    let label = format!("Image {} of batch {}", job.item_index + 1, job.batch_id);
    let (front_label, cancel_label, retry_label) = (
        format!("Move to front: {label}"),
        format!("Cancel {label}"),
        format!("Retry {label}"),
    );
    let cancel_requested = job.cancel_requested;
    let state = job.state;
    let terminal = job.is_terminal();
    let waiting = job.is_waiting();
    let retryable = matches!(state, JobState::Failed | JobState::Canceled);
    let description = describe(&job);
    let fraction = fraction(&job);
    view! {
        <li class="rounded-lg border border-stone-200 bg-white p-3 shadow-sm dark:border-stone-800 dark:bg-stone-900" data-job-id=id data-state=state.as_str()>
            <div class="flex flex-wrap items-start justify-between gap-3">
                <div class="min-w-0 flex-1">
                    <div class="flex items-center gap-2">
                        <StateBadge state=state />
                        <span class="truncate text-sm font-medium" title=job.prompt.clone()>{job.prompt.clone()}</span>
                    </div>
                    <p class="mt-1 text-xs text-stone-500">
                        {format!("{label} · {} / {} · seed {}", job.provider, job.model, job.seed)}
                    </p>
                </div>
                <div class="flex gap-2">
                    <Show when=move || waiting>
                        <button type="button" class=button::secondary() aria-label=front_label.clone() on:click=move |_| { front.dispatch(()); }>"Move to front"</button>
                    </Show>
                    <Show when=move || !terminal && !cancel_requested>
                        <button type="button" class=button::secondary() aria-label=cancel_label.clone() on:click=move |_| { cancel.dispatch(()); }>"Cancel"</button>
                    </Show>
                    <Show when=move || retryable>
                        <button type="button" class=button::secondary() aria-label=retry_label.clone() on:click=move |_| { retry.dispatch(()); }>"Retry"</button>
                    </Show>
                </div>
            </div>
            <div class="mt-2">
                <ProgressBar value=fraction label=format!("{label}: {description}") />
                <p class="mt-1 text-xs text-stone-600 dark:text-stone-400">{description.clone()}</p>
                {job.error.clone().map(|e| view! { <p class="mt-1 text-sm text-red-700 dark:text-red-400">{e}</p> })}
                {job.possibly_duplicated.then(|| view! {
                    <p class="mt-1 text-sm text-amber-700 dark:text-amber-400">
                        "This was sent to the provider and its answer was lost (the app stopped, or the connection failed), so the provider may have accepted it twice, and may charge twice. It was sent again to be sure it runs."
                    </p>
                })}
            </div>
        </li>
    }
}
