//! The Projects page: create, rename, describe, archive, restore and delete projects.

use leptos::html;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::projects::{
    list_projects, CreateProject, DeleteProject, RenameProject, SetProjectArchived,
    UpdateProjectDescription,
};
use crate::components::actions::{last_error, on_success};
use crate::components::button;
use crate::components::costs::ProjectBudget;
use crate::components::field::{FormMessage, TextArea, TextField};
use crate::dto::ProjectDto;

/// Bumped after every successful change, so the list re-reads.
#[derive(Clone, Copy)]
struct ProjectsChanged(RwSignal<u32>);

impl ProjectsChanged {
    fn notify(&self) {
        self.0.update(|n| *n += 1);
    }
}

#[component]
pub fn ProjectsPage() -> impl IntoView {
    let query = use_query_map();
    let show_archived = Memo::new(move |_| query.read().get("show").as_deref() == Some("archived"));
    let changed = ProjectsChanged(RwSignal::new(0));
    provide_context(changed);
    let projects = Resource::new(
        move || (show_archived.get(), changed.0.get()),
        |(archived, _)| list_projects(archived),
    );

    view! {
        <Title text="Projects" />
        <h1 class="text-2xl font-semibold tracking-tight">"Projects"</h1>
        <div class="mt-4">
            <CreateProjectForm />
        </div>
        <section aria-labelledby="project-list-heading" class="mt-8">
            <div class="flex items-center justify-between">
                <h2 id="project-list-heading" class="text-lg font-semibold">
                    {move || if show_archived.get() { "Archived projects" } else { "Active projects" }}
                </h2>
                <ListTabs show_archived />
            </div>
            <Transition fallback=|| view! { <p class="mt-4 text-sm text-stone-500">"Loading projects…"</p> }>
                {move || Suspend::new(async move {
                    match projects.await {
                        Ok(list) if list.is_empty() => {
                            let text = if show_archived.get_untracked() {
                                "No archived projects."
                            } else {
                                "No projects yet. Create your first one above."
                            };
                            view! { <p class="mt-4 text-sm text-stone-500">{text}</p> }.into_any()
                        }
                        Ok(list) => view! {
                            <ul class="mt-4 space-y-3" aria-label="Project list">
                                {list.into_iter().map(|p| view! { <ProjectRow project=p /> }).collect_view()}
                            </ul>
                        }
                        .into_any(),
                        Err(e) => view! { <div class="mt-4"><FormMessage message=Signal::stored(Some(e.to_string())) /></div> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn ListTabs(show_archived: Memo<bool>) -> impl IntoView {
    let tab = move |archived: bool| {
        move || {
            let current = show_archived.get() == archived;
            format!(
                "rounded-md px-3 py-1.5 text-sm focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-500 {}",
                if current {
                    "bg-stone-200 font-medium dark:bg-stone-800"
                } else {
                    "text-stone-600 hover:bg-stone-100 dark:text-stone-400 dark:hover:bg-stone-900"
                }
            )
        }
    };
    let current = move |archived: bool| move || (show_archived.get() == archived).then_some("page");
    view! {
        <nav aria-label="Which projects">
            <a href="/" class=tab(false) aria-current=current(false)>"Active"</a>
            <a href="/?show=archived" class=tab(true) aria-current=current(true)>"Archived"</a>
        </nav>
    }
}

#[component]
fn CreateProjectForm() -> impl IntoView {
    let changed = expect_context::<ProjectsChanged>();
    let create = ServerAction::<CreateProject>::new();
    let form = NodeRef::<html::Form>::new();
    let error = last_error(create);
    on_success(create, move || {
        if let Some(form) = form.get_untracked() {
            form.reset();
        }
        changed.notify();
    });

    view! {
        <section
            aria-labelledby="new-project-heading"
            class="rounded-lg border border-stone-200 bg-white p-4 shadow-sm dark:border-stone-800 dark:bg-stone-900"
        >
            <h2 id="new-project-heading" class="text-base font-semibold">"New project"</h2>
            <ActionForm action=create node_ref=form>
                <div class="mt-3 grid gap-x-4 gap-y-1 md:grid-cols-2">
                    <TextField
                        id="new-project-name".into()
                        name="name"
                        label="Name"
                        error=Signal::derive(move || error().and_then(|e| e.for_field("name")))
                    />
                    <TextArea
                        id="new-project-description".into()
                        name="description"
                        label="Description (optional)"
                        error=Signal::derive(move || error().and_then(|e| e.for_field("description")))
                    />
                    <div class="md:col-span-2 space-y-2">
                        <FormMessage message=Signal::derive(move || error().and_then(|e| e.general())) />
                        <button type="submit" class=button::primary() disabled=move || create.pending().get()>
                            "Create project"
                        </button>
                    </div>
                </div>
            </ActionForm>
        </section>
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum RowMode {
    View,
    Renaming,
    Describing,
    ConfirmingDelete,
}

#[component]
fn ProjectRow(project: ProjectDto) -> impl IntoView {
    let changed = expect_context::<ProjectsChanged>();
    let mode = RwSignal::new(RowMode::View);
    let rename = ServerAction::<RenameProject>::new();
    let describe = ServerAction::<UpdateProjectDescription>::new();
    let archive = ServerAction::<SetProjectArchived>::new();
    let delete = ServerAction::<DeleteProject>::new();
    let done = move || {
        mode.set(RowMode::View);
        changed.notify();
    };
    on_success(rename, done);
    on_success(describe, done);
    on_success(archive, done);
    on_success(delete, done);

    let name_input = NodeRef::<html::Input>::new();
    Effect::new(move |_| {
        if mode.get() == RowMode::Renaming {
            if let Some(input) = name_input.get() {
                let _ = input.focus();
                input.select();
            }
        }
    });

    let id = project.id;
    let archived = project.archived;
    let created = project.created_at.format("%-d %b %Y").to_string();
    let project = StoredValue::new(project);
    let name = move || project.with_value(|p| p.name.clone());
    let labelled = move |verb: &str| format!("{verb} {}", name());
    let cancel = move |_| mode.set(RowMode::View);
    let escape_cancels = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            mode.set(RowMode::View);
        }
    };
    let rename_error = last_error(rename);
    let describe_error = last_error(describe);
    let row_error = move || {
        last_error(archive)()
            .or_else(last_error(delete))
            .map(|e| e.to_string())
    };

    view! {
        <li
            class="rounded-lg border border-stone-200 bg-white p-4 shadow-sm dark:border-stone-800 dark:bg-stone-900"
            data-project-id=id
        >
            <div class="flex flex-wrap items-start justify-between gap-3">
                <div class="min-w-0">
                    <h3 class="truncate font-medium">{name()}</h3>
                    <p class="mt-0.5 text-sm text-stone-600 dark:text-stone-400">
                        {project.with_value(|p| if p.description.is_empty() { "No description".to_string() } else { p.description.clone() })}
                    </p>
                    <p class="mt-1 text-xs text-stone-500">"Created " {created} " · " {project.with_value(|p| p.slug.clone())}</p>
                </div>
                <Show when=move || mode.get() == RowMode::View>
                    <div class="flex flex-wrap gap-2">
                        <button type="button" class=button::secondary() aria-label=labelled("Rename") on:click=move |_| mode.set(RowMode::Renaming)>
                            "Rename"
                        </button>
                        <button type="button" class=button::secondary() aria-label=labelled("Edit description of") on:click=move |_| mode.set(RowMode::Describing)>
                            "Edit description"
                        </button>
                        <ActionForm action=archive>
                            <input type="hidden" name="id" value=id />
                            <input type="hidden" name="archived" value=(!archived).to_string() />
                            <button type="submit" class=button::secondary() aria-label=labelled(if archived { "Unarchive" } else { "Archive" })>
                                {if archived { "Unarchive" } else { "Archive" }}
                            </button>
                        </ActionForm>
                        <button type="button" class=button::secondary() aria-label=labelled("Delete") on:click=move |_| mode.set(RowMode::ConfirmingDelete)>
                            "Delete"
                        </button>
                    </div>
                </Show>
            </div>
            <div class="mt-2">
                <FormMessage message=Signal::derive(row_error) />
            </div>
            <Show when=move || mode.get() == RowMode::Renaming>
                <ActionForm action=rename>
                    <div class="mt-3 flex flex-wrap items-start gap-2" on:keydown=escape_cancels>
                        <input type="hidden" name="id" value=id />
                        <div class="min-w-64 flex-1">
                            <TextField
                                id=format!("rename-{id}")
                                name="name"
                                label="New name"
                                value=name()
                                node_ref=name_input
                                error=Signal::derive(move || rename_error().and_then(|e| e.for_field("name").or(e.general())))
                            />
                        </div>
                        <div class="mt-6 flex gap-2">
                            <button type="submit" class=button::primary()>"Save name"</button>
                            <button type="button" class=button::secondary() on:click=cancel>"Cancel"</button>
                        </div>
                    </div>
                </ActionForm>
            </Show>
            <Show when=move || mode.get() == RowMode::Describing>
                <ActionForm action=describe>
                    <div class="mt-3 space-y-2" on:keydown=escape_cancels>
                        <input type="hidden" name="id" value=id />
                        <TextArea
                            id=format!("describe-{id}")
                            name="description"
                            label="Description"
                            value=project.with_value(|p| p.description.clone())
                            rows=3
                            error=Signal::derive(move || describe_error().and_then(|e| e.for_field("description").or(e.general())))
                        />
                        <div class="flex gap-2">
                            <button type="submit" class=button::primary()>"Save description"</button>
                            <button type="button" class=button::secondary() on:click=cancel>"Cancel"</button>
                        </div>
                    </div>
                </ActionForm>
            </Show>
            <Show when=move || mode.get() == RowMode::ConfirmingDelete>
                <div role="alertdialog" aria-label="Confirm deletion" class="mt-3 flex flex-wrap items-center gap-2 rounded-md bg-red-50 p-3 text-sm dark:bg-red-950" on:keydown=escape_cancels>
                    <p class="flex-1">"Delete “" {name()} "”? This cannot be undone."</p>
                    <ActionForm action=delete>
                        <input type="hidden" name="id" value=id />
                        <button type="submit" class=button::danger()>"Delete project"</button>
                    </ActionForm>
                    <button type="button" class=button::secondary() on:click=cancel>"Keep it"</button>
                </div>
            </Show>
            {(!archived).then(|| view! { <ProjectBudget project_id=id name=name() /> })}
        </li>
    }
}
