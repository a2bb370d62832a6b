//! How a job looks wherever it appears: a state in plain words and a progress bar.

use leptos::prelude::*;

use crate::dto::JobDto;

/// The state in words a person reads, with what happens next.
pub fn describe(job: &JobDto) -> String {
    match job.state.as_str() {
        "queued" => "Waiting in the queue".into(),
        "submitting" => "Sending to the provider".into(),
        "running" => job
            .provider_status
            .clone()
            .map_or("Generating".into(), |s| capitalise(&s)),
        "downloading" => "Saving the result".into(),
        "retry_wait" => format!(
            "Will retry (attempt {} of {}) at {} UTC",
            job.attempts + 1,
            job.max_attempts,
            job.run_after.format("%H:%M:%S")
        ),
        "succeeded" => "Done".into(),
        "failed" => "Failed".into(),
        "canceled" => "Cancelled".into(),
        other => other.to_string(),
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or(String::new(), |c| {
        c.to_uppercase().collect::<String>() + chars.as_str()
    })
}

/// How far along a job is, 0..=1, for the bar: the provider's figure while running, else by state.
pub fn fraction(job: &JobDto) -> f32 {
    match job.state.as_str() {
        "queued" | "retry_wait" => 0.0,
        "submitting" => 0.05,
        "running" => 0.1 + 0.8 * job.progress.unwrap_or(0.0),
        "downloading" => 0.95,
        _ => 1.0,
    }
}

#[component]
pub fn StateBadge(#[prop(into)] state: Signal<String>) -> impl IntoView {
    let class = move || {
        let colour = match state.get().as_str() {
            "succeeded" => {
                "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300"
            }
            "failed" => "bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-300",
            "canceled" => "bg-stone-200 text-stone-700 dark:bg-stone-800 dark:text-stone-300",
            "retry_wait" => "bg-amber-100 text-amber-800 dark:bg-amber-950 dark:text-amber-300",
            "queued" => "bg-sky-100 text-sky-800 dark:bg-sky-950 dark:text-sky-300",
            _ => "bg-indigo-100 text-indigo-800 dark:bg-indigo-950 dark:text-indigo-300",
        };
        format!("inline-block rounded px-1.5 py-0.5 text-xs font-medium {colour}")
    };
    view! { <span class=class data-state=move || state.get()>{move || state.get().replace('_', " ")}</span> }
}

#[component]
pub fn ProgressBar(
    #[prop(into)] value: Signal<f32>,
    #[prop(into)] label: Signal<String>,
) -> impl IntoView {
    let percent = move || (value.get().clamp(0.0, 1.0) * 100.0).round() as u32;
    view! {
        <div
            role="progressbar"
            aria-valuemin="0"
            aria-valuemax="100"
            aria-valuenow=move || percent().to_string()
            aria-label=move || label.get()
            class="h-1.5 w-full overflow-hidden rounded bg-stone-200 dark:bg-stone-800"
        >
            <div class="h-full bg-indigo-500 transition-all duration-300" style=move || format!("width: {}%", percent())></div>
        </div>
    }
}
