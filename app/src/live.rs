//! The live queue in the browser: one WebSocket per tab, applied to signals every page reads.
//!
//! The server sends a snapshot first (and again whenever this tab fell behind); events then
//! update it in sequence order. When the socket closes, the tab reconnects with backoff and the
//! new snapshot replaces whatever it had, so nothing is missed while away.

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::dto::{JobDto, JobState, LiveMessage, ProductDto, ProviderPauseDto, QueueTotalsDto};

/// Products kept in memory for the pages showing a batch as it runs.
const RECENT_PRODUCTS: usize = 1000;
/// Jobs kept in memory: past this, the finished ones heard of longest ago are forgotten (pages
/// load what they list from the server; these only keep them current between loads).
const KEPT_JOBS: usize = 2000;

#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub id: u64,
    pub message: String,
}

#[derive(Clone, Copy)]
pub struct Live {
    pub jobs: RwSignal<BTreeMap<i64, JobDto>>,
    pub products: RwSignal<Vec<ProductDto>>,
    pub totals: RwSignal<QueueTotalsDto>,
    pub paused: RwSignal<bool>,
    /// Providers rate limited, by id (expired pauses are simply past their `until`).
    pub provider_pauses: RwSignal<BTreeMap<String, ProviderPauseDto>>,
    pub connected: RwSignal<bool>,
    /// Bumped by every snapshot and job event: pages that list from the server reload on it.
    pub changes: RwSignal<u64>,
    pub toasts: RwSignal<Vec<Toast>>,
    last_seq: RwSignal<u64>,
    next_toast: StoredValue<u64>,
}

/// Creates the live state, provides it as context and (in the browser) connects.
pub fn provide_live() -> Live {
    let live = Live {
        jobs: RwSignal::new(BTreeMap::new()),
        products: RwSignal::new(Vec::new()),
        totals: RwSignal::new(QueueTotalsDto::default()),
        paused: RwSignal::new(false),
        provider_pauses: RwSignal::new(BTreeMap::new()),
        connected: RwSignal::new(false),
        changes: RwSignal::new(0),
        toasts: RwSignal::new(Vec::new()),
        last_seq: RwSignal::new(0),
        next_toast: StoredValue::new(0),
    };
    provide_context(live);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        socket::connect(live, 0);
    });
    live
}

pub fn use_live() -> Live {
    expect_context::<Live>()
}

impl Live {
    pub fn apply(&self, message: LiveMessage) {
        match message {
            LiveMessage::Snapshot {
                seq,
                paused,
                totals,
                jobs,
                provider_pauses,
            } => {
                self.jobs.set(jobs.into_iter().map(|j| (j.id, j)).collect());
                self.totals.set(totals);
                self.paused.set(paused);
                self.provider_pauses.set(
                    provider_pauses
                        .into_iter()
                        .map(|p| (p.provider.clone(), p))
                        .collect(),
                );
                self.last_seq.set(seq);
                self.changes.update(|c| *c += 1);
            }
            message if message.seq() <= self.last_seq.get_untracked() => {}
            LiveMessage::Job { seq, job } => {
                self.last_seq.set(seq);
                let previous = self
                    .jobs
                    .try_update(|jobs| {
                        let previous = jobs.insert(job.id, job.clone());
                        forget_old(jobs);
                        previous
                    })
                    .flatten();
                self.changes.update(|c| *c += 1);
                let before = previous.as_ref().map(|p| p.state);
                if before != Some(job.state) {
                    self.totals.update(|t| {
                        if let Some(before) = before {
                            *bucket(t, before) -= 1;
                        }
                        *bucket(t, job.state) += 1;
                    });
                    if job.state == JobState::Failed {
                        let reason = job
                            .error
                            .clone()
                            .unwrap_or_else(|| "no reason given".into());
                        self.toast(format!(
                            "Image {} of batch {} failed: {reason}",
                            job.item_index + 1,
                            job.batch_id
                        ));
                    }
                }
            }
            LiveMessage::ProductCreated { seq, product } => {
                self.last_seq.set(seq);
                self.products.update(|p| {
                    p.push(product);
                    if p.len() > RECENT_PRODUCTS {
                        p.drain(..p.len() - RECENT_PRODUCTS);
                    }
                });
            }
            LiveMessage::Paused { seq, paused } => {
                self.last_seq.set(seq);
                self.paused.set(paused);
            }
            LiveMessage::ProviderPaused { seq, pause } => {
                self.last_seq.set(seq);
                self.provider_pauses.update(|p| {
                    p.insert(pause.provider.clone(), pause);
                });
            }
        }
    }

