//! The "Project" chooser of pages that work in one project at a time: every open project, the
//! first one chosen once they are known when none was asked for.

use leptos::prelude::*;

use crate::api::projects::list_projects;
use crate::components::field::{INPUT, LABEL};

/// `project` holds the chosen project's id as text (empty until one is known).
#[component]
pub fn ProjectSelect(id: &'static str, project: RwSignal<String>) -> impl IntoView {
    let projects = Resource::new(|| (), |_| list_projects(false));
    Effect::new(move |_| {
        if project.get_untracked().is_empty() {
            if let Some(Ok(ps)) = projects.get() {
                if let Some(first) = ps.first() {
                    project.set(first.id.to_string());
                }
            }
        }
    });
    view! {
        <label for=id class=LABEL>"Project"</label>
        <select id=id class=INPUT on:change=move |ev| project.set(event_target_value(&ev))>
            <Suspense fallback=|| ()>
                {move || projects.get().and_then(Result::ok).map(|ps| ps.into_iter().map(|p| {
                    let value = p.id.to_string();
                    let chosen = project.get_untracked() == value;
                    view! { <option value=value selected=chosen>{p.name}</option> }
                }).collect_view())}
            </Suspense>
        </select>
    }
}
