//! Spells: the class's cantrips and spells (known, prepared, or a wizard's spellbook and what
//! is prepared from it) within the slots of the level, the always-prepared spells of the
//! subclass, and the ancestry's own (the high elf's cantrip, the tiefling's legacy). A spell
//! the character already has another way is never chosen again.

use super::ancestries::{ancestry, AncestryCantrip, AncestryId};
use super::classes::{max_spell_level, prepared_count, slots, Casting, Class, ClassId};
use super::dice::{Dice, Part, Roll};
use super::rules::Ability;
use super::sheet::{Spell, Spellcasting};
use super::spells;

fn spell(name: &str, level: u32, from: Option<&str>) -> Spell {
    Spell {
        name: name.to_string(),
        level,
        from: from.map(str::to_string),
    }
}

/// Always-prepared spells of the life domain and the oath of devotion, by character level.
fn always_prepared(class: ClassId, level: u32) -> Vec<Spell> {
    #[rustfmt::skip]
    let (list, from): (&[(u32, u32, &str)], &str) = match class {
        ClassId::Cleric => (&[(1, 1, "Bless"), (1, 1, "Cure Wounds"), (3, 2, "Lesser Restoration"),
            (3, 2, "Spiritual Weapon"), (5, 3, "Beacon of Hope"), (5, 3, "Revivify")], "Life domain"),
        ClassId::Paladin => (&[(3, 1, "Protection from Evil and Good"), (3, 1, "Sanctuary"),
            (5, 2, "Lesser Restoration"), (5, 2, "Zone of Truth")], "Oath of Devotion"),
        _ => (&[], ""),
    };
    list.iter()
        .filter(|(at, _, _)| *at <= level)
        .map(|(_, l, name)| spell(name, *l, Some(from)))
        .collect()
}

/// The tiefling's Infernal Legacy: Thaumaturgy, then Hellish Rebuke at 3 and Darkness at 5.
fn legacy(cantrip: Option<AncestryCantrip>, level: u32) -> Vec<Spell> {
    if cantrip != Some(AncestryCantrip::Thaumaturgy) {
        return Vec::new();
    }
    [
        (1, 0, "Thaumaturgy"),
        (3, 1, "Hellish Rebuke"),
        (5, 2, "Darkness"),
    ]
    .iter()
    .filter(|(at, _, _)| *at <= level)
    .map(|(_, l, name)| spell(name, *l, Some("Infernal Legacy")))
    .collect()
}

/// The spell block of a character: `None` for one with no spells at all.
pub(super) fn spellcasting(
    seed: u64,
    level: u32,
    class: &Class,
    ancestry_id: AncestryId,
    modifiers: &[i32; 6],
    proficiency: i32,
    log: &mut Vec<Roll>,
) -> Option<Spellcasting> {
    let from_ancestry = ancestry(ancestry_id).cantrip;
    let ability = match (&class.casting, from_ancestry) {
        (Some(casting), _) => casting.ability,
        (None, Some(AncestryCantrip::Wizard)) => Ability::Int,
        (None, Some(AncestryCantrip::Thaumaturgy)) => Ability::Cha,
        (None, None) => return None,
    };
    let m = modifiers[ability.index()];
    let mut block = Spellcasting {
        ability,
        save_dc: 8 + proficiency + m,
        attack_bonus: proficiency + m,
        slots: Vec::new(),
        cantrips: Vec::new(),
        spells: Vec::new(),
        spellbook: Vec::new(),
        always: Vec::new(),
        prepares: false,
    };
    let mut dice = Dice::new(seed, Part::Spells, log);
    let racial = legacy(from_ancestry, level);
    if let Some(casting) = &class.casting {
        class_spells(&mut dice, &mut block, class, casting, level, m, &racial);
    }
    for s in racial {
        let list = if s.level == 0 {
            &mut block.cantrips
        } else {
            &mut block.spells
        };
        list.push(s);
    }
    if from_ancestry == Some(AncestryCantrip::Wizard) {
        let open: Vec<&str> = spells::list(ClassId::Wizard)[0]
            .iter()
            .copied()
            .filter(|s| !block.cantrips.iter().any(|c| c.name == *s))
            .collect();
        let chosen = dice.pick::<&str>("High elf cantrip", &open, |s| s.to_string());
        block.cantrips.push(spell(chosen, 0, Some("High elf")));
    }
    Some(block)
}

/// The class's own part: slots, cantrips, and known or prepared spells.
fn class_spells(
    dice: &mut Dice,
    block: &mut Spellcasting,
    class: &Class,
    casting: &Casting,
    level: u32,
    modifier: i32,
    racial: &[Spell],
) {
    let lists = spells::list(class.id);
    block.slots = slots(casting.progression, level);
    block.prepares = casting.known.is_none();
    block.always = always_prepared(class.id, level);
    let given = |name: &str| block.always.iter().chain(racial).any(|a| a.name == name);
    let open_cantrips: Vec<&str> = lists[0].iter().copied().filter(|c| !given(c)).collect();
    let count = casting.cantrips[level as usize - 1];
    block.cantrips = dice
        .choose("Cantrips", &open_cantrips, count, |s| s.to_string())
        .into_iter()
        .map(|s| spell(s, 0, None))
        .collect();
    let highest = max_spell_level(casting.progression, level);
    let open: Vec<(u32, &str)> = (1..=highest)
        .flat_map(|l| lists[l as usize].iter().map(move |s| (l, *s)))
        .filter(|(_, s)| !given(s))
        .collect();
    let label = |(l, s): &(u32, &str)| format!("{s} ({l})");
    let prepared = prepared_count(class, level, modifier);
    let chosen = match (casting.known, class.id) {
        (Some(known), _) => dice.choose("Spells known", &open, known[level as usize - 1], label),
        (None, ClassId::Wizard) => {
            let book = dice.choose("Spellbook", &open, 6 + 2 * (level as usize - 1), label);
            block.spellbook = book.iter().map(|(l, s)| spell(s, *l, None)).collect();
            dice.choose("Prepared", &book, prepared, label)
        }
        (None, _) if highest == 0 => Vec::new(),
        (None, _) => dice.choose("Prepared", &open, prepared, label),
    };
    block.spells = chosen.into_iter().map(|(l, s)| spell(s, l, None)).collect();
}
