//! How a job looks wherever it appears: a state in plain words and a progress bar.

use leptos::prelude::*;

use crate::dto::{JobDto, JobState};

/// The state in words a person reads, with what happens next.
pub fn describe(job: &JobDto) -> String {
    match job.state {
        JobState::Queued => "Waiting in the queue".into(),
        JobState::Submitting => "Sending to the provider".into(),
        JobState::Running => {
            let status = job
                .provider_status
                .clone()
                .map_or("Generating".into(), |s| capitalise(&s));
            match job.eta_secs {
                Some(secs) => format!("{status} · about {} left", left(secs)),
                None => status,
            }
        }
        JobState::Downloading => "Saving the result".into(),
        JobState::RetryWait => format!(
            "Will retry (attempt {} of {}) at {} UTC",
            job.attempts + 1,
            job.max_attempts,
            job.run_after.format("%H:%M:%S")
        ),
        JobState::Succeeded => "Done".into(),
        JobState::Failed => "Failed".into(),
        JobState::Canceled => "Cancelled".into(),
    }
}

/// `40 s`, `3 min`.
fn left(secs: i64) -> String {
    if secs < 90 {
        format!("{} s", secs.max(1))
    } else {
        format!("{} min", (secs as f64 / 60.0).round() as i64)
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
    match job.state {
        JobState::Queued | JobState::RetryWait => 0.0,
        JobState::Submitting => 0.05,
        JobState::Running => 0.1 + 0.8 * job.progress.unwrap_or(0.0),
        JobState::Downloading => 0.95,
        JobState::Succeeded | JobState::Failed | JobState::Canceled => 1.0,
    }
}

#[component]
pub fn StateBadge(#[prop(into)] state: Signal<JobState>) -> impl IntoView {
    let class = move || {
        let colour = match state.get() {
            JobState::Succeeded => {
                "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300"
            }
            JobState::Failed => "bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-300",
            JobState::Canceled => {
                "bg-stone-200 text-stone-700 dark:bg-stone-800 dark:text-stone-300"
            }
            JobState::RetryWait => {
                "bg-amber-100 text-amber-800 dark:bg-amber-950 dark:text-amber-300"
            }
            JobState::Queued => "bg-sky-100 text-sky-800 dark:bg-sky-950 dark:text-sky-300",
            JobState::Submitting | JobState::Running | JobState::Downloading => {
                "bg-indigo-100 text-indigo-800 dark:bg-indigo-950 dark:text-indigo-300"
            }
        };
        format!("inline-block rounded px-1.5 py-0.5 text-xs font-medium {colour}")
    };
    view! { <span class=class data-state=move || state.get().as_str()>{move || state.get().as_str().replace('_', " ")}</span> }
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
