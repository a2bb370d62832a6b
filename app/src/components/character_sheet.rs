//! A character sheet laid out like the familiar paper one: abilities, saves and skills, the
//! combat block, equipment, features, spells, personality, appearance, backstory and the roll
//! log. Print styles hide the app around it and keep sections whole on a page.

use leptos::prelude::*;

use crate::dto::characters::{AbilityName, Item, SkillSource, Spell};
use crate::dto::CharacterSheet;

/// The SRD's licence asks for this wherever its material is shown.
/// (One text for the app, the PDF and the API: the factory's file, which the wasm build cannot
/// reach through the factory crate.)
pub const SRD_ATTRIBUTION: &str =
    include_str!("../../../factory/src/characters/data/srd-attribution.txt");

#[component]
pub fn Attribution() -> impl IntoView {
    view! {
        <footer class="mt-8 border-t border-stone-200 pt-3 text-xs text-stone-600 dark:border-stone-800 dark:text-stone-400" data-attribution>
            <p>{SRD_ATTRIBUTION}</p>
        </footer>
    }
}

/// `+2`, `−1`, `+0`.
pub fn signed(n: i32) -> String {
    if n < 0 {
        format!("−{}", -n)
    } else {
        format!("+{n}")
    }
}

fn ability_short(a: AbilityName) -> String {
    a.label().to_uppercase()
}

fn ability_name(a: AbilityName) -> &'static str {
    match a {
        AbilityName::Str => "Strength",
        AbilityName::Dex => "Dexterity",
        AbilityName::Con => "Constitution",
        AbilityName::Int => "Intelligence",
        AbilityName::Wis => "Wisdom",
        AbilityName::Cha => "Charisma",
    }
}

fn item_label(item: &Item) -> String {
    use crate::dto::characters::ArmorName;
    match item {
        Item::Armor {
            armor: ArmorName::Leather,
        } => "Leather armour".into(),
        Item::Armor {
            armor: ArmorName::ScaleMail,
        } => "Scale mail".into(),
        Item::Armor {
            armor: ArmorName::ChainMail,
        } => "Chain mail".into(),
        Item::Shield => "Shield".into(),
        Item::Gear { name } => name.clone(),
    }
}

