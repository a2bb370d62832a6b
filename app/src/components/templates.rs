//! The templates panel on the Generate page: save the form under a name, find, apply, rename,
//! duplicate and delete templates. Applying fills the form; it never queues.

use leptos::prelude::*;

use crate::api::library::{
    create_template, delete_template, duplicate_template, rename_template, search_templates,
};
use crate::components::button;
use crate::components::field::FormMessage;
use crate::dto::{TemplateDto, TemplateForm};

const INPUT: &str = "block w-full rounded-md border border-stone-300 bg-white px-2 py-1 text-sm \
    dark:border-stone-700 dark:bg-stone-900";

#[component]
pub fn TemplatesPanel(
    project_id: Signal<Option<i64>>,
    current_form: Callback<(), TemplateForm>,
    apply: Callback<TemplateForm>,
) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let version = RwSignal::new(0u32);
    let found = Resource::new(
        move || (project_id.get(), query.get(), version.get()),
        |(project, query, _)| search_templates(project, query),
    );
    let message = RwSignal::new(None::<String>);
    let name = RwSignal::new(String::new());
    let project_only = RwSignal::new(false);
    let editing = RwSignal::new(None::<i64>);
    let edit_name = RwSignal::new(String::new());

    let done = move |result: Result<(), crate::error::AppError>| match result {
        Ok(()) => {
            message.set(None);
            version.update(|v| *v += 1);
        }
        Err(e) => message.set(Some(e.to_string())),
    };
    let save = move || {
        let scope = if project_only.get_untracked() {
            project_id.get_untracked()
        } else {
            None
        };
        let form = current_form.run(());
        let title = name.get_untracked();
        leptos::task::spawn_local(async move {
            let result = create_template(scope, title, form).await.map(|_| ());
            if result.is_ok() {
                name.set(String::new());
            }
            done(result);
        });
    };

    view! {
        <section class="mt-6 rounded-lg border border-stone-200 p-4 dark:border-stone-800" aria-labelledby="templates-heading">
            <h2 id="templates-heading" class="text-lg font-semibold">"Templates"</h2>
            <form class="mt-2 flex flex-wrap items-end gap-2" on:submit=move |ev| { ev.prevent_default(); save(); }>
                <div class="grow">
                    <label for="template-name" class="block text-sm font-medium">"Save this form as"</label>
                    <input id="template-name" class=INPUT bind:value=name placeholder="template name" />
                </div>
                <label class="flex items-center gap-1 text-sm">
                    <input type="checkbox" bind:checked=project_only />"This project only"
                </label>
                <button type="submit" class=button::secondary()>"Save template"</button>
            </form>
            <FormMessage message=Signal::derive(move || message.get()) />
            <div class="mt-3">
                <label for="template-search" class="sr-only">"Search templates"</label>
                <input id="template-search" type="search" class=INPUT placeholder="Search templates"
                    prop:value=move || query.get() on:input=move |ev| query.set(event_target_value(&ev)) />
            </div>
            <Transition fallback=|| ()>
                <ul class="mt-2 divide-y divide-stone-200 dark:divide-stone-800" aria-label="Templates">
                    {move || found.get().map(|r| match r {
                        Err(e) => view! { <li class="py-2 text-sm text-red-700">{e.to_string()}</li> }.into_any(),
                        Ok(list) if list.is_empty() => view! { <li class="py-2 text-sm text-stone-500">"No templates yet."</li> }.into_any(),
                        Ok(list) => list.into_iter().map(|t| view! {
                            <TemplateRow template=t apply editing edit_name done=Callback::new(done) />
                        }).collect_view().into_any(),
                    })}
                </ul>
            </Transition>
        </section>
    }
}

#[component]
fn TemplateRow(
    template: TemplateDto,
    apply: Callback<TemplateForm>,
    editing: RwSignal<Option<i64>>,
    edit_name: RwSignal<String>,
    done: Callback<Result<(), crate::error::AppError>>,
) -> impl IntoView {
    let id = template.id;
    let form = StoredValue::new(template.form.clone());
    let original = template.name.clone();
    let is_editing = move || editing.get() == Some(id);
    let rename = move || {
        let new_name = edit_name.get_untracked();
        leptos::task::spawn_local(async move {
            let result = rename_template(id, new_name).await.map(|_| ());
            if result.is_ok() {
                editing.set(None);
            }
            done.run(result);
        });
    };
    view! {
        <li class="flex flex-wrap items-center gap-2 py-2 text-sm" data-template=template.name.clone()>
            <Show when=is_editing fallback={
                let name = template.name.clone();
                let scope = if template.project_id.is_some() { "project" } else { "global" };
                move || view! {
                    <span class="grow font-medium">{name.clone()}</span>
                    <span class="rounded bg-stone-100 px-1.5 text-xs text-stone-600 dark:bg-stone-800 dark:text-stone-300">{scope}</span>
                }
            }>
                <form class="flex grow gap-2" on:submit=move |ev| { ev.prevent_default(); rename(); }>
                    <label for=format!("rename-{id}") class="sr-only">"New name"</label>
                    <input id=format!("rename-{id}") class=INPUT bind:value=edit_name />
                    <button type="submit" class=button::secondary()>"Save name"</button>
                </form>
            </Show>
            <button type="button" class=button::primary() on:click=move |_| apply.run(form.get_value())>"Apply"</button>
            <button type="button" class=button::secondary() on:click={
                let original = original.clone();
                move |_| { edit_name.set(original.clone()); editing.set(Some(id)); }
            }>"Rename"</button>
            <button type="button" class=button::secondary() on:click=move |_| {
                leptos::task::spawn_local(async move { done.run(duplicate_template(id).await.map(|_| ())); });
            }>"Duplicate"</button>
            <button type="button" class=button::danger() on:click=move |_| {
                leptos::task::spawn_local(async move { done.run(delete_template(id).await); });
            }>"Delete"</button>
        </li>
    }
}
