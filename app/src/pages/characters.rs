//! `/characters`: a project's characters, searched by name, and new ones: one from a seed with
//! any fields fixed, or a balanced party from one seed.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::api::characters::{create_character, create_party, list_characters};
use crate::components::button;
use crate::components::character_sheet::Attribution;
use crate::components::field::{FieldError, FormMessage, INPUT, LABEL};
use crate::components::project_select::ProjectSelect;
use crate::dto::characters::{Alignment, Ancestry, CharacterClass, ScoreMethod};
use crate::dto::CharacterLocks;
use crate::error::AppError;

/// A `<select>` of "Any" and every value of a wire enum; the option's value is its index.
#[component]
fn AnySelect<T: Copy + Send + Sync + 'static>(
    id: &'static str,
    label: &'static str,
    all: &'static [T],
    name: fn(T) -> String,
    chosen: RwSignal<Option<T>>,
) -> impl IntoView {
    view! {
        <div>
            <label for=id class=LABEL>{label}</label>
            <select id=id class=INPUT on:change=move |ev| {
                let value = event_target_value(&ev);
                chosen.set(value.parse::<usize>().ok().and_then(|i| all.get(i).copied()));
            }>
                <option value="">"Any"</option>
                {all.iter().enumerate().map(|(i, v)| view! { <option value=i.to_string()>{name(*v)}</option> }).collect_view()}
            </select>
        </div>
    }
}

