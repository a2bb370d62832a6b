//! `/characters/:id`: one character's sheet. Lock fields and reroll the rest, change a locked
//! class, level, ancestry or alignment (everything derived from it follows, nothing else
//! moves), make portraits, print, download as PDF or JSON, duplicate, delete.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};
use leptos_router::NavigateOptions;

use crate::api::characters::{
    delete_character, duplicate_character, get_character, regenerate_character,
};
use crate::components::button;
use crate::components::character_portraits::Portraits;
use crate::components::character_sheet::{Attribution, Sheet};
use crate::components::field::{FormMessage, INPUT, LABEL};
use crate::dto::characters::{Alignment, Ancestry, CharacterClass};
use crate::dto::{CharacterDto, CharacterLocks};
use crate::error::AppError;

#[component]
pub fn CharacterPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok())));
    let character = Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => get_character(id).await,
                None => Err(AppError::NotFound(
                    "That is not a character address.".into(),
                )),
            }
        },
    );
    view! {
        <Transition fallback=|| view! { <p class="text-sm text-stone-500">"Loading…"</p> }>
            {move || character.get().map(|r| match r {
                Err(e) => view! {
                    <Title text="Character" />
                    <FormMessage message=Signal::stored(Some(e.to_string())) />
                    <p class="mt-2"><a href="/characters" class="text-indigo-700 underline dark:text-indigo-300">"All characters"</a></p>
                }.into_any(),
                Ok(c) => view! { <CharacterView initial=c /> }.into_any(),
            })}
        </Transition>
    }
}

/// The fields a person can lock, with how to take each from the sheet.
const LOCKABLE: &[(&str, &str)] = &[
    ("name", "Name"),
    ("level", "Level"),
    ("ancestry", "Ancestry"),
    ("class", "Class"),
    ("background", "Background"),
    ("alignment", "Alignment"),
    ("scores", "Ability scores"),
    ("hp", "Hit point method"),
    ("personality", "Personality"),
    ("appearance", "Appearance"),
];

fn is_locked(locks: &CharacterLocks, field: &str) -> bool {
    match field {
        "name" => locks.name.is_some(),
        "level" => locks.level.is_some(),
        "ancestry" => locks.ancestry.is_some(),
        "class" => locks.class.is_some(),
        "background" => locks.background.is_some(),
        "alignment" => locks.alignment.is_some(),
        "scores" => locks.base_scores.is_some(),
        "hp" => locks.hp_method.is_some(),
        "personality" => locks.personality.is_some(),
        "appearance" => locks.appearance.is_some(),
        _ => false,
    }
}

/// `locks` with `field` locked to what `c` has now, or unlocked.
fn set_lock(c: &CharacterDto, field: &str, on: bool) -> CharacterLocks {
    let s = &c.sheet;
    let mut l = c.locks.clone();
    match field {
        "name" => l.name = on.then(|| s.name.clone()),
        "level" => l.level = on.then_some(s.level),
        "ancestry" => l.ancestry = on.then_some(s.ancestry),
        "class" => l.class = on.then_some(s.class),
        "background" => l.background = on.then(|| s.background.clone()),
        "alignment" => l.alignment = on.then_some(s.alignment),
        "scores" => {
            l.base_scores = on.then_some(s.base_scores);
            l.method = on.then_some(s.method);
        }
        "hp" => l.hp_method = on.then_some(s.hp_method),
        "personality" => l.personality = on.then(|| s.personality.clone()),
        "appearance" => l.appearance = on.then(|| s.appearance.clone()),
        _ => {}
    }
    l
}

/// A select's handler: its choice among `all` (each option's value is its index), put into the
/// character's locks by `lock`, then `relock`ed.
fn on_choice<T: Copy + 'static>(
    all: &'static [T],
    lock: fn(&mut CharacterLocks, T),
    character: RwSignal<CharacterDto>,
    relock: impl Fn(CharacterLocks) + Copy + 'static,
) -> impl Fn(leptos::ev::Event) + Copy + 'static {
    move |ev| {
        if let Some(value) = event_target_value(&ev)
            .parse::<usize>()
            .ok()
            .and_then(|i| all.get(i).copied())
        {
            let mut locks = character.with_untracked(|c| c.locks.clone());
            lock(&mut locks, value);
            relock(locks);
        }
    }
}

