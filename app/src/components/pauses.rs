//! Providers that answered 429, with the time left until they are called again.

use leptos::prelude::*;

use crate::live::use_live;

/// Milliseconds since the epoch, on this side of the wire.
fn now_millis() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        chrono::Utc::now().timestamp_millis()
    }
}

/// "Replicate: rate limited, resuming in 24 s", one line per provider still paused, counting
/// down each second.
#[component]
pub fn ProviderPauses() -> impl IntoView {
    let live = use_live();
    let tick = RwSignal::new(0u64);
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || tick.update(|t| *t += 1),
            std::time::Duration::from_secs(1),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    let running = move || {
        tick.track();
        let now = now_millis();
        live.provider_pauses
            .get()
            .into_values()
            .filter_map(|p| {
                let left = (p.until.timestamp_millis() - now + 999) / 1000;
                (left > 0).then(|| (p.provider, format!("{}, resuming in {left} s", p.reason)))
            })
            .collect::<Vec<_>>()
    };
    view! {
        <div aria-live="polite">
            {move || running().into_iter().map(|(provider, text)| view! {
                <p class="mt-3 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-800 dark:bg-amber-950 dark:text-amber-300"
                    data-provider-paused=provider>{text}</p>
            }).collect_view()}
        </div>
    }
}
