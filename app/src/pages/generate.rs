//! The Generate page: choose where and how, write the prompt, queue; watch the batch arrive.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::generate::{batch_results, generate_options, preview_prompt, LaunchBatch};
use crate::components::button;
use crate::components::field::{FieldError, FormMessage};
use crate::components::job::{describe, fraction, ProgressBar, StateBadge};
use crate::components::templates::TemplatesPanel;
use crate::dto::{
    GenerateOptionsDto, LaunchForm, ModelDto, ParamDto, ParamKindDto, PreviewDto, ProductDto,
    ProviderDto, TemplateForm,
};
use crate::live::use_live;

const INPUT: &str =
    "mt-1 block w-full rounded-md border border-stone-300 bg-white px-3 py-2 text-sm shadow-sm \
    focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/40 \
    aria-[invalid=true]:border-red-500 dark:border-stone-700 dark:bg-stone-900";
const LABEL: &str = "block text-sm font-medium";

#[component]
pub fn GeneratePage() -> impl IntoView {
    let options = Resource::new(|| (), |_| generate_options());
    view! {
        <Title text="Generate" />
        <h1 class="text-2xl font-semibold tracking-tight">"Generate"</h1>
        <Suspense fallback=|| view! { <p class="mt-4 text-sm text-stone-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match options.await {
                    Ok(options) if options.projects.is_empty() => view! {
                        <p class="mt-4 text-sm">
                            "Generations go into a project. "
                            <a href="/" class="text-indigo-600 underline dark:text-indigo-400">"Create a project"</a>
                            " first."
                        </p>
                    }
                    .into_any(),
                    Ok(options) => view! { <GenerateForm options /> }.into_any(),
                    Err(e) => view! { <FormMessage message=Signal::stored(Some(e.to_string())) /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn default_value(param: &ParamDto) -> String {
    match &param.kind {
        ParamKindDto::Integer { default, .. } => default.to_string(),
        ParamKindDto::Float { default, .. } => default.to_string(),
        ParamKindDto::Bool { default } => default.to_string(),
        ParamKindDto::Choice { default, .. } => default.clone(),
    }
}

fn defaults(model: Option<&ModelDto>) -> BTreeMap<String, String> {
    model
        .map(|m| {
            m.params
                .iter()
                .map(|p| (p.name.clone(), default_value(p)))
                .collect()
        })
        .unwrap_or_default()
}

/// The form's parameter values as the JSON object the server expects (numbers as numbers).
fn params_json(model: Option<&ModelDto>, values: &BTreeMap<String, String>) -> String {
    let mut object = serde_json::Map::new();
    for param in model.map(|m| m.params.as_slice()).unwrap_or_default() {
        let raw = values.get(&param.name).cloned().unwrap_or_default();
        let value = match &param.kind {
            ParamKindDto::Integer { .. } => raw
                .trim()
                .parse::<i64>()
                .map(Into::into)
                .unwrap_or(raw.into()),
            ParamKindDto::Float { .. } => raw
                .trim()
                .parse::<f64>()
                .map(Into::into)
                .unwrap_or(raw.into()),
            ParamKindDto::Bool { .. } => (raw == "true").into(),
            ParamKindDto::Choice { .. } => raw.into(),
        };
        object.insert(param.name.clone(), value);
    }
    serde_json::Value::Object(object).to_string()
}

#[component]
fn GenerateForm(options: GenerateOptionsDto) -> impl IntoView {
    let providers = StoredValue::new(options.providers.clone());
    let first_provider = options.providers.first().cloned();
    let project = RwSignal::new(options.projects[0].id.to_string());
    let provider = RwSignal::new(
        first_provider
            .as_ref()
            .map(|p| p.id.clone())
            .unwrap_or_default(),
    );
    let model = RwSignal::new(
        first_provider
            .as_ref()
            .and_then(|p| p.models.first())
            .map(|m| m.id.clone())
            .unwrap_or_default(),
    );
    let current_provider = Memo::new(move |_| {
        providers.with_value(|ps| ps.iter().find(|p| p.id == provider.get()).cloned())
    });
    let current_model = Memo::new(move |_| {
        current_provider
            .get()
            .and_then(|p: ProviderDto| p.models.into_iter().find(|m| m.id == model.get()))
    });
    let params = RwSignal::new(defaults(current_model.get_untracked().as_ref()));
    // Parameters a template brings, applied once its model is selected.
    let pending_params: RwSignal<Option<BTreeMap<String, String>>> = RwSignal::new(None);
    // A new model brings its own parameters and defaults.
    Effect::new(move |previous: Option<Option<String>>| {
        let id = current_model.get().map(|m| m.id);
        if previous.is_some_and(|p| p != id) || pending_params.with_untracked(Option::is_some) {
            let mut values = defaults(current_model.get_untracked().as_ref());
            if let Some(saved) = pending_params.try_update(Option::take).flatten() {
                for (k, v) in saved {
                    if let Some(slot) = values.get_mut(&k) {
                        *slot = v;
                    }
                }
            }
            params.set(values);
        }
        id
    });
    let prompt = RwSignal::new(String::new());
    let negative = RwSignal::new(String::new());
    let takes_negative = move || current_model.get().is_none_or(|m| m.negative_prompt);
    let count = RwSignal::new("1".to_string());
    let mode = RwSignal::new("combinatorial".to_string());
    let seed_mode = RwSignal::new("derived".to_string());
    let seed = RwSignal::new(String::new());
    let confirmed = RwSignal::new(false);
    let preview = RwSignal::new(None::<PreviewDto>);
    // The live preview: asked for once typing pauses, answered by the same expansion code
    // the launch uses.
    let preview_input = Memo::new(move |_| {
        (
            project.get(),
            prompt.get(),
            mode.get(),
            count.get(),
            seed.get(),
        )
    });
    let debounce: StoredValue<Option<leptos::prelude::TimeoutHandle>> = StoredValue::new(None);
    let preview_seq = StoredValue::new(0u64);
    Effect::new(move |_| {
        let (project_id, text, mode_now, count_now, seed_now) = preview_input.get();
        confirmed.set(false);
        if let Some(handle) = debounce.try_update_value(Option::take).flatten() {
            handle.clear();
        }
        if text.trim().is_empty() {
            preview.set(None);
            return;
        }
        let handle = set_timeout_with_handle(
            move || {
                let ticket = preview_seq.try_update_value(|n| {
                    *n += 1;
                    *n
                });
                leptos::task::spawn_local(async move {
                    let answer = preview_prompt(
                        project_id.parse().ok(),
                        text,
                        mode_now,
                        count_now.trim().parse().unwrap_or(1),
                        seed_now.trim().parse().ok(),
                    )
                    .await;
                    // Only the newest question's answer is shown.
                    if preview_seq.get_value() == ticket.unwrap_or_default() {
                        preview.set(answer.ok());
                    }
                });
            },
            std::time::Duration::from_millis(200),
        )
        .ok();
        debounce.set_value(handle);
    });
    let prompt_error = move || preview.with(|p| p.as_ref().and_then(|p| p.error.clone()));
    let needs_confirm = move || preview.with(|p| p.as_ref().is_some_and(|p| p.needs_confirm));
    let launch = ServerAction::<LaunchBatch>::new();
    let error = move || launch.value().get().and_then(|r| r.err());
    let field_error =
        move |field: &'static str| Signal::derive(move || error().and_then(|e| e.for_field(field)));
    let batch = Memo::new(move |_| {
        launch
            .value()
            .get()
            .and_then(|r| r.ok())
            .map(|l| l.batch_id)
    });

    let submit = move || {
        if launch.pending().get_untracked() {
            return;
        }
        launch.dispatch(LaunchBatch {
            form: LaunchForm {
                project_id: project.get_untracked().parse().unwrap_or_default(),
                provider: provider.get_untracked(),
                model: model.get_untracked(),
                prompt: prompt.get_untracked(),
                negative_prompt: if current_model
                    .get_untracked()
                    .is_none_or(|m| m.negative_prompt)
                {
                    negative.get_untracked()
                } else {
                    String::new()
                },
                params: params_json(
                    current_model.get_untracked().as_ref(),
                    &params.get_untracked(),
                ),
                count: count.get_untracked().trim().parse().unwrap_or(0),
                mode: mode.get_untracked(),
                seed_mode: seed_mode.get_untracked(),
                seed: seed.get_untracked().trim().parse().ok(),
                confirmed: confirmed.get_untracked(),
            },
        });
    };
    let current_form = move || TemplateForm {
        provider: provider.get_untracked(),
        model: model.get_untracked(),
        params: params_json(
            current_model.get_untracked().as_ref(),
            &params.get_untracked(),
        ),
        prompt: prompt.get_untracked(),
        negative_prompt: negative.get_untracked(),
        mode: mode.get_untracked(),
        count: count.get_untracked().trim().parse().unwrap_or(1),
        seed_mode: seed_mode.get_untracked(),
        seed: seed.get_untracked().trim().parse().ok(),
    };
    // Applying a template fills the form; nothing is queued.
    let apply = move |form: TemplateForm| {
        let known = providers.with_value(|ps| {
            ps.iter()
                .any(|p| p.id == form.provider && p.models.iter().any(|m| m.id == form.model))
        });
        if known {
            let saved: BTreeMap<String, String> =
                serde_json::from_str::<serde_json::Value>(&form.params)
                    .ok()
                    .and_then(|v| v.as_object().cloned())
                    .map(|o| {
                        o.into_iter()
                            .map(|(k, v)| {
                                (
                                    k,
                                    v.as_str()
                                        .map(str::to_string)
                                        .unwrap_or_else(|| v.to_string()),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
            pending_params.set(Some(saved));
            provider.set(form.provider);
            model.set(form.model);
        }
        prompt.set(form.prompt);
        negative.set(form.negative_prompt);
        mode.set(if form.mode.is_empty() {
            "combinatorial".into()
        } else {
            form.mode
        });
        count.set(form.count.max(1).to_string());
        seed_mode.set(if form.seed_mode.is_empty() {
            "derived".into()
        } else {
            form.seed_mode
        });
        seed.set(form.seed.map(|s| s.to_string()).unwrap_or_default());
    };
    let project_id = Signal::derive(move || project.get().parse::<i64>().ok());
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
            ev.prevent_default();
            submit();
        }
    };

    view! {
        <form
            class="mt-4 grid gap-4 rounded-lg border border-stone-200 bg-white p-4 shadow-sm md:grid-cols-2 dark:border-stone-800 dark:bg-stone-900"
            on:submit=move |ev| {
                ev.prevent_default();
                submit();
            }
            on:keydown=on_keydown
            novalidate
        >
            {view! { <div class="space-y-3">
                <div>
                    <label for="gen-project" class=LABEL>"Project"</label>
                    <select id="gen-project" class=INPUT bind:value=project>
                        {options.projects.iter().map(|p| view! { <option value=p.id.to_string()>{p.name.clone()}</option> }).collect_view()}
                    </select>
                    <FieldError id="gen-project-error".into() error=field_error("project") />
                </div>
                <div>
                    <label for="gen-provider" class=LABEL>"Provider"</label>
                    <select
                        id="gen-provider"
                        class=INPUT
                        prop:value=move || provider.get()
                        on:change=move |ev| {
                            let id = event_target_value(&ev);
                            let first_model = providers.with_value(|ps| {
                                ps.iter().find(|p| p.id == id).and_then(|p| p.models.first()).map(|m| m.id.clone())
                            });
                            provider.set(id);
                            model.set(first_model.unwrap_or_default());
                        }
                    >
                        {options.providers.iter().map(|p| view! { <option value=p.id.clone()>{p.name.clone()}</option> }).collect_view()}
                    </select>
                    <p class="mt-1 text-xs text-stone-500">{move || current_provider.get().map(|p| p.description).unwrap_or_default()}</p>
                </div>
                <div>
                    <label for="gen-model" class=LABEL>"Model"</label>
                    <select id="gen-model" class=INPUT bind:value=model>
                        {move || current_provider.get().map(|p| p.models.into_iter().map(|m| view! { <option value=m.id.clone()>{m.name.clone()}</option> }).collect_view())}
                    </select>
                    <p class="mt-1 text-xs text-stone-500">{move || current_model.get().map(|m| m.description).unwrap_or_default()}</p>
                    <FieldError id="gen-model-error".into() error=field_error("model") />
                </div>
                <fieldset class="grid grid-cols-2 gap-3">
                    <legend class="sr-only">"Model parameters"</legend>
                    {move || current_model.get().map(|m| m.params.into_iter().map(|p| view! { <ParamField param=p values=params error /> }).collect_view())}
                </fieldset>
            </div> }.into_any()}
            {view! { <div class="space-y-3">
                <div>
                    <label for="gen-prompt" class=LABEL>"Prompt"</label>
                    <textarea id="gen-prompt" rows="4" class=INPUT bind:value=prompt
                        aria-invalid=move || field_error("prompt").get().is_some().to_string()
                        aria-describedby="gen-prompt-error"
                        placeholder="a {red|blue} lighthouse on a cliff at __time_of_day__"></textarea>
                    <FieldError id="gen-prompt-error".into() error=field_error("prompt") />
                    <PromptPreview preview />
                </div>
                <div>
                    <label for="gen-negative" class=LABEL>"Negative prompt (optional)"</label>
                    <textarea id="gen-negative" rows="2" class=INPUT bind:value=negative aria-describedby="gen-negative-error"
                        disabled=move || !takes_negative()
                        placeholder=move || if takes_negative() { "" } else { "This model takes no negative prompt" }></textarea>
                    <FieldError id="gen-negative-error".into() error=field_error("negative_prompt") />
                </div>
                <div>
                    <label for="gen-mode" class=LABEL>"Expansion"</label>
                    <select id="gen-mode" class=INPUT bind:value=mode>
                        <option value="combinatorial">"Every combination"</option>
                        <option value="random">"Random sample"</option>
                    </select>
                    <FieldError id="gen-mode-error".into() error=field_error("mode") />
                </div>
                <div class="grid grid-cols-2 gap-3">
                    <div>
                        <label for="gen-count" class=LABEL>
                            {move || if mode.get() == "random" { "Images" } else { "Images per prompt" }}
                        </label>
                        <input id="gen-count" type="number" min="1" max=options.max_count.to_string() class=INPUT bind:value=count
                            aria-invalid=move || field_error("count").get().is_some().to_string()
                            aria-describedby="gen-count-error" />
                        <FieldError id="gen-count-error".into() error=field_error("count") />
                    </div>
                    <fieldset>
                        <legend class=LABEL>"Seed"</legend>
                        <div class="mt-1 flex flex-wrap items-center gap-3 text-sm">
                            <label class="flex items-center gap-1" title="Each item's seed comes from the batch seed and its choices: cancelling or reordering never changes it">
                                <input type="radio" name="seed_mode" value="derived" bind:group=seed_mode />"Per item"
                            </label>
                            <label class="flex items-center gap-1" title="The same seed for every item">
                                <input type="radio" name="seed_mode" value="fixed" bind:group=seed_mode />"Fixed"
                            </label>
                            <label class="flex items-center gap-1" title="A new random seed for every item">
                                <input type="radio" name="seed_mode" value="random" bind:group=seed_mode />"Random"
                            </label>
                        </div>
                        <Show when=move || seed_mode.get() != "random">
                            <label for="gen-seed" class="sr-only">{move || if seed_mode.get() == "fixed" { "Seed" } else { "Batch seed" }}</label>
                            <input id="gen-seed" type="number" min="0" class=INPUT bind:value=seed aria-describedby="gen-seed-error"
                                placeholder=move || if seed_mode.get() == "fixed" { "seed" } else { "batch seed (empty: random)" } />
                        </Show>
                        <FieldError id="gen-seed-error".into() error=field_error("seed") />
                    </fieldset>
                </div>
                <Show when=needs_confirm>
                    <label class="flex items-center gap-2 text-sm text-amber-800 dark:text-amber-300">
                        <input type="checkbox" id="gen-confirm" bind:checked=confirmed />
                        {move || format!("Yes, queue all {} images", preview.with(|p| p.as_ref().map(|p| p.total).unwrap_or_default()))}
                    </label>
                </Show>
                <FieldError id="gen-confirm-error".into() error=field_error("confirm") />
                <FormMessage message=Signal::derive(move || error().and_then(|e| e.general())) />
                <div class="flex items-center gap-3">
                    <button type="submit" class=button::primary()
                        disabled=move || launch.pending().get() || prompt_error().is_some() || (needs_confirm() && !confirmed.get())>
                        {move || if launch.pending().get() { "Queueing…" } else { "Generate" }}
                    </button>
                    <span class="text-xs text-stone-500">"Ctrl+Enter queues from anywhere in the form"</span>
                </div>
            </div> }.into_any()}
        </form>
        <TemplatesPanel project_id current_form=Callback::new(move |()| current_form()) apply=Callback::new(apply) />
        {move || batch.get().map(|id| view! { <BatchView batch_id=id /> })}
    }
}

/// The item count and the first expanded prompts, or the syntax error with its position.
#[component]
fn PromptPreview(preview: RwSignal<Option<PreviewDto>>) -> impl IntoView {
    view! {
        <div class="mt-2 text-sm" aria-live="polite" data-prompt-preview>
            {move || preview.get().map(|p| match p.error {
                Some(e) => view! {
                    <p class="text-red-700 dark:text-red-400" role="alert" data-prompt-error>
                        {format!("Line {}, column {}: {}", e.line, e.column, e.message)}
                    </p>
                }.into_any(),
                None => view! {
                    <div>
                        <p class="font-medium" data-item-count>
                            {format!("{} item{}", p.total, if p.total == 1 { "" } else { "s" })}
                        </p>
                        <ol class="mt-1 list-decimal space-y-0.5 pl-5 text-stone-600 dark:text-stone-400" aria-label="First prompts">
                            {p.examples.into_iter().map(|e| view! { <li data-example>{e}</li> }).collect_view()}
                        </ol>
                    </div>
                }.into_any(),
            })}
        </div>
    }
}

/// One model parameter as a labelled field.
#[component]
fn ParamField(
    param: ParamDto,
    values: RwSignal<BTreeMap<String, String>>,
    error: impl Fn() -> Option<crate::error::AppError> + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let id = format!("param-{}", param.name);
    let error_id = format!("{id}-error");
    let name = StoredValue::new(param.name.clone());
    let value = move || values.with(|v| v.get(&name.get_value()).cloned().unwrap_or_default());
    let set = move |v: String| {
        values.update(|m| {
            m.insert(name.get_value(), v);
        })
    };
    let message = Signal::derive(move || {
        error().and_then(|e| e.for_field(&format!("params.{}", name.get_value())))
    });
    let input = match param.kind.clone() {
        ParamKindDto::Integer { min, max, step, .. } => view! {
            <input id=id.clone() type="number" min=min max=max step=step class=INPUT prop:value=value
                on:input=move |ev| set(event_target_value(&ev))
                aria-invalid=move || message.get().is_some().to_string() aria-describedby=error_id.clone() />
        }
        .into_any(),
        ParamKindDto::Float { min, max, .. } => view! {
            <input id=id.clone() type="number" min=min max=max step="any" class=INPUT prop:value=value
                on:input=move |ev| set(event_target_value(&ev))
                aria-invalid=move || message.get().is_some().to_string() aria-describedby=error_id.clone() />
        }
        .into_any(),
        ParamKindDto::Bool { .. } => view! {
            <input id=id.clone() type="checkbox" class="mt-2 h-4 w-4" prop:checked=move || value() == "true"
                on:change=move |ev| set(event_target_checked(&ev).to_string()) aria-describedby=error_id.clone() />
        }
        .into_any(),
        ParamKindDto::Choice { values: choices, .. } => view! {
            <select id=id.clone() class=INPUT prop:value=value on:change=move |ev| set(event_target_value(&ev)) aria-describedby=error_id.clone()>
                {choices.into_iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
            </select>
        }
        .into_any(),
    };
    view! {
        <div title=param.description.clone()>
            <label for=id class=LABEL>{param.label.clone()}</label>
            {input}
            <FieldError id=error_id.clone() error=message />
        </div>
    }
}

/// A launched batch: its jobs' progress, then its pictures as they arrive.
#[component]
fn BatchView(batch_id: i64) -> impl IntoView {
    let live = use_live();
    let initial = Resource::new(move || batch_id, batch_results);
    let jobs = Memo::new(move |_| {
        let mut jobs: Vec<_> = live.jobs.with(|all| {
            all.values()
                .filter(|j| j.batch_id == batch_id)
                .cloned()
                .collect()
        });
        if jobs.is_empty() {
            if let Some(Ok((initial_jobs, _))) = initial.get() {
                jobs = initial_jobs;
            }
        }
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
                <For each=move || jobs.get() key=|j| (j.id, j.state.clone(), j.progress.map(|p| (p * 100.0) as i32)) let:job>
                    <li class="rounded-md border border-stone-200 p-2 text-sm dark:border-stone-800" data-job-id=job.id data-state=job.state.clone()>
                        <div class="flex items-center justify-between gap-2">
                            <span>{format!("Image {} · seed {}", job.item_index + 1, job.seed)}</span>
                            <StateBadge state=job.state.clone() />
                        </div>
                        <div class="mt-1"><ProgressBar value=fraction(&job) label=format!("Image {}: {}", job.item_index + 1, describe(&job)) /></div>
                        {job.error.clone().map(|e| view! { <p class="mt-1 text-red-700 dark:text-red-400">{e}</p> })}
                    </li>
                </For>
            </ul>
            <ul class="mt-4 grid grid-cols-2 gap-3 sm:grid-cols-4" aria-label="Results">
                <For each=move || products.get() key=|p| p.id let:product>
                    <li>
                        <a href=product.url.clone() target="_blank" rel="noopener"
                            class="block overflow-hidden rounded-md bg-stone-200 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-500 dark:bg-stone-800"
                            style=product.placeholder.clone().map(|c| format!("background-color: {c}"))
                            aria-label=format!("Open image (seed {})", product.seed.unwrap_or_default())>
                            <img src=product.thumb_url.clone() alt=product.prompt.clone() loading="lazy"
                                class="aspect-square w-full object-cover"
                                width=product.width.unwrap_or(256) height=product.height.unwrap_or(256) />
                        </a>
                    </li>
                </For>
            </ul>
        </section>
    }
}
