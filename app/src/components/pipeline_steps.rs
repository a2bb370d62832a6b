//! The pipeline editor: its steps as a list of cards, each with its kind's fields and the steps
//! it takes its pictures from. Every field is bound to its own value, so typing never redraws a
//! card (or moves the focus); a card's fields change only when its kind does.

use leptos::prelude::*;

use crate::components::button;
use crate::components::field::{INPUT, LABEL};
use crate::dto::{FitName, StepForm, StepKindName, Takes};

/// One step in the editor: a stable key for the list, and its form.
#[derive(Clone, Copy)]
pub struct EditedStep {
    pub key: u32,
    pub form: RwSignal<StepForm>,
}

/// The steps being edited, with the next key to hand out.
#[derive(Clone, Copy)]
pub struct Editor {
    pub steps: RwSignal<Vec<EditedStep>>,
    next: StoredValue<u32>,
}

impl Editor {
    pub fn new() -> Self {
        Self {
            steps: RwSignal::new(Vec::new()),
            next: StoredValue::new(0),
        }
    }

    /// Replaces every step (a version was opened or saved).
    pub fn load(&self, forms: Vec<StepForm>) {
        let steps = forms.into_iter().map(|f| self.wrap(f)).collect();
        self.steps.set(steps);
    }

    fn wrap(&self, form: StepForm) -> EditedStep {
        let key = self.next.get_value();
        self.next.set_value(key + 1);
        EditedStep {
            key,
            form: RwSignal::new(form),
        }
    }

    pub fn forms(&self) -> Vec<StepForm> {
        self.steps
            .get_untracked()
            .iter()
            .map(|s| s.form.get_untracked())
            .collect()
    }

    fn names(&self) -> Vec<String> {
        self.steps
            .get()
            .iter()
            .map(|s| s.form.with(|f| f.name.clone()))
            .collect()
    }

    /// Adds a step of `kind` at the end, taking the last step's output when it takes one.
    pub fn add(&self, kind: StepKindName) {
        let names = self.names();
        let base = kind.as_str().replace('_', " ");
        let name = (1..)
            .map(|n| {
                if n == 1 {
                    base.clone()
                } else {
                    format!("{base} {n}")
                }
            })
            .find(|n| !names.contains(n))
            .expect("some name is free");
        let step = self.wrap(StepForm::new(name, kind, names.last().cloned()));
        self.steps.update(|s| s.push(step));
    }

    fn remove(&self, key: u32) {
        self.steps.update(|s| s.retain(|e| e.key != key));
    }
}

impl Default for Editor {
    fn default() -> Self {
        Self::new()
    }
}