fn spell_list(spells: &[Spell]) -> String {
    spells
        .iter()
        .map(|s| match &s.from {
            Some(from) => format!("{} ({from})", s.name),
            None => s.name.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

const SECTION: &str = "break-inside-avoid rounded-lg border border-stone-300 p-3 dark:border-stone-700 print:border-stone-400";
const HEADING: &str = "mb-2 text-sm font-semibold uppercase tracking-wide text-stone-600 dark:text-stone-300 print:text-stone-700";

#[component]
pub fn Sheet(sheet: CharacterSheet) -> impl IntoView {
    let c = sheet;
    let abilities = AbilityName::ALL
        .iter()
        .enumerate()
        .map(|(i, a)| {
            view! {
                <div class="rounded-lg border border-stone-300 p-2 text-center dark:border-stone-700 print:border-stone-400" data-ability=ability_short(*a)>
                    <div class="text-xs font-medium uppercase text-stone-600 dark:text-stone-400">{ability_name(*a)}</div>
                    <div class="text-2xl font-semibold">{c.scores[i]}</div>
                    <div class="text-sm">{signed(c.modifiers[i])}</div>
                </div>
            }
        })
        .collect_view();
    let saves = c
        .saves
        .iter()
        .map(|s| {
            let mark = if s.proficient { "●" } else { "○" };
            let label = if s.proficient {
                "proficient"
            } else {
                "not proficient"
            };
            view! {
                <li class="flex gap-2">
                    <span aria-label=label>{mark}</span>
                    <span class="w-8 text-right tabular-nums">{signed(s.bonus)}</span>
                    <span>{ability_name(s.ability)}</span>
                </li>
            }
        })
        .collect_view();
    let skills = c
        .skills
        .iter()
        .map(|s| {
            let (mark, label) = match (s.source, s.expertise) {
                (Some(_), true) => ("◉", "expertise"),
                (Some(_), false) => ("●", "proficient"),
                (None, _) => ("○", "not proficient"),
            };
            let from = match s.source {
                Some(SkillSource::Ancestry) => " · ancestry",
                Some(SkillSource::Background) => " · background",
                Some(SkillSource::Class) => " · class",
                Some(SkillSource::Free) => " · chosen",
                None => "",
            };
            view! {
                <li class="flex gap-2">
                    <span aria-label=label>{mark}</span>
                    <span class="w-8 text-right tabular-nums">{signed(s.bonus)}</span>
                    <span>{s.skill.label()}<span class="text-stone-500">{format!(" ({}){from}", ability_short(s.ability))}</span></span>
                </li>
            }
        })
        .collect_view();
    let combat = [
        ("Armour class", c.armor_class.to_string()),
        ("Hit points", c.hit_points.to_string()),
        ("Hit dice", format!("{}d{}", c.level, c.hit_die)),
        ("Initiative", signed(c.initiative)),
        ("Speed", format!("{} ft", c.speed)),
        ("Proficiency bonus", signed(c.proficiency_bonus)),
        ("Passive Perception", c.passive_perception.to_string()),
        ("Size", c.size.label()),
        (
            "Darkvision",
            match c.darkvision {
                0 => "none".into(),
                feet => format!("{feet} ft"),
            },
        ),
    ]
    .into_iter()
    .map(|(label, value)| {
        view! {
            <div class="flex justify-between gap-2 border-b border-stone-100 py-0.5 dark:border-stone-800">
                <dt class="text-stone-600 dark:text-stone-400">{label}</dt>
                <dd class="font-medium tabular-nums">{value}</dd>
            </div>
        }
    })
    .collect_view();
    let equipment = c
        .equipment
        .iter()
        .map(|i| view! { <li>{item_label(i)}</li> })
        .collect_view();
    let features = c
        .features
        .iter()
        .map(|f| {
            view! {
                <li><span class="font-medium">{f.name.clone()}</span>
                    <span class="text-stone-500">{format!(" ({}). ", f.source)}</span>{f.text.clone()}</li>
            }
        })
        .collect_view();
    let spells = c.spellcasting.clone().map(|s| {
        let slots = s
            .slots
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| format!("level {}: {n}", i + 1))
            .collect::<Vec<_>>()
            .join(", ");
        let known = if s.prepares { "Prepared" } else { "Known" };
        view! {
            <section class=SECTION aria-labelledby="sheet-spells">
                <h2 id="sheet-spells" class=HEADING>"Spellcasting"</h2>
                <dl class="grid grid-cols-[8rem_1fr] gap-x-3 gap-y-1 text-sm">
                    <dt class="text-stone-600 dark:text-stone-400">"Ability"</dt>
                    <dd>{format!("{} · save DC {} · attack {}", ability_name(s.ability), s.save_dc, signed(s.attack_bonus))}</dd>
                    <dt class="text-stone-600 dark:text-stone-400">"Slots"</dt><dd data-slots>{slots}</dd>
                    {(!s.cantrips.is_empty()).then(|| view! { <dt class="text-stone-600 dark:text-stone-400">"Cantrips"</dt><dd>{spell_list(&s.cantrips)}</dd> })}
                    {(!s.spells.is_empty()).then(|| view! { <dt class="text-stone-600 dark:text-stone-400">{known}</dt><dd>{spell_list(&s.spells)}</dd> })}
                    {(!s.always.is_empty()).then(|| view! { <dt class="text-stone-600 dark:text-stone-400">"Always prepared"</dt><dd>{spell_list(&s.always)}</dd> })}
                    {(!s.spellbook.is_empty()).then(|| view! { <dt class="text-stone-600 dark:text-stone-400">"Spellbook"</dt><dd>{spell_list(&s.spellbook)}</dd> })}
                </dl>
            </section>
        }
    });
    let p = c.personality.clone();
    let a = c.appearance.clone();
    let appearance = [
        ("Age", format!("{} years", a.age)),
        ("Height", format!("{} ft {} in", a.height_in / 12, a.height_in % 12)),
        ("Build", a.build),
        ("Skin", a.skin),
        ("Hair", a.hair),
        ("Eyes", a.eyes),
        ("Mark", a.mark),
        ("Clothing", a.clothing),
    ]
    .into_iter()
    .map(|(label, value)| view! { <dt class="text-stone-600 dark:text-stone-400">{label}</dt><dd>{value}</dd> })
    .collect_view();
    let rolls = c
        .rolls
        .iter()
        .map(|r| {
            let dice = r
                .rolls
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            view! {
                <tr class="border-b border-stone-100 dark:border-stone-800">
                    <td class="py-0.5 pr-3">{r.what.clone()}</td>
                    <td class="pr-3 text-stone-600 dark:text-stone-400">{r.dice.clone()}</td>
                    <td class="pr-3 tabular-nums">{dice}</td>
                    <td>{r.result.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    let roll_count = c.rolls.len();
    view! {
        <div class="mt-4 space-y-4 print:mt-0" data-sheet>
            <div class="grid grid-cols-3 gap-2 sm:grid-cols-6">{abilities}</div>
            <div class="grid gap-4 md:grid-cols-3">
                <section class=SECTION aria-labelledby="sheet-saves">
                    <h2 id="sheet-saves" class=HEADING>"Saving throws"</h2>
                    <ul class="text-sm">{saves}</ul>
                    <h2 class=format!("{HEADING} mt-3")>"Skills"</h2>
                    <ul class="text-sm" data-skills>{skills}</ul>
                </section>
                <section class=SECTION aria-labelledby="sheet-combat">
                    <h2 id="sheet-combat" class=HEADING>"Combat"</h2>
                    <dl class="text-sm" data-combat>{combat}</dl>
                    <h2 class=format!("{HEADING} mt-3")>"Languages"</h2>
                    <p class="text-sm">{c.languages.join(", ")}</p>
                </section>
                <section class=SECTION aria-labelledby="sheet-equipment">
                    <h2 id="sheet-equipment" class=HEADING>"Equipment"</h2>
                    <ul class="list-disc pl-5 text-sm">{equipment}</ul>
                </section>
            </div>
            <section class=SECTION aria-labelledby="sheet-features">
                <h2 id="sheet-features" class=HEADING>"Features and traits"</h2>
                <ul class="space-y-1 text-sm">{features}</ul>
            </section>
            {spells}
            <div class="grid gap-4 md:grid-cols-2">
                <section class=SECTION aria-labelledby="sheet-personality">
                    <h2 id="sheet-personality" class=HEADING>"Personality"</h2>
                    <dl class="grid grid-cols-[4rem_1fr] gap-x-3 gap-y-1 text-sm">
                        <dt class="text-stone-600 dark:text-stone-400">"Trait"</dt><dd>{p.trait_}</dd>
                        <dt class="text-stone-600 dark:text-stone-400">"Ideal"</dt><dd>{p.ideal}</dd>
                        <dt class="text-stone-600 dark:text-stone-400">"Bond"</dt><dd>{p.bond}</dd>
                        <dt class="text-stone-600 dark:text-stone-400">"Flaw"</dt><dd>{p.flaw}</dd>
                    </dl>
                </section>
                <section class=SECTION aria-labelledby="sheet-appearance">
                    <h2 id="sheet-appearance" class=HEADING>"Appearance"</h2>
                    <dl class="grid grid-cols-[5rem_1fr] gap-x-3 gap-y-1 text-sm">{appearance}</dl>
                </section>
            </div>
            <section class=SECTION aria-labelledby="sheet-backstory">
                <h2 id="sheet-backstory" class=HEADING>"Backstory"</h2>
                <p class="text-sm leading-relaxed" data-backstory>{c.backstory.clone()}</p>
            </section>
            <section class=SECTION aria-labelledby="sheet-rolls">
                <h2 id="sheet-rolls" class=HEADING>"Roll log"</h2>
                <details class="text-sm" open data-roll-log>
                    <summary class="cursor-pointer print:hidden">{format!("Every draw behind this sheet ({roll_count})")}</summary>
                    <table class="mt-2 w-full text-left text-xs">
                        <thead><tr><th scope="col">"What"</th><th scope="col">"Dice"</th><th scope="col">"Rolled"</th><th scope="col">"Result"</th></tr></thead>
                        <tbody>{rolls}</tbody>
                    </table>
                </details>
            </section>
        </div>
    }
}
