//! Settings → Plugin providers: what the last load enabled and left out (with why), reloading
//! after a manifest is edited or a server started, and importing ComfyUI workflows: paste or
//! choose the API-format JSON, read its inputs, say which become the prompt, the seed, the input
//! picture or form parameters, import.

use leptos::prelude::*;

use crate::api::plugins::{
    import_workflow, plugins, reload_plugins, remove_workflow, workflow_inputs,
};
use crate::components::button;
use crate::components::field::{read_text_file, INPUT, LABEL};
use crate::dto::{PluginReportDto, RoleName, WorkflowInputDto};

#[component]
pub fn PluginsPanel() -> impl IntoView {
    let changed = RwSignal::new(0u32);
    let state = LocalResource::new(move || {
        changed.track();
        plugins()
    });
    let message = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let after = move |result: Result<PluginReportDto, crate::error::AppError>, done: &str| {
        busy.set(false);
        match result {
            Ok(report) => {
                let left_out = report.problems.len();
                message.set(Some(if left_out == 0 {
                    done.to_string()
                } else {
                    format!("{done} {left_out} left out; see below.")
                }));
            }
            Err(e) => message.set(Some(e.to_string())),
        }
        changed.update(|n| *n += 1);
    };
    let reload = Action::new_local(move |_: &()| async move {
        busy.set(true);
        after(reload_plugins().await, "Reloaded.");
    });
    let remove = Action::new_local(move |name: &String| {
        let name = name.clone();
        async move { after(remove_workflow(name).await, "Workflow removed.") }
    });
    view! {
        <section aria-labelledby="plugins-heading" class="mt-8" data-plugins>
            <h2 id="plugins-heading" class="text-lg font-semibold">"Plugin providers"</h2>
            <p class="mt-1 max-w-prose text-sm text-stone-600 dark:text-stone-400">
                "Servers you run (AUTOMATIC1111, ComfyUI), and APIs described by a TOML manifest in "
                <code>{move || state.get().and_then(Result::ok).map(|s| s.manifests_dir)}</code>
                ". After editing a manifest or starting a server, reload: nothing is rebuilt."
            </p>
            <div class="mt-3 flex items-center gap-3 text-sm">
                <button type="button" class=button::secondary() disabled=move || busy.get()
                    on:click=move |_| { reload.dispatch(()); }>"Reload plugins"</button>
                <p role="status" data-plugins-message>{move || message.get()}</p>
            </div>
            {move || state.get().and_then(Result::ok).map(|s| view! {
                <ul class="mt-3 space-y-1 text-sm" aria-label="Enabled plugins" data-plugins-enabled>
                    {s.report.enabled.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
                </ul>
                {(!s.report.problems.is_empty()).then(|| view! {
                    <ul class="mt-2 space-y-1 text-sm text-red-700 dark:text-red-400" aria-label="Plugins left out" data-plugins-problems>
                        {s.report.problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                    </ul>
                })}
                <h3 class="mt-5 font-semibold">"ComfyUI workflows"</h3>
                <p class="mt-1 max-w-prose text-sm text-stone-600 dark:text-stone-400">
                    {match s.comfyui_url {
                        Some(url) => format!("Each workflow is a model of the ComfyUI server at {url}."),
                        None => "No ComfyUI server is configured: start Art Factory with --comfyui-url http://127.0.0.1:8188 \
                                 (or ART_FACTORY_COMFYUI_URL). Workflows imported now are offered once it is.".to_string(),
                    }}
                </p>
                <ul class="mt-2 space-y-2 text-sm" aria-label="Imported workflows" data-workflows>
                    {s.workflows.into_iter().map(|w| {
                        let name = w.name.clone();
                        view! {
                            <li class="flex flex-wrap items-baseline gap-2" data-workflow=w.name.clone()>
                                <span class="font-medium">{w.name.clone()}</span>
                                <span class="text-stone-500">{format!("{} nodes · {}", w.nodes, w.marks.join(" · "))}</span>
                                <button type="button" class=button::secondary()
                                    aria-label=format!("Remove the workflow {}", w.name)
                                    on:click=move |_| { remove.dispatch(name.clone()); }>"Remove"</button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
            <WorkflowImport on_import=move |result| after(result, "Workflow imported.") />
        </section>
    }
}

/// The import form: name, JSON (pasted or from a file), its inputs with their roles.
#[component]
fn WorkflowImport(
    on_import: impl Fn(Result<PluginReportDto, crate::error::AppError>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let json = RwSignal::new(String::new());
    let inputs = RwSignal::new(Vec::<Row>::new());
    let error = RwSignal::new(None::<String>);
    let read = Action::new_local(move |_: &()| async move {
        match workflow_inputs(json.get_untracked()).await {
            Ok(found) => {
                error.set(None);
                inputs.set(found.into_iter().map(Row::new).collect());
            }
            Err(e) => {
                inputs.set(Vec::new());
                error.set(Some(e.to_string()));
            }
        }
    });
    let import = Action::new_local(move |_: &()| async move {
        let chosen = inputs.get_untracked().iter().map(Row::chosen).collect();
        let result = import_workflow(name.get_untracked(), json.get_untracked(), chosen).await;
        match &result {
            Ok(_) => {
                error.set(None);
                inputs.set(Vec::new());
                json.set(String::new());
                name.set(String::new());
            }
            Err(e) => error.set(Some(e.to_string())),
        }
        on_import(result);
    });
    let choose = move |ev| {
        read_text_file(ev, move |file, text| match text {
            Some(text) => {
                if name.get_untracked().trim().is_empty() {
                    name.set(file.trim_end_matches(".json").to_string());
                }
                json.set(text);
                read.dispatch(());
            }
            None => error.set(Some(
                "Could not read that file; is it a workflow's JSON?".into(),
            )),
        })
    };
    view! {
        <form class="mt-4 max-w-3xl space-y-3 text-sm" aria-label="Import a ComfyUI workflow"
            on:submit=move |ev| { ev.prevent_default(); import.dispatch(()); }>
            <div>
                <label for="workflow-name" class=LABEL>"Workflow name"</label>
                <input id="workflow-name" type="text" class=INPUT autocomplete="off"
                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
            </div>
            <div>
                <label for="workflow-json" class=LABEL>"Workflow in API format (JSON)"</label>
                <textarea id="workflow-json" rows="4" class=INPUT spellcheck="false"
                    aria-describedby="workflow-error"
                    aria-invalid=move || error.get().is_some().to_string()
                    prop:value=move || json.get() on:input=move |ev| json.set(event_target_value(&ev))></textarea>
            </div>
            <div class="flex flex-wrap items-center gap-3">
                <label for="workflow-file" class=LABEL>"Or choose its file"</label>
                <input id="workflow-file" type="file" accept=".json,application/json" on:change=choose />
                <button type="button" class=button::secondary() on:click=move |_| { read.dispatch(()); }>"Read its inputs"</button>
            </div>
            <p id="workflow-error" role="alert" class="text-red-700 dark:text-red-400" data-workflow-error>{move || error.get()}</p>
            <Show when=move || !inputs.get().is_empty()>
                <table class="w-full text-left" data-workflow-inputs>
                    <caption class="text-left text-stone-600 dark:text-stone-400">
                        "Say what each input becomes. One must take the prompt; the rest stay as the workflow has them unless marked."
                    </caption>
                    <thead>
                        <tr class="border-b border-stone-200 dark:border-stone-800">
                            <th scope="col" class="py-1 pr-2">"Node"</th>
                            <th scope="col" class="py-1 pr-2">"Input"</th>
                            <th scope="col" class="py-1 pr-2">"Value"</th>
                            <th scope="col" class="py-1 pr-2">"Becomes"</th>
                            <th scope="col" class="py-1">"Parameter name and label"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || inputs.get().into_iter().map(|Row { input, role, name, label }| {
                            let id = format!("wf-{}-{}", input.node, input.input);
                            let is_param = move || role.get() == RoleName::Param;
                            let value: String = input.value.chars().take(60).collect();
                            view! {
                                <tr class="border-b border-stone-100 dark:border-stone-900" data-workflow-input=id.clone()>
                                    <td class="py-1 pr-2">{format!("{} {}", input.node, input.title.clone().unwrap_or(input.class_type.clone()))}</td>
                                    <td class="py-1 pr-2"><label for=id.clone()>{input.input.clone()}</label></td>
                                    <td class="py-1 pr-2 break-all text-stone-600 dark:text-stone-400">{value}</td>
                                    <td class="py-1 pr-2">
                                        <select id=id.clone() class="rounded-md border border-stone-300 px-1 py-1 dark:border-stone-700 dark:bg-stone-900"
                                            on:change=move |ev| role.set(RoleName::from_key(&event_target_value(&ev)))>
                                            {RoleName::ALL.into_iter().map(|r| view! {
                                                <option value=r.key() selected=r == role.get_untracked()>{r.label()}</option>
                                            }).collect_view()}
                                        </select>
                                    </td>
                                    <td class="py-1">
                                        <Show when=is_param>
                                            <input type="text" class="w-28 rounded-md border border-stone-300 px-1 py-1 dark:border-stone-700 dark:bg-stone-900"
                                                aria-label=format!("Parameter name for {} of node {}", input.input, input.node)
                                                prop:value=move || name.get()
                                                on:input=move |ev| name.set(event_target_value(&ev)) />
                                            " "
                                            <input type="text" class="w-36 rounded-md border border-stone-300 px-1 py-1 dark:border-stone-700 dark:bg-stone-900"
                                                aria-label=format!("Label for {} of node {}", input.input, input.node)
                                                prop:value=move || label.get()
                                                on:input=move |ev| label.set(event_target_value(&ev)) />
                                        </Show>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                <button type="submit" class=button::primary()>"Import workflow"</button>
            </Show>
        </form>
    }
}

/// One input in the form, with what the person chose for it.
#[derive(Clone)]
struct Row {
    input: WorkflowInputDto,
    role: RwSignal<RoleName>,
    name: RwSignal<String>,
    label: RwSignal<String>,
}

impl Row {
    fn new(input: WorkflowInputDto) -> Self {
        Self {
            role: RwSignal::new(input.role),
            name: RwSignal::new(input.name.clone()),
            label: RwSignal::new(input.label.clone()),
            input,
        }
    }

    fn chosen(&self) -> WorkflowInputDto {
        WorkflowInputDto {
            role: self.role.get_untracked(),
            name: self.name.get_untracked(),
            label: self.label.get_untracked(),
            ..self.input.clone()
        }
    }
}
