//! The gallery's selection bar: what is selected and what can be done to it all at once (rate
//! and tag by key, move, reject, delete or restore, export), the compare set, and the tag form
//! T opens.

use std::collections::HashSet;

use leptos::html;
use leptos::prelude::*;

use crate::api::gallery::{suggest_tags, triage};
use crate::components::button;
use crate::dto::TriageAction;

/// A bulk action: what to do, the message once done, and what undoes it.
pub type Bulk = (TriageAction, &'static str, Option<TriageAction>);

#[component]
pub fn SelectionBar(
    selected: RwSignal<HashSet<i64>>,
    compare: RwSignal<Vec<i64>>,
    /// The trash view: a selection is restored instead of deleted.
    trash: bool,
    bulk: Callback<Bulk>,
) -> impl IntoView {
    let projects = LocalResource::new(|| crate::api::projects::list_projects(false));
    let run = move |action: TriageAction, message: &'static str, inverse: Option<TriageAction>| {
        bulk.run((action, message, inverse))
    };
    view! {
        {move || {
            let n = selected.get().len();
            let ids = selected.with(|s| {
                let mut ids: Vec<i64> = s.iter().copied().collect();
                ids.sort_unstable();
                ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
            });
            (n > 0).then(|| view! {
                <span data-selection>{format!("{n} selected:")}</span>
                <span class="text-stone-600 dark:text-stone-400">"0–5 rate them, T tags them."</span>
                <label for="gallery-move" class="sr-only">"Move the selection to a project"</label>
                <select id="gallery-move" class="rounded-md border border-stone-300 px-2 py-1 dark:border-stone-700 dark:bg-stone-900"
                    on:change=move |ev| {
                        if let Ok(project) = event_target_value(&ev).parse::<i64>() {
                            run(TriageAction::MoveTo(project), "Moved.", None);
                        }
                    }>
                    <option value="">"Move to project…"</option>
                    {move || projects.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|p| view! {
                        <option value=p.id.to_string()>{p.name}</option>
                    }).collect_view()}
                </select>
                <button type="button" class=button::secondary() on:click=move |_| run(TriageAction::Reject(true), "Rejected.", Some(TriageAction::Reject(false)))>"Reject"</button>
                {if trash {
                    view! { <button type="button" class=button::secondary() on:click=move |_| run(TriageAction::Trash(false), "Restored.", Some(TriageAction::Trash(true)))>"Restore"</button> }.into_any()
                } else {
                    view! { <button type="button" class=button::secondary() on:click=move |_| run(TriageAction::Trash(true), "Moved to the trash.", Some(TriageAction::Trash(false)))>"Delete"</button> }.into_any()
                }}
                // A form, so that the browser downloads the archive as it is made.
                <form method="post" action="/exports/archive.zip" class="inline" data-export-selection>
                    <input type="hidden" name="ids" value=ids />
                    <button type="submit" class=button::secondary()>"Export"</button>
                </form>
            })
        }}
        {move || {
            let ids = compare.get();
            (!ids.is_empty()).then(|| {
                let list = ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
                view! {
                    <span data-compare-set>{format!("Compare set: {}", ids.len())}</span>
                    {(ids.len() >= 2).then(|| view! {
                        <a class=button::secondary() href=format!("/compare?ids={list}")>"Compare"</a>
                    })}
                }
            })
        }}
    }
}

/// The tag form T opens for `ids`: a name with autocomplete; Enter tags them, Escape closes.
#[component]
pub fn TagForm(
    ids: Vec<i64>,
    /// How many were tagged, with what, and which (for the Undo).
    on_tagged: Callback<(usize, String, Vec<i64>)>,
    on_error: Callback<String>,
    /// Closes the form (and gives the grid its focus back).
    on_close: Callback<()>,
) -> impl IntoView {
    let count = ids.len();
    let ids = StoredValue::new(ids);
    let text = RwSignal::new(String::new());
    let suggestions = RwSignal::new(Vec::<(String, i64)>::new());
    let input = NodeRef::<html::Input>::new();
    Effect::new(move |_| {
        if let Some(el) = input.get() {
            let _ = el.focus();
        }
    });
    view! {
        <form class="mt-2 flex items-end gap-2" data-tag-form
            on:submit=move |ev| {
                ev.prevent_default();
                let name = text.get_untracked();
                let ids = ids.get_value();
                on_close.run(());
                leptos::task::spawn_local(async move {
                    match triage(ids.clone(), TriageAction::Tag(name.clone())).await {
                        Ok(n) => on_tagged.run((n, name, ids)),
                        Err(e) => on_error.run(e.to_string()),
                    }
                });
            }>
            <div>
                <label for="gallery-add-tag" class="block text-sm font-medium">{format!("Tag for {count} product{}", if count == 1 { "" } else { "s" })}</label>
                <input id="gallery-add-tag" node_ref=input list="gallery-tag-suggestions" autocomplete="off"
                    class="mt-1 rounded-md border border-stone-300 px-2 py-1 dark:border-stone-700 dark:bg-stone-900"
                    prop:value=move || text.get()
                    on:input=move |ev| {
                        let typed = event_target_value(&ev);
                        text.set(typed.clone());
                        leptos::task::spawn_local(async move {
                            if let Ok(list) = suggest_tags(typed).await {
                                suggestions.set(list);
                            }
                        });
                    }
                    on:keydown=move |ev| {
                        if ev.key() == "Escape" {
                            on_close.run(());
                        }
                    } />
                <datalist id="gallery-tag-suggestions">
                    {move || suggestions.get().into_iter().map(|(name, n)| view! {
                        <option value=name.clone()>{format!("{name} ({n})")}</option>
                    }).collect_view()}
                </datalist>
            </div>
            <button type="submit" class=button::primary()>"Add tag"</button>
        </form>
    }
}
