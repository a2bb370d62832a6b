//! One run of a pipeline, live: each step's state (cached, queued, running, done, failed), its
//! jobs' progress, its pictures, and "re-run from here". Refreshed every second while it runs.

use leptos::prelude::*;

use crate::api::pipelines::{cancel_run, pipeline_run, rerun_pipeline};
use crate::components::button;
use crate::components::field::FormMessage;
use crate::dto::{RunDto, RunStateDto, RunStepDto, StepStateDto};

fn badge(state: StepStateDto) -> &'static str {
    match state {
        StepStateDto::Cached => "bg-sky-100 text-sky-900 dark:bg-sky-950 dark:text-sky-100",
        StepStateDto::Succeeded => {
            "bg-emerald-100 text-emerald-900 dark:bg-emerald-950 dark:text-emerald-100"
        }
        StepStateDto::Failed => "bg-red-100 text-red-900 dark:bg-red-950 dark:text-red-100",
        StepStateDto::Running | StepStateDto::Queued => {
            "bg-amber-100 text-amber-900 dark:bg-amber-950 dark:text-amber-100"
        }
        _ => "bg-stone-100 text-stone-800 dark:bg-stone-800 dark:text-stone-100",
    }
}

pub fn run_state_label(state: RunStateDto) -> &'static str {
    match state {
        RunStateDto::Running => "running",
        RunStateDto::Succeeded => "done",
        RunStateDto::Failed => "failed",
        RunStateDto::Canceled => "cancelled",
    }
}

/// Run `run_id`, followed live; `on_new_run` is told about a re-run it starts.
#[component]
pub fn RunView(
    #[prop(into)] run_id: Signal<i64>,
    on_new_run: Callback<i64>,
    on_changed: Callback<()>,
) -> impl IntoView {
    let tick = RwSignal::new(0u32);
    let run = LocalResource::new(move || {
        let (id, _) = (run_id.get(), tick.get());
        pipeline_run(id)
    });
    let message = RwSignal::new(None::<String>);
    // While the run goes on, look again in a second.
    Effect::new(move |_| {
        if let Some(Ok(r)) = run.get() {
            if r.summary.state == RunStateDto::Running {
                set_timeout(
                    move || tick.update(|t| *t += 1),
                    std::time::Duration::from_secs(1),
                );
            } else {
                on_changed.run(());
            }
        }
    });
    let rerun = move |step: String| {
        let id = run_id.get_untracked();
        leptos::task::spawn_local(async move {
            match rerun_pipeline(id, step).await {
                Ok(new) => {
                    message.set(None);
                    on_new_run.run(new.summary.id);
                }
                Err(e) => message.set(Some(e.to_string())),
            }
        });
    };
    let cancel = move |_| {
        let id = run_id.get_untracked();
        leptos::task::spawn_local(async move {
            match cancel_run(id).await {
                Ok(()) => tick.update(|t| *t += 1),
                Err(e) => message.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <FormMessage message=Signal::derive(move || message.get()) />
        // Read directly, not through a <Suspense>: the run is asked for by the browser only, so
        // the server and the hydrating browser both draw "Loading", and each second's refresh
        // keeps the last answer on screen until the next one arrives.
        {move || match run.get() {
            None => view! { <p class="text-sm text-stone-500">"Loading the run…"</p> }.into_any(),
            Some(Err(e)) => view! { <FormMessage message=Signal::stored(Some(e.to_string())) /> }.into_any(),
            Some(Ok(r)) => view! { <RunSteps run=r rerun cancel /> }.into_any(),
        }}
    }
}

#[component]
fn RunSteps(
    run: RunDto,
    rerun: impl Fn(String) + Copy + Send + Sync + 'static,
    cancel: impl Fn(leptos::ev::MouseEvent) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let s = &run.summary;
    let heading = format!(
        "Run #{} · version {} · seed {} · {}",
        s.id,
        s.version,
        s.run_seed,
        run_state_label(s.state)
    );
    let running = s.state == RunStateDto::Running;
    view! {
        <section aria-labelledby="run-heading" data-run-state=run_state_label(s.state)>
            <div class="flex flex-wrap items-center gap-3">
                <h2 id="run-heading" class="text-lg font-semibold">{heading}</h2>
                {running.then(|| view! {
                    <button type="button" class=button::secondary() on:click=cancel>"Cancel run"</button>
                })}
            </div>
            {run.input_product_id.map(|id| view! {
                <p class="text-sm text-stone-600 dark:text-stone-400">
                    "Started from " <a class="underline" href=format!("/products/{id}")>{format!("picture #{id}")}</a>
                </p>
            })}
            <ol class="mt-3 space-y-3">
                {run.steps.into_iter().map(|step| view! { <RunStep step rerun finished=!running /> }).collect_view()}
            </ol>
        </section>
    }
}

#[component]
fn RunStep(
    step: RunStepDto,
    rerun: impl Fn(String) + Copy + Send + Sync + 'static,
    finished: bool,
) -> impl IntoView {
    let progress = (step.jobs_total > 0 && !step.state.eq(&StepStateDto::Succeeded))
        .then(|| format!("{} of {} pictures", step.jobs_done, step.jobs_total));
    let name = step.name.clone();
    view! {
        <li class="rounded-lg border border-stone-200 p-3 dark:border-stone-800" data-run-step=step.name.clone()
            data-step-state=step.state.label()>
            <div class="flex flex-wrap items-center gap-2">
                <h3 class="font-medium">{step.name.clone()}</h3>
                <span class=format!("rounded px-2 py-0.5 text-xs font-medium {}", badge(step.state))>{step.state.label()}</span>
                {progress.map(|p| view! { <span class="text-xs text-stone-600 dark:text-stone-400">{p}</span> })}
                {step.seed.map(|seed| view! { <span class="text-xs text-stone-600 dark:text-stone-400">{format!("seed {seed}")}</span> })}
                {finished.then(|| {
                    let name = name.clone();
                    view! {
                        <button type="button" class=format!("{} ml-auto", button::secondary())
                            on:click=move |_| rerun(name.clone())>
                            {format!("Re-run from {}", step.name)}
                        </button>
                    }
                })}
            </div>
            {step.error.map(|e| view! { <p class="mt-1 text-sm text-red-800 dark:text-red-300">{e}</p> })}
            <div class="mt-2 flex flex-wrap gap-2">
                {step.products.into_iter().map(|p| view! {
                    <a href=format!("/products/{}", p.id) class="block rounded focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-500">
                        <img src=p.thumb_url.clone() alt=format!("Picture #{} of {}", p.id, name)
                            class="h-24 w-24 rounded object-cover" width="96" height="96" loading="lazy" />
                    </a>
                }).collect_view()}
            </div>
        </li>
    }
}