/// The list of step cards, and the buttons that add steps.
#[component]
pub fn StepsEditor(editor: Editor) -> impl IntoView {
    let add_kind = RwSignal::new(StepKindName::Generate.as_str().to_string());
    view! {
        <datalist id="pipeline-providers">
            <option value="local"></option>
            <option value="fal"></option>
            <option value="replicate"></option>
            <option value="civitai"></option>
        </datalist>
        <ol class="space-y-3" aria-label="Steps">
            <For each=move || editor.steps.get() key=|s| s.key let:step>
                <li><StepCard editor step /></li>
            </For>
        </ol>
        <div class="mt-3 flex flex-wrap items-end gap-2">
            <div>
                <label for="add-step-kind" class=LABEL>"New step"</label>
                <select id="add-step-kind" class=INPUT bind:value=add_kind>
                    {StepKindName::ALL.into_iter().map(|k| view! {
                        <option value=k.as_str()>{k.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <button type="button" class=button::secondary() on:click=move |_| {
                if let Some(kind) = StepKindName::parse(&add_kind.get_untracked()) {
                    editor.add(kind);
                }
            }>"Add step"</button>
        </div>
    }
}

/// A text input bound to one field of a step.
fn text_field(
    id: String,
    label: &'static str,
    form: RwSignal<StepForm>,
    get: fn(&StepForm) -> String,
    set: fn(&mut StepForm, String),
) -> impl IntoView {
    view! {
        <div>
            <label for=id.clone() class=LABEL>{label}</label>
            <input id=id class=INPUT prop:value=move || form.with(get)
                on:input=move |ev| form.update(|f| set(f, event_target_value(&ev))) />
        </div>
    }
}

/// A number input bound to one field of a step (a value that does not parse is left as it was).
fn number_field(
    id: String,
    label: &'static str,
    form: RwSignal<StepForm>,
    get: fn(&StepForm) -> String,
    set: fn(&mut StepForm, &str),
) -> impl IntoView {
    view! {
        <div>
            <label for=id.clone() class=LABEL>{label}</label>
            <input id=id type="number" class=INPUT prop:value=move || form.with(get)
                on:input=move |ev| form.update(|f| set(f, &event_target_value(&ev))) />
        </div>
    }
}

#[component]
fn StepCard(editor: Editor, step: EditedStep) -> impl IntoView {
    let form = step.form;
    let id = move |field: &str| format!("step-{}-{field}", step.key);
    let kind = Memo::new(move |_| form.with(|f| f.kind));
    let name = Memo::new(move |_| form.with(|f| f.name.clone()));
    // The other steps, by name: what this one may take pictures from.
    let others = move || {
        let me = name.get();
        editor
            .steps
            .get()
            .iter()
            .map(|s| s.form.with(|f| f.name.clone()))
            .filter(|n| *n != me)
            .collect::<Vec<_>>()
    };
    let call_fields = move || {
        view! {
            <div class="grid gap-2 sm:grid-cols-2">
                <div>
                    <label for=id("provider") class=LABEL>"Provider"</label>
                    <input id=id("provider") list="pipeline-providers" class=INPUT
                        prop:value=move || form.with(|f| f.provider.clone())
                        on:input=move |ev| form.update(|f| f.provider = event_target_value(&ev)) />
                </div>
                {text_field(id("model"), "Model", form, |f| f.model.clone(), |f, v| f.model = v)}
            </div>
        }
    };
    let kind_fields = move || {
        let k = kind.get();
        let prompted = k.prompted().then(|| view! {
            {call_fields()}
            <div>
                <label for=id("prompt") class=LABEL>"Prompt"</label>
                <textarea id=id("prompt") rows="2" class=INPUT
                    prop:value=move || form.with(|f| f.prompt.clone())
                    on:input=move |ev| form.update(|f| f.prompt = event_target_value(&ev))></textarea>
            </div>
            {text_field(id("negative"), "Negative prompt", form, |f| f.negative_prompt.clone(), |f, v| f.negative_prompt = v)}
            {text_field(id("params"), "Parameters (JSON)", form, |f| f.params.clone(), |f, v| f.params = v)}
        });
        let own = match k {
            StepKindName::Variations => number_field(id("count"), "How many", form,
                |f| f.count.to_string(), |f, v| if let Ok(n) = v.parse() { f.count = n }).into_any(),
            StepKindName::Upscale => view! {
                <label class="flex items-center gap-2 text-sm">
                    <input type="checkbox" prop:checked=move || form.with(|f| f.on_provider)
                        on:change=move |ev| form.update(|f| f.on_provider = event_target_checked(&ev)) />
                    "With a provider's upscaler (otherwise Lanczos, on this computer)"
                </label>
                {move || if form.with(|f| f.on_provider) {
                    view! {
                        {call_fields()}
                        {text_field(id("params"), "Parameters (JSON)", form, |f| f.params.clone(), |f, v| f.params = v)}
                    }.into_any()
                } else {
                    number_field(id("factor"), "Times larger", form,
                        |f| f.factor.to_string(), |f, v| if let Ok(n) = v.parse() { f.factor = n }).into_any()
                }}
            }.into_any(),
            StepKindName::CropResize => view! {
                <div class="grid gap-2 sm:grid-cols-3">
                    {number_field(id("width"), "Width", form, |f| f.width.to_string(), |f, v| if let Ok(n) = v.parse() { f.width = n })}
                    {number_field(id("height"), "Height", form, |f| f.height.to_string(), |f, v| if let Ok(n) = v.parse() { f.height = n })}
                    <div>
                        <label for=id("fit") class=LABEL>"Fit"</label>
                        <select id=id("fit") class=INPUT on:change=move |ev| {
                            let fit = match event_target_value(&ev).as_str() {
                                "cover" => FitName::Cover,
                                "stretch" => FitName::Stretch,
                                _ => FitName::Contain,
                            };
                            form.update(|f| f.fit = fit);
                        }>
                            <option value="contain" selected=move || form.with(|f| f.fit == FitName::Contain)>"Fit inside"</option>
                            <option value="cover" selected=move || form.with(|f| f.fit == FitName::Cover)>"Fill and crop"</option>
                            <option value="stretch" selected=move || form.with(|f| f.fit == FitName::Stretch)>"Stretch"</option>
                        </select>
                    </div>
                </div>
            }.into_any(),
            StepKindName::ContactSheet => view! {
                <div class="grid gap-2 sm:grid-cols-2">
                    {number_field(id("columns"), "Columns", form, |f| f.columns.to_string(), |f, v| if let Ok(n) = v.parse() { f.columns = n })}
                    {text_field(id("title"), "Title", form, |f| f.title.clone(), |f, v| f.title = v)}
                </div>
                <label class="flex items-center gap-2 text-sm">
                    <input type="checkbox" prop:checked=move || form.with(|f| f.labels)
                        on:change=move |ev| form.update(|f| f.labels = event_target_checked(&ev)) />
                    "Label each picture"
                </label>
            }.into_any(),
            _ => ().into_any(),
        };
        view! { {prompted} {own} }
    };
    let inputs = move || {
        match kind.get().takes() {
        Takes::Nothing => ().into_any(),
        Takes::One => view! {
            <div>
                <label for=id("input") class=LABEL>"Takes the picture of"</label>
                <select id=id("input") class=INPUT on:change=move |ev| {
                    let from = event_target_value(&ev);
                    form.update(|f| f.inputs = if from.is_empty() { Vec::new() } else { vec![from] });
                }>
                    <option value="">"(choose a step)"</option>
                    {move || others().into_iter().map(|n| {
                        let chosen = form.with(|f| f.inputs.first() == Some(&n));
                        view! { <option value=n.clone() selected=chosen>{n.clone()}</option> }
                    }).collect_view()}
                </select>
            </div>
        }.into_any(),
        Takes::Many => view! {
            <fieldset>
                <legend class=LABEL>"Takes the pictures of"</legend>
                <div class="mt-1 flex flex-wrap gap-3">
                    {move || others().into_iter().map(|n| {
                        let from = n.clone();
                        let label = n.clone();
                        view! {
                            <label class="flex items-center gap-1 text-sm">
                                <input type="checkbox" prop:checked=move || form.with(|f| f.inputs.contains(&n))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        let from = from.clone();
                                        form.update(|f| {
                                            f.inputs.retain(|i| *i != from);
                                            if on { f.inputs.push(from); }
                                        });
                                    } />
                                {label}
                            </label>
                        }
                    }).collect_view()}
                </div>
            </fieldset>
        }.into_any(),
    }
    };
    view! {
        <fieldset class="rounded-lg border border-stone-200 p-3 dark:border-stone-800" data-step=move || name.get()>
            <legend class="px-1 text-sm font-semibold">{move || format!("{} · {}", name.get(), kind.get().label())}</legend>
            <div class="grid gap-2 sm:grid-cols-2">
                {text_field(id("name"), "Step name", form, |f| f.name.clone(), |f, v| f.name = v)}
                <div>
                    <label for=id("kind") class=LABEL>"Kind"</label>
                    <select id=id("kind") class=INPUT on:change=move |ev| {
                        if let Some(k) = StepKindName::parse(&event_target_value(&ev)) {
                            form.update(|f| f.kind = k);
                        }
                    }>
                        {StepKindName::ALL.into_iter().map(|k| view! {
                            <option value=k.as_str() selected=move || kind.get() == k>{k.label()}</option>
                        }).collect_view()}
                    </select>
                </div>
            </div>
            <div class="mt-2 space-y-2">
                {inputs}
                {kind_fields}
                <div class="grid gap-2 sm:grid-cols-2">
                    {number_field(id("seed"), "Fixed seed (empty: from the run seed)", form,
                        |f| f.seed.map(|s| s.to_string()).unwrap_or_default(),
                        |f, v| f.seed = v.trim().parse().ok())}
                    <label class="flex items-center gap-2 self-end text-sm">
                        <input type="checkbox" prop:checked=move || form.with(|f| f.always_run)
                            on:change=move |ev| form.update(|f| f.always_run = event_target_checked(&ev)) />
                        "Always run (never from the cache)"
                    </label>
                </div>
                <button type="button" class=button::secondary() on:click=move |_| editor.remove(step.key)>
                    {move || format!("Remove step {}", name.get())}
                </button>
            </div>
        </fieldset>
    }
}
