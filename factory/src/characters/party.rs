//! A party of N from one seed: distinct classes, at least one healer and one front-liner
//! (for N ≥ 2), all at the same level.

use super::classes::{ClassId, Role, CLASSES};
use super::dice::{Dice, Part};
use super::{generate, Character, CharacterError, Locks};

/// `size` characters (1 to 12) made from `seed`; `locks` apply to all (a class lock is
/// ignored: the party's classes are its own).
pub fn party(seed: u64, size: usize, locks: &Locks) -> Result<Vec<Character>, CharacterError> {
    plan(seed, size, locks)?
        .into_iter()
        .map(|(seed, locks)| generate(seed, &locks))
        .collect()
}

/// Each member's own seed and locks (its class and the party's level locked), so a saved
/// member can be made again alone.
pub fn plan(seed: u64, size: usize, locks: &Locks) -> Result<Vec<(u64, Locks)>, CharacterError> {
    if !(1..=12).contains(&size) {
        return Err(CharacterError::Invalid(format!(
            "A party has 1 to 12 members (one per class); {size} was asked for."
        )));
    }
    let mut log = Vec::new();
    let mut dice = Dice::new(seed, Part::Party, &mut log);
    let has = |id: ClassId, role: Role| {
        CLASSES
            .iter()
            .any(|c| c.id == id && c.roles.contains(&role))
    };
    let healers: Vec<ClassId> = CLASSES
        .iter()
        .map(|c| c.id)
        .filter(|&c| has(c, Role::Healer))
        .collect();
    let mut classes = vec![*dice.pick("Healer", &healers, |c| format!("{c:?}"))];
    if size >= 2 {
        let fronts: Vec<ClassId> = CLASSES
            .iter()
            .map(|c| c.id)
            .filter(|&c| has(c, Role::FrontLine) && !classes.contains(&c))
            .collect();
        classes.push(*dice.pick("Front line", &fronts, |c| format!("{c:?}")));
    }
    let rest: Vec<ClassId> = CLASSES
        .iter()
        .map(|c| c.id)
        .filter(|c| !classes.contains(c))
        .collect();
    classes.extend(dice.choose(
        "Other classes",
        &rest,
        size.saturating_sub(classes.len()),
        |c| format!("{c:?}"),
    ));
    classes.truncate(size);
    let level = match locks.level {
        Some(level) => level,
        None => dice.roll("Party level", 1, 5),
    };
    Ok(classes
        .into_iter()
        .map(|class| {
            let member = Locks {
                class: Some(class),
                level: Some(level),
                name: None,
                ..locks.clone()
            };
            // Each member's own seed, from the party's stream.
            (dice.seed("Member seed"), member)
        })
        .collect())
}
