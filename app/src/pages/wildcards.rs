//! `/wildcards`: wildcard lists, global or per project. Create, edit, rename (edit the name),
//! delete, and import a `.txt` file (one value per line, `#` comments, blank lines ignored).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::library::{delete_wildcard, list_wildcards, SaveWildcard};
use crate::api::projects::list_projects;
use crate::components::button;
use crate::components::field::{FieldError, FormMessage};
use crate::dto::WildcardDto;

const INPUT: &str = "mt-1 block w-full rounded-md border border-stone-300 bg-white px-3 py-2 \
    text-sm dark:border-stone-700 dark:bg-stone-900";

#[component]
pub fn WildcardsPage() -> impl IntoView {
    let projects = Resource::new(|| (), |_| list_projects(false));
    // "" is global; otherwise a project id.
    let scope = RwSignal::new(String::new());
    let version = RwSignal::new(0u32);
    let lists = Resource::new(
        move || (scope.get(), version.get()),
        |(scope, _)| list_wildcards(scope.parse().ok()),
    );
    let editing = RwSignal::new(None::<i64>);
    let name = RwSignal::new(String::new());
    let values = RwSignal::new(String::new());
    let save = ServerAction::<SaveWildcard>::new();
    let error = move || save.value().get().and_then(|r| r.err());
    let message = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(saved)) = save.value().get() {
            editing.set(Some(saved.id));
            version.update(|v| *v += 1);
        }
    });
    let open = move |list: WildcardDto| {
        editing.set(Some(list.id));
        name.set(list.name);
        values.set(list.values.join("\n"));
        save.clear();
    };
    let new_list = move || {
        editing.set(None);
        name.set(String::new());
        values.set(String::new());
        save.clear();
    };
    // try_get: during server rendering the page may be dropped (a client that hung up) while
    // the list is still loading.
    let in_scope = move |list: &WildcardDto| {
        list.project_id == scope.try_get().unwrap_or_default().parse::<i64>().ok()
    };

    view! {
        <Title text="Wildcards" />
        <h1 class="text-2xl font-semibold tracking-tight">"Wildcards"</h1>
        <p class="mt-1 text-sm text-stone-600 dark:text-stone-400">
            "Write " <code>"__name__"</code> " in a prompt to use one value of the list per image. "
            "A project's list replaces a global list of the same name."
        </p>
        <div class="mt-4 grid gap-6 md:grid-cols-[16rem_1fr]">
            <div>
                <label for="wildcard-scope" class="block text-sm font-medium">"Lists of"</label>
                <select id="wildcard-scope" class=INPUT on:change=move |ev| { scope.set(event_target_value(&ev)); new_list(); }>
                    <option value="">"Everywhere (global)"</option>
                    <Suspense fallback=|| ()>
                        {move || projects.get().and_then(Result::ok).map(|ps| ps.into_iter().map(|p| view! {
                            <option value=p.id.to_string()>{format!("Project: {}", p.name)}</option>
                        }).collect_view())}
                    </Suspense>
                </select>
                <ul class="mt-3 space-y-1" aria-label="Lists">
                    <Transition fallback=|| ()>
                        {move || lists.get().map(|r| match r {
                            Err(e) => view! { <li class="text-sm text-red-700">{e.to_string()}</li> }.into_any(),
                            Ok(all) => {
                                let shown: Vec<WildcardDto> = all.into_iter().filter(in_scope).collect();
                                if shown.is_empty() {
                                    return view! { <li class="text-sm text-stone-500">"No lists here yet."</li> }.into_any();
                                }
                                shown.into_iter().map(|list| {
                                    let label = format!("__{}__ · {}", list.name, list.values.len());
                                    let id = list.id;
                                    view! {
                                        <li>
                                            <button type="button" data-wildcard=list.name.clone()
                                                class="w-full rounded-md px-2 py-1 text-left font-mono text-sm hover:bg-stone-100 aria-[current=true]:bg-indigo-50 dark:hover:bg-stone-800"
                                                aria-current=move || (editing.get() == Some(id)).to_string()
                                                on:click=move |_| open(list.clone())>{label}</button>
                                        </li>
                                    }
                                }).collect_view().into_any()
                            }
                        })}
                    </Transition>
                </ul>
                <button type="button" class=format!("{} mt-3", button::secondary()) on:click=move |_| new_list()>"New list"</button>
            </div>
            <form class="space-y-3" on:submit=move |ev| {
                ev.prevent_default();
                save.dispatch(SaveWildcard {
                    id: editing.get_untracked(),
                    project_id: scope.get_untracked().parse().ok(),
                    name: name.get_untracked(),
                    values: values.get_untracked(),
                });
            }>
                <h2 class="text-lg font-semibold">{move || if editing.get().is_some() { "Edit list" } else { "New list" }}</h2>
                <div>
                    <label for="wildcard-name" class="block text-sm font-medium">"Name"</label>
                    <input id="wildcard-name" class=INPUT bind:value=name placeholder="colors/warm" aria-describedby="wildcard-name-error" />
                    <FieldError id="wildcard-name-error".into() error=Signal::derive(move || error().and_then(|e| e.for_field("name"))) />
                </div>
                <div>
                    <label for="wildcard-values" class="block text-sm font-medium">"Values, one per line"</label>
                    <textarea id="wildcard-values" rows="10" class=format!("{INPUT} font-mono") bind:value=values aria-describedby="wildcard-values-error"></textarea>
                    <FieldError id="wildcard-values-error".into() error=Signal::derive(move || error().and_then(|e| e.for_field("values"))) />
                </div>
                <div>
                    <label for="wildcard-import" class="block text-sm font-medium">"Import a .txt file"</label>
                    <input id="wildcard-import" type="file" accept=".txt,text/plain" class="mt-1 text-sm"
                        on:change=move |ev| import_file(ev, name, values, message) />
                </div>
                <FormMessage message=Signal::derive(move || error().and_then(|e| e.general()).or_else(|| message.get())) />
                <div class="flex gap-2">
                    <button type="submit" class=button::primary()>"Save list"</button>
                    <Show when=move || editing.get().is_some()>
                        <button type="button" class=button::danger() on:click=move |_| {
                            if let Some(id) = editing.get_untracked() {
                                leptos::task::spawn_local(async move {
                                    match delete_wildcard(id).await {
                                        Ok(()) => { new_list(); version.update(|v| *v += 1); }
                                        Err(e) => message.set(Some(e.to_string())),
                                    }
                                });
                            }
                        }>"Delete list"</button>
                    </Show>
                </div>
            </form>
        </div>
    }
}

/// Reads the chosen file into the editor: its name (without `.txt`) and its text. Saving is
/// still the person's click, so nothing is overwritten by surprise.
fn import_file(
    ev: leptos::ev::Event,
    name: RwSignal<String>,
    values: RwSignal<String>,
    message: RwSignal<Option<String>>,
) {
    crate::components::field::read_text_file(ev, move |file, text| match text {
        Some(text) => {
            let stem = file.trim_end_matches(".txt").trim_end_matches(".TXT");
            if name.get_untracked().trim().is_empty() {
                name.set(stem.to_string());
            }
            values.set(text);
            message.set(None);
        }
        None => message.set(Some("Could not read that file; is it a text file?".into())),
    });
}
