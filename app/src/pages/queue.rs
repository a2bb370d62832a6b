//! The Queue page: batches still waiting or running in the order they run, then finished ones,
//! a page at a time; each opens onto its jobs. Counts and progress come from the server; the
//! live feed keeps rows current and reloads the pages shown, at most once a second.

use std::collections::HashSet;
use std::time::Duration;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::queue::{queue_batches, set_queue_paused};
use crate::components::button;
use crate::components::pager::{Pager, PagerNav};
use crate::components::pauses::ProviderPauses;
use crate::components::queue_batch::BatchCard;
use crate::dto::QueueSection;
use crate::live::use_live;

/// Active batches opened on arrival when a page holds no more than this many.
const OPEN_WHEN_AT_MOST: usize = 3;

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
    let refresh = throttled_refresh(live.changes, Duration::from_secs(1));
    // Which batches are open, shared by both sections: a batch open while it runs stays open
    // when it finishes and moves down.
    let open = RwSignal::new(HashSet::<i64>::new());
    // Bumped after an action here, so both sections reload at once (a cancelled batch moves).
    let reload = RwSignal::new(0u64);

    view! {
        <Title text="Queue" />
        <div class="flex flex-wrap items-center justify-between gap-3">
            <h1 class="text-2xl font-semibold tracking-tight">"Queue"</h1>
            <div class="flex items-center gap-3 text-sm">
                <span aria-live="polite" data-queue-totals>
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
        <BatchSection section=QueueSection::Active heading="In the queue" empty="Nothing waiting or running. Start on the Generate page." refresh open reload />
        <BatchSection section=QueueSection::Finished heading="Finished" empty="Nothing finished yet." refresh open reload />
    }
}

/// A signal that follows `source`, at most once per `every`: many job events in a second make
/// one reload, not many.
fn throttled_refresh(source: RwSignal<u64>, every: Duration) -> Signal<u64> {
    let out = RwSignal::new(0u64);
    let pending = StoredValue::new(false);
    Effect::new(move |first: Option<()>| {
        source.track();
        if first.is_none() || pending.get_value() {
            return;
        }
        pending.set_value(true);
        set_timeout(
            move || {
                pending.try_set_value(false);
                out.try_update(|n| *n += 1);
            },
            every,
        );
    });
    out.into()
}

/// One section of batches, a page at a time (a stack of the cursors visited, for going back).
#[component]
fn BatchSection(
    section: QueueSection,
    heading: &'static str,
    empty: &'static str,
    refresh: Signal<u64>,
    open: RwSignal<HashSet<i64>>,
    reload: RwSignal<u64>,
) -> impl IntoView {
    let pager = Pager::new(move |after| {
        refresh.track();
        reload.track();
        async move {
            queue_batches(section, after)
                .await
                .map(|p| (p.batches, p.next))
        }
    });
    let loaded = pager.loaded();
    let batches = move || pager.rows();
    // Active batches open on arrival when the page is short.
    let seen = StoredValue::new(HashSet::<i64>::new());
    Effect::new(move |_| {
        let ids: Vec<i64> = loaded.with(|l| {
            l.as_ref()
                .map(|(b, _)| b.iter().map(|b| b.id).collect())
                .unwrap_or_default()
        });
        let fresh: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|id| seen.with_value(|s| !s.contains(id)))
            .collect();
        seen.update_value(|s| s.extend(fresh.iter().copied()));
        if section == QueueSection::Active && ids.len() <= OPEN_WHEN_AT_MOST && !fresh.is_empty() {
            open.update(|o| o.extend(fresh));
        }
    });
    let heading_id = format!("queue-{heading}").to_lowercase().replace(' ', "-");
    let labelled_by = heading_id.clone();
    let section_name = match section {
        QueueSection::Active => "active",
        QueueSection::Finished => "finished",
    };

    view! {
        <section class="mt-8" aria-labelledby=labelled_by data-queue-section=section_name>
            <h2 id=heading_id class="text-lg font-semibold">{heading}</h2>
            <Show
                when=move || pager.is_loaded()
                fallback=|| view! { <p class="mt-3 text-sm text-stone-500">"Loading…"</p> }
            >
                <Show when=move || !pager.is_empty() fallback=move || view! { <p class="mt-3 text-sm text-stone-500">{empty}</p> }>
                    <ul class="mt-3 space-y-2" aria-label=heading>
                        <For each=batches key=|b| b.id let:batch>
                            <BatchCard id=batch.id loaded=Signal::derive(batches) open refresh on_change=Callback::new(move |_| reload.update(|r| *r += 1)) />
                        </For>
                    </ul>
                </Show>
            </Show>
            <div class="mt-3">
                <PagerNav pager label=heading.to_string() rows="batches" />
            </div>
        </section>
    }
    .into_any()
}