#[component]
pub fn CharactersPage() -> impl IntoView {
    let query = use_query_map();
    let asked = query.with_untracked(|q| q.get("project"));
    let project = RwSignal::new(asked.unwrap_or_default());
    let search = RwSignal::new(String::new());
    let version = RwSignal::new(0u32);
    let characters = Resource::new(
        move || (project.get(), search.get(), version.get()),
        |(project, search, _)| async move {
            match project.parse::<i64>() {
                Ok(id) => list_characters(id, Some(search).filter(|s| !s.trim().is_empty())).await,
                Err(_) => Ok(Vec::new()),
            }
        },
    );

    let seed = RwSignal::new(String::new());
    let class = RwSignal::new(None::<CharacterClass>);
    let ancestry = RwSignal::new(None::<Ancestry>);
    let alignment = RwSignal::new(None::<Alignment>);
    let method = RwSignal::new(None::<ScoreMethod>);
    let level = RwSignal::new(String::new());
    let party_size = RwSignal::new("4".to_string());
    let error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let navigate = use_navigate();

    let locks = move || CharacterLocks {
        class: class.get_untracked(),
        ancestry: ancestry.get_untracked(),
        alignment: alignment.get_untracked(),
        method: method.get_untracked(),
        level: level.get_untracked().parse().ok(),
        ..CharacterLocks::default()
    };
    let parsed_seed = move || -> Result<Option<u64>, AppError> {
        let text = seed.get_untracked();
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        text.parse::<u64>().map(Some).map_err(|_| {
            AppError::invalid(
                "seed",
                "A seed is a whole number (0 or more); leave it empty for a new one.",
            )
        })
    };
    // The project and the seed the form names, or what is wrong with them.
    let target = move || -> Result<(i64, Option<u64>), AppError> {
        let project_id = project
            .get_untracked()
            .parse::<i64>()
            .map_err(|_| AppError::invalid("project", "Choose a project first."))?;
        Ok((project_id, parsed_seed()?))
    };
    let generate = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (project_id, seed) = match target() {
            Ok(target) => target,
            Err(e) => return error.set(Some(e)),
        };
        let locks = locks();
        let navigate = navigate.clone();
        busy.set(true);
        leptos::task::spawn_local(async move {
            let made = create_character(project_id, seed, locks).await;
            busy.set(false);
            match made {
                Ok(c) => navigate(&format!("/characters/{}", c.id), NavigateOptions::default()),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let make_party = move |_| {
        let (project_id, seed) = match target() {
            Ok(target) => target,
            Err(e) => return error.set(Some(e)),
        };
        let Ok(size) = party_size.get_untracked().trim().parse::<usize>() else {
            error.set(Some(AppError::invalid(
                "size",
                "A party has 1 to 12 members.",
            )));
            return;
        };
        // The party chooses its own classes.
        let locks = CharacterLocks {
            class: None,
            ..locks()
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let made = create_party(project_id, seed, size, locks).await;
            busy.set(false);
            match made {
                Ok(_) => {
                    error.set(None);
                    search.set(String::new());
                    version.update(|v| *v += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let field_error = move |field: &'static str| {
        Signal::derive(move || error.get().and_then(|e| e.for_field(field)))
    };

    view! {
        <Title text="Characters" />
        <h1 class="text-2xl font-semibold tracking-tight">"Characters"</h1>
        <p class="mt-1 text-sm text-stone-600 dark:text-stone-400">
            "Fantasy characters on the SRD 5.1 rules, made from a seed: the same seed and fixed fields always make the same character, with a sheet, a roll log and portraits that keep the face."
        </p>
        <div class="mt-4 flex flex-wrap items-end gap-4">
            <div class="max-w-xs">
                <ProjectSelect id="characters-project" project />
            </div>
            <div class="max-w-xs grow">
                <label for="characters-search" class=LABEL>"Search by name"</label>
                <input id="characters-search" type="search" class=INPUT placeholder="Vel"
                    prop:value=move || search.get()
                    on:input=move |ev| search.set(event_target_value(&ev)) />
            </div>
        </div>

        <section aria-labelledby="new-character-heading" class="mt-6 rounded-lg border border-stone-200 p-4 dark:border-stone-800">
            <h2 id="new-character-heading" class="font-semibold">"New character"</h2>
            <p class="text-sm text-stone-600 dark:text-stone-400">"Fix any of these; the seed decides the rest."</p>
            <form class="mt-3 grid grid-cols-2 gap-3 sm:grid-cols-3" on:submit=generate>
                <div>
                    <label for="new-seed" class=LABEL>"Seed"</label>
                    <input id="new-seed" class=INPUT inputmode="numeric" placeholder="new each time"
                        aria-describedby="new-seed-error" bind:value=seed />
                    <FieldError id="new-seed-error".into() error=field_error("seed") />
                </div>
                <div>
                    <label for="new-level" class=LABEL>"Level"</label>
                    <select id="new-level" class=INPUT on:change=move |ev| level.set(event_target_value(&ev))>
                        <option value="">"Any"</option>
                        {(1..=5).map(|l| view! { <option value=l.to_string()>{l.to_string()}</option> }).collect_view()}
                    </select>
                </div>
                <AnySelect id="new-class" label="Class" all=CharacterClass::ALL name=CharacterClass::label chosen=class />
                <AnySelect id="new-ancestry" label="Ancestry" all=Ancestry::ALL name=Ancestry::label chosen=ancestry />
                <AnySelect id="new-alignment" label="Alignment" all=Alignment::ALL name=Alignment::label chosen=alignment />
                <AnySelect id="new-method" label="Ability scores" all=ScoreMethod::ALL name=ScoreMethod::label chosen=method />
                <div class="col-span-full flex flex-wrap items-end gap-3">
                    <button type="submit" class=button::primary() disabled=move || busy.get()>"Generate character"</button>
                    <span class="text-sm text-stone-500">"or"</span>
                    <div>
                        <label for="party-size" class=LABEL>"Party size"</label>
                        <input id="party-size" class=INPUT type="number" min="1" max="12" bind:value=party_size
                            aria-describedby="party-size-error" />
                    </div>
                    <button type="button" class=button::secondary() disabled=move || busy.get() on:click=make_party>
                        "Generate party"
                    </button>
                    <div class="w-full">
                        <FieldError id="party-size-error".into() error=field_error("size") />
                        <FormMessage message=Signal::derive(move || error.get().and_then(|e| {
                            (e.for_field("seed").is_none() && e.for_field("size").is_none()).then(|| e.to_string())
                        })) />
                    </div>
                </div>
            </form>
        </section>

        <ul class="mt-6 divide-y divide-stone-200 dark:divide-stone-800" aria-label="Characters">
            <Transition fallback=|| ()>
                {move || characters.get().map(|r| match r {
                    Err(e) => view! { <li><FormMessage message=Signal::stored(Some(e.to_string())) /></li> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <li class="py-2 text-sm text-stone-600 dark:text-stone-400">
                            {if search.get_untracked().trim().is_empty() { "No characters in this project yet." } else { "No character's name holds that." }}
                        </li>
                    }.into_any(),
                    Ok(list) => list.into_iter().map(|c| view! {
                        <li class="py-2">
                            <a href=format!("/characters/{}", c.id) class="font-medium text-indigo-700 underline dark:text-indigo-300">{c.name.clone()}</a>
                            <span class="ml-2 text-sm text-stone-600 dark:text-stone-400">
                                {format!("Level {} {} {}", c.level, c.ancestry, c.class)}
                            </span>
                        </li>
                    }).collect_view().into_any(),
                })}
            </Transition>
        </ul>
        <Attribution />
    }
}