#[component]
fn CharacterView(initial: CharacterDto) -> impl IntoView {
    let id = initial.id;
    let project_id = initial.project_id;
    let character = RwSignal::new(initial);
    let error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let confirm_delete = RwSignal::new(false);
    let navigate = use_navigate();

    // Makes the character again from `seed` (a new one when `None`: a reroll) and `locks`.
    let apply = move |seed: Option<u64>, locks: CharacterLocks| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            let made = regenerate_character(id, seed, locks).await;
            busy.set(false);
            match made {
                Ok(c) => {
                    error.set(None);
                    character.set(c);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let same_seed = move || Some(character.with_untracked(|c| c.seed));
    let relock = move |locks: CharacterLocks| apply(same_seed(), locks);
    let change_class = on_choice(
        CharacterClass::ALL,
        |l, v| l.class = Some(v),
        character,
        relock,
    );
    let change_ancestry = on_choice(
        Ancestry::ALL,
        |l, v| l.ancestry = Some(v),
        character,
        relock,
    );
    let change_alignment = on_choice(
        Alignment::ALL,
        |l, v| l.alignment = Some(v),
        character,
        relock,
    );
    let change_level = move |ev: leptos::ev::Event| {
        if let Ok(level) = event_target_value(&ev).parse::<u32>() {
            let locks = CharacterLocks {
                level: Some(level),
                ..character.with_untracked(|c| c.locks.clone())
            };
            apply(same_seed(), locks);
        }
    };
    let reroll = move |_| apply(None, character.with_untracked(|c| c.locks.clone()));
    let duplicate = {
        let navigate = navigate.clone();
        move |_| {
            let navigate = navigate.clone();
            leptos::task::spawn_local(async move {
                match duplicate_character(id).await {
                    Ok(copy) => navigate(
                        &format!("/characters/{}", copy.id),
                        NavigateOptions::default(),
                    ),
                    Err(e) => error.set(Some(e)),
                }
            });
        }
    };
    let delete = move |_| {
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match delete_character(id).await {
                Ok(()) => navigate(
                    &format!("/characters?project={project_id}"),
                    NavigateOptions::default(),
                ),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let print = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(window) = web_sys::window() {
            let _ = window.print();
        }
    };

    view! {
        {move || character.with(|c| view! { <Title text=c.sheet.name.clone() /> })}
        <p class="text-sm print:hidden">
            <a href=format!("/characters?project={project_id}") class="text-indigo-700 underline dark:text-indigo-300">"All characters"</a>
        </p>
        {move || character.with(|c| {
            let s = &c.sheet;
            let ancestry = s.subrace.clone().unwrap_or_else(|| s.ancestry_name.clone());
            view! {
                <h1 class="mt-2 text-3xl font-semibold tracking-tight" data-character-name>{s.name.clone()}</h1>
                <p class="text-stone-700 dark:text-stone-300" data-character-line>
                    {format!("Level {} {} {} · {} · {}", s.level, ancestry, s.class_name, s.background, s.alignment.label())}
                </p>
                <p class="text-xs text-stone-500" data-character-seed>{format!("Seed {} · generator version {}", c.seed, s.generator)}</p>
            }
        })}
        <div class="mt-3 flex flex-wrap gap-2 print:hidden" role="group" aria-label="Character actions">
            <button type="button" class=button::primary() disabled=move || busy.get() on:click=reroll>"Reroll unlocked"</button>
            <button type="button" class=button::secondary() on:click=duplicate>"Duplicate"</button>
            <button type="button" class=button::secondary() on:click=print>"Print"</button>
            <a class=button::secondary() href=format!("/api/v1/characters/{id}/sheet.pdf") download>"Download PDF"</a>
            <a class=button::secondary() href=format!("/api/v1/characters/{id}/sheet.json") download>"Download JSON"</a>
            <button type="button" class=button::danger() on:click=move |_| confirm_delete.set(true)>"Delete…"</button>
        </div>
        {move || confirm_delete.get().then(|| {
            let delete = delete.clone();
            view! {
                <div class="mt-2 flex items-center gap-2 rounded-md bg-red-50 p-3 text-sm print:hidden dark:bg-red-950" role="alert">
                    <span>{character.with_untracked(|c| format!("Delete {}? Its portraits stay in the gallery.", c.sheet.name))}</span>
                    <button type="button" class=button::danger() on:click=delete>"Delete"</button>
                    <button type="button" class=button::secondary() on:click=move |_| confirm_delete.set(false)>"Keep"</button>
                </div>
            }
        })}
        <FormMessage message=Signal::derive(move || error.get().map(|e| e.to_string())) />

        <details class="mt-4 rounded-lg border border-stone-200 p-3 print:hidden dark:border-stone-800" open>
            <summary class="cursor-pointer font-semibold">"Locks"</summary>
            <p class="mt-1 text-sm text-stone-600 dark:text-stone-400">
                "A locked field stays when you reroll. Changing the class, level, ancestry or alignment keeps the seed: what derives from it changes, nothing else."
            </p>
            <fieldset class="mt-2">
                <legend class="sr-only">"Locked fields"</legend>
                <div class="flex flex-wrap gap-x-4 gap-y-1">
                    {LOCKABLE.iter().map(|(field, label)| {
                        let field = *field;
                        let input_id = format!("lock-{field}");
                        view! {
                            <div class="flex items-center gap-1">
                                <input type="checkbox" id=input_id.clone() class="h-4 w-4"
                                    prop:checked=move || character.with(|c| is_locked(&c.locks, field))
                                    disabled=move || busy.get()
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        let locks = character.with_untracked(|c| set_lock(c, field, on));
                                        apply(same_seed(), locks);
                                    } />
                                <label for=input_id class="text-sm">{*label}</label>
                            </div>
                        }
                    }).collect_view()}
                </div>
            </fieldset>
            <div class="mt-3 grid grid-cols-2 gap-3 sm:grid-cols-4">
                <div>
                    <label for="change-class" class=LABEL>"Class"</label>
                    <select id="change-class" class=INPUT on:change=change_class disabled=move || busy.get()>
                        {move || character.with(|c| CharacterClass::ALL.iter().enumerate().map(|(i, v)| {
                            view! { <option value=i.to_string() selected=*v == c.sheet.class>{v.label()}</option> }
                        }).collect_view())}
                    </select>
                </div>
                <div>
                    <label for="change-level" class=LABEL>"Level"</label>
                    <select id="change-level" class=INPUT on:change=change_level disabled=move || busy.get()>
                        {move || character.with(|c| (1..=5u32).map(|l| {
                            view! { <option value=l.to_string() selected=l == c.sheet.level>{l.to_string()}</option> }
                        }).collect_view())}
                    </select>
                </div>
                <div>
                    <label for="change-ancestry" class=LABEL>"Ancestry"</label>
                    <select id="change-ancestry" class=INPUT on:change=change_ancestry disabled=move || busy.get()>
                        {move || character.with(|c| Ancestry::ALL.iter().enumerate().map(|(i, v)| {
                            view! { <option value=i.to_string() selected=*v == c.sheet.ancestry>{v.label()}</option> }
                        }).collect_view())}
                    </select>
                </div>
                <div>
                    <label for="change-alignment" class=LABEL>"Alignment"</label>
                    <select id="change-alignment" class=INPUT on:change=change_alignment disabled=move || busy.get()>
                        {move || character.with(|c| Alignment::ALL.iter().enumerate().map(|(i, v)| {
                            view! { <option value=i.to_string() selected=*v == c.sheet.alignment>{v.label()}</option> }
                        }).collect_view())}
                    </select>
                </div>
            </div>
        </details>

        {move || view! { <Sheet sheet=character.get().sheet /> }}
        <Portraits character_id=id />
        <Attribution />
    }
}
