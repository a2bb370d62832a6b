//! The Generate page: choose where and how, write the prompt, queue; watch the batch arrive.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::generate::{generate_options, preview_prompt, LaunchBatch};
use crate::api::products::product_detail;
use crate::components::batch::{BatchView, UseAsInput};
use crate::components::batch_settings::BatchSettings;
use crate::components::button;
use crate::components::costs::LaunchEstimate;
use crate::components::field::{FieldError, FormMessage, INPUT, LABEL};
use crate::components::input_image::{InputImagePicker, InputPicture};
use crate::components::loras::{add_lora, LoraEntry, LoraList};
use crate::components::makes::{self, first_model, MakesPicker, ScoredFor};
use crate::components::model_browser::ModelBrowser;
use crate::components::model_ref::ModelReference;
use crate::components::params::{defaults, params_json, ParamField};
use crate::components::preview::PromptPreview;
use crate::components::templates::TemplatesPanel;
use crate::dto::{
    ExpansionMode, GenerateOptionsDto, LaunchForm, ModelDto, PickDto, PreviewDto, ProductDto,
    ProductKind, ProviderDto, SeedMode, TemplateForm,
};

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

#[component]
fn GenerateForm(options: GenerateOptionsDto) -> impl IntoView {
    let providers = RwSignal::new(options.providers.clone());
    let first_provider = options.providers.first().cloned();
    let query = leptos_router::hooks::use_query_map();
    let asked_project = query
        .with_untracked(|q| q.get("project"))
        .filter(|p| options.projects.iter().any(|o| o.id.to_string() == *p));
    let project =
        RwSignal::new(asked_project.unwrap_or_else(|| options.projects[0].id.to_string()));
    // `?make=video` (from "Animate") or `?make=audio` (from "Score") chooses what is made.
    let makes = RwSignal::new(makes::parse(
        query.with_untracked(|q| q.get("make")).as_deref(),
    ));
    let here = first_provider
        .as_ref()
        .map(|p| p.id.clone())
        .unwrap_or_default();
    let (first_provider_id, first_model_id) =
        first_model(&options.providers, &here, makes.get_untracked(), false).unwrap_or_default();
    let provider = RwSignal::new(first_provider_id);
    let model = RwSignal::new(first_model_id);
    let current_provider = Memo::new(move |_| {
        providers.with(|ps| ps.iter().find(|p| p.id == provider.get()).cloned())
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
    // Choosing what to make switches to a provider and model that make it.
    Effect::new(move |previous: Option<ProductKind>| {
        let kind = makes.get();
        if previous.is_some_and(|p| p != kind)
            && current_model
                .get_untracked()
                .is_none_or(|m| m.makes != kind)
        {
            let here = provider.get_untracked();
            if let Some((p, m)) = providers.with_untracked(|ps| first_model(ps, &here, kind, false))
            {
                provider.set(p);
                model.set(m);
            }
        }
        kind
    });
    let made_from = RwSignal::new(None::<ProductDto>);
    let loras = RwSignal::new(Vec::<LoraEntry>::new());
    let input = RwSignal::new(None::<InputPicture>);
    let input_busy = RwSignal::new(false);
    let input_message = RwSignal::new(None::<String>);
    let negative = RwSignal::new(String::new());
    let takes_negative = move || current_model.get().is_none_or(|m| m.negative_prompt);
    let count = RwSignal::new("1".to_string());
    let mode = RwSignal::new(ExpansionMode::Combinatorial);
    let seed_mode = RwSignal::new(SeedMode::Derived);
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
                networks: if current_model.get_untracked().is_some_and(|m| m.networks) {
                    loras.with_untracked(|l| l.iter().map(|e| e.network.clone()).collect())
                } else {
                    Vec::new()
                },
                input_image: if current_model.get_untracked().is_some_and(|m| m.takes_image) {
                    input.with_untracked(|i| i.as_ref().map(|i| i.id))
                } else {
                    None
                },
                made_from: made_from.with_untracked(|p| p.as_ref().map(|p| p.id)),
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
        let known = providers.with_untracked(|ps| {
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
        mode.set(form.mode);
        count.set(form.count.max(1).to_string());
        seed_mode.set(form.seed_mode);
        seed.set(form.seed.map(|s| s.to_string()).unwrap_or_default());
    };
    let project_id = Signal::derive(move || project.get().parse::<i64>().ok());
    // A model read by reference or picked in the browser joins its provider's list, chosen.
    let add_model = move |loaded: ModelDto| {
        let id = loaded.id.clone();
        let at = provider.get_untracked();
        providers.update(|ps| {
            if let Some(p) = ps.iter_mut().find(|p| p.id == at) {
                p.models.retain(|m| m.id != loaded.id);
                p.models.insert(0, loaded);
            }
        });
        model.set(id);
    };
    let add_lora = move |pick: PickDto| add_lora(loras, prompt, pick);
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
            ev.prevent_default();
            submit();
        }
    };

    // A picture chosen as input: a model that can start from it is chosen if this one cannot.
    let choose_input = move |picture: InputPicture| {
        input.set(Some(picture));
        if current_model.get_untracked().is_some_and(|m| m.takes_image) {
            return;
        }
        let here = provider.get_untracked();
        let kind = makes.get_untracked();
        let found = providers.with_untracked(|ps| {
            first_model(ps, &here, kind, true).or_else(|| {
                // Nothing makes this kind from a picture: pictures from pictures, then.
                let found = first_model(ps, &here, ProductKind::Image, true);
                if found.is_some() {
                    makes.set(ProductKind::Image);
                }
                found
            })
        });
        if let Some((p, m)) = found {
            provider.set(p);
            model.set(m);
        }
    };
    provide_context(UseAsInput(Callback::new(move |product: ProductDto| {
        choose_input(InputPicture::from(&product));
        if let Some(el) = document().get_element_by_id("gen-prompt") {
            el.scroll_into_view();
        }
    })));
    // `/generate?input=<product>` (from a product's page) starts from that product.
    if let Some(id) = query
        .with_untracked(|q| q.get("input"))
        .and_then(|i| i.parse::<i64>().ok())
    {
        leptos::task::spawn_local(async move {
            if let Ok(detail) = product_detail(id).await {
                choose_input(InputPicture::from(&detail.product));
            }
        });
    }
    // `/generate?for=<product>&make=audio` ("Score" on a product's page) makes a sound for it,
    // starting from its prompt.
    if let Some(id) = query
        .with_untracked(|q| q.get("for"))
        .and_then(|i| i.parse::<i64>().ok())
    {
        leptos::task::spawn_local(async move {
            if let Ok(detail) = product_detail(id).await {
                if prompt.with_untracked(|p| p.trim().is_empty()) {
                    prompt.set(detail.product.prompt.clone());
                }
                made_from.set(Some(detail.product));
            }
        });
    }
    let on_paste = move |ev: leptos::ev::ClipboardEvent| {
        #[cfg(feature = "hydrate")]
        {
            if !current_model.get_untracked().is_some_and(|m| m.takes_image) {
                return;
            }
            let file = crate::components::input_image::pasted_file(&ev);
            if let Some(file) = file {
                ev.prevent_default();
                crate::components::input_image::upload_into(
                    project.get_untracked().parse().ok(),
                    file.into(),
                    input,
                    input_busy,
                    input_message,
                );
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };

    view! {
        <crate::components::settings_banner::SettingsBanner apply=Callback::new(apply) />
        <form
            class="mt-4 grid gap-4 rounded-lg border border-stone-200 bg-white p-4 shadow-sm md:grid-cols-2 dark:border-stone-800 dark:bg-stone-900"
            on:submit=move |ev| {
                ev.prevent_default();
                submit();
            }
            on:keydown=on_keydown
            on:paste=on_paste
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
                <MakesPicker makes />
                <ScoredFor made_from />
                <FieldError id="gen-made-from-error".into() error=field_error("made_from") />
                <div>
                    <label for="gen-provider" class=LABEL>"Provider"</label>
                    <select
                        id="gen-provider"
                        class=INPUT
                        prop:value=move || provider.get()
                        on:change=move |ev| {
                            let id = event_target_value(&ev);
                            let kind = makes.get_untracked();
                            let first_model = providers.with_untracked(|ps| {
                                ps.iter().find(|p| p.id == id).and_then(|p| p.models.iter().find(|m| m.makes == kind)).map(|m| m.id.clone())
                            });
                            provider.set(id);
                            model.set(first_model.unwrap_or_default());
                        }
                    >
                        {move || providers.get().into_iter().filter(|p| makes::offers(p, makes.get())).map(|p| view! {
                            <option value=p.id.clone() selected=p.id == provider.get_untracked()>{p.name.clone()}</option>
                        }).collect_view()}
                    </select>
                    <p class="mt-1 text-xs text-stone-500">{move || current_provider.get().map(|p| p.description).unwrap_or_default()}</p>
                </div>
                <div>
                    <label for="gen-model" class=LABEL>"Model"</label>
                    <select id="gen-model" class=INPUT bind:value=model>
                        {move || current_provider.get().map(|p| p.models.into_iter().filter(|m| m.makes == makes.get()).map(|m| view! {
                            <option value=m.id.clone() selected=m.id == model.get_untracked()>{m.name.clone()}</option>
                        }).collect_view())}
                    </select>
                    <p class="mt-1 text-xs text-stone-500">
                        {move || current_model.get().map(|m| view! {
                            <span class="mr-1 rounded bg-stone-100 px-1 font-medium text-stone-800 dark:bg-stone-800 dark:text-stone-100" data-capability>{m.capability}</span>
                            {m.description}
                        })}
                    </p>
                    <FieldError id="gen-model-error".into() error=field_error("model") />
                </div>
                {move || current_provider.get().filter(|p| p.any_model).map(|_| {
                    view! { <ModelReference provider=Signal::derive(move || provider.get()) on_loaded=add_model /> }
                })}
                {move || current_provider.get().filter(|p| p.browsable).map(|_| view! {
                    <ModelBrowser project_id provider="civitai" on_model=add_model on_lora=add_lora />
                })}
                <Show when=move || current_model.get().is_some_and(|m| m.networks)>
                    <LoraList loras error />
                </Show>
                <Show when=move || current_model.get().is_some_and(|m| m.takes_image)>
                    <InputImagePicker input project_id message=input_message busy=input_busy
                        error=Signal::derive(move || error().and_then(|e| e.for_field("input_image"))) />
                </Show>
                <fieldset class="grid grid-cols-2 gap-3">
                    <legend class="sr-only">"Model parameters"</legend>
                    {move || current_model.get().map(|m| {
                        // The strength only means something with an input image.
                        let hidden = m.image_strength.clone().filter(|_| input.with(Option::is_none));
                        m.params
                            .into_iter()
                            .filter(|p| hidden.as_deref() != Some(p.name.as_str()))
                            .map(|p| view! { <ParamField param=p values=params error /> })
                            .collect_view()
                    })}
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
                <BatchSettings mode count seed_mode seed makes max_count=options.max_count error=Signal::derive(error) />
                <Show when=needs_confirm>
                    <label class="flex items-center gap-2 text-sm text-amber-800 dark:text-amber-300">
                        <input type="checkbox" id="gen-confirm" bind:checked=confirmed />
                        {move || format!("Yes, queue all {} {}", preview.with(|p| p.as_ref().map(|p| p.total).unwrap_or_default()), makes::noun(makes.get(), true))}
                    </label>
                </Show>
                <FieldError id="gen-confirm-error".into() error=field_error("confirm") />
                <LaunchEstimate provider model
                    params=Signal::derive(move || params_json(current_model.get().as_ref(), &params.get()))
                    items=Signal::derive(move || preview.with(|p| p.as_ref().filter(|p| p.error.is_none()).map(|p| p.total))) />
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