    pub fn toast(&self, message: String) {
        let id = self.next_toast.get_value();
        self.next_toast.set_value(id + 1);
        self.toasts.update(|t| t.push(Toast { id, message }));
        let toasts = self.toasts;
        set_timeout(
            move || toasts.update(|t| t.retain(|toast| toast.id != id)),
            std::time::Duration::from_secs(10),
        );
    }

    pub fn dismiss(&self, id: u64) {
        self.toasts.update(|t| t.retain(|toast| toast.id != id));
    }
}

/// Keeps the map to [`KEPT_JOBS`] by dropping the finished jobs updated longest ago.
fn forget_old(jobs: &mut BTreeMap<i64, JobDto>) {
    if jobs.len() <= KEPT_JOBS {
        return;
    }
    let mut finished: Vec<(chrono::DateTime<chrono::Utc>, i64)> = jobs
        .values()
        .filter(|j| j.is_terminal())
        .map(|j| (j.updated_at, j.id))
        .collect();
    finished.sort_unstable();
    // A quarter below the cap, so this runs once per many events rather than at each.
    let excess = jobs.len() - KEPT_JOBS * 3 / 4;
    for (_, id) in finished.into_iter().take(excess) {
        jobs.remove(&id);
    }
}

fn bucket(totals: &mut QueueTotalsDto, state: JobState) -> &mut i64 {
    match state {
        JobState::Queued => &mut totals.queued,
        JobState::RetryWait => &mut totals.retry_wait,
        JobState::Succeeded => &mut totals.succeeded,
        JobState::Failed => &mut totals.failed,
        JobState::Canceled => &mut totals.canceled,
        JobState::Submitting | JobState::Running | JobState::Downloading => &mut totals.running,
    }
}

#[cfg(feature = "hydrate")]
mod socket {
    use std::time::Duration;

    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    use super::Live;
    use crate::dto::LiveMessage;

    pub fn connect(live: Live, attempt: u32) {
        let location = window().location();
        let scheme = if location.protocol().ok().as_deref() == Some("https:") {
            "wss"
        } else {
            "ws"
        };
        let host = location.host().unwrap_or_default();
        let Ok(socket) = web_sys::WebSocket::new(&format!("{scheme}://{host}/ws")) else {
            retry(live, attempt);
            return;
        };
        let on_open = Closure::<dyn FnMut()>::new(move || live.connected.set(true));
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |event: web_sys::MessageEvent| {
                if let Some(text) = event.data().as_string() {
                    match serde_json::from_str::<LiveMessage>(&text) {
                        Ok(message) => live.apply(message),
                        Err(e) => leptos::logging::warn!("unreadable live message: {e}"),
                    }
                }
            },
        );
        let opened_at = live.connected;
        let on_close = Closure::<dyn FnMut()>::new(move || {
            let was_open = opened_at.get_untracked();
            live.connected.set(false);
            retry(live, if was_open { 0 } else { attempt + 1 });
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        // The socket lives as long as the tab; so do its handlers.
        on_open.forget();
        on_message.forget();
        on_close.forget();
    }

    fn retry(live: Live, attempt: u32) {
        let delay = Duration::from_millis((500u64 << attempt.min(5)).min(10_000));
        set_timeout(move || connect(live, attempt), delay);
    }
}
