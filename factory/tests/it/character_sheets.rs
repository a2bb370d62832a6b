//! Golden sheets (exact JSON for a few seeds and locks, pinned in `tests/data/characters`) and
//! properties over any seed and any locks: the character passes the rules checker, and what is
//! locked holds under a reroll.

use std::path::Path;

use factory::characters::ancestries::{AncestryId, ANCESTRIES};
use factory::characters::backgrounds::{ALIGNMENTS, BACKGROUNDS};
use factory::characters::classes::{ClassId, CLASSES};
use factory::characters::sheet::{HpMethod, ScoreMethod};
use factory::characters::{check, generate, Character, Locks, MAX_SEED};
use proptest::prelude::*;

/// The pinned sheets: a plain seed, a locked low-level caster, a locked high-level half-caster.
fn golden() -> Vec<(&'static str, u64, Locks)> {
    vec![
        ("seed-7.json", 7, Locks::default()),
        (
            "seed-42-wizard-3.json",
            42,
            Locks {
                class: Some(ClassId::Wizard),
                level: Some(3),
                ..Locks::default()
            },
        ),
        (
            "seed-2024-half-orc-paladin-5.json",
            2024,
            Locks {
                ancestry: Some(AncestryId::HalfOrc),
                class: Some(ClassId::Paladin),
                level: Some(5),
                method: Some(ScoreMethod::PointBuy),
                hp_method: Some(HpMethod::Rolled),
                ..Locks::default()
            },
        ),
    ]
}

#[test]
fn golden_sheets_are_exactly_as_pinned() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/characters");
    for (file, seed, locks) in golden() {
        let made = serde_json::to_string_pretty(&generate(seed, &locks).unwrap()).unwrap() + "\n";
        let path = dir.join(file);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &made).unwrap();
            continue;
        }
        let pinned = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
        assert!(
            made == pinned,
            "{file}: the generator no longer makes this sheet. If that is meant, bump \
             GENERATOR_VERSION and the pinned hash, and re-pin with UPDATE_GOLDEN=1."
        );
    }
}

fn any_locks() -> impl Strategy<Value = Locks> {
    (
        proptest::option::of(0..CLASSES.len()),
        proptest::option::of(0..ANCESTRIES.len()),
        proptest::option::of(1u32..=5),
        proptest::option::of(0..ALIGNMENTS.len()),
        proptest::option::of(0..3usize),
        proptest::option::of(0..2usize),
        proptest::option::of(0..BACKGROUNDS.len()),
    )
        .prop_map(
            |(class, ancestry, level, alignment, method, hp, background)| Locks {
                class: class.map(|i| CLASSES[i].id),
                ancestry: ancestry.map(|i| ANCESTRIES[i].id),
                level,
                alignment: alignment.map(|i| ALIGNMENTS[i].0),
                method: method.map(|i| {
                    [
                        ScoreMethod::Roll,
                        ScoreMethod::StandardArray,
                        ScoreMethod::PointBuy,
                    ][i]
                }),
                hp_method: hp.map(|i| [HpMethod::Average, HpMethod::Rolled][i]),
                background: background.map(|i| BACKGROUNDS[i].name.to_string()),
                ..Locks::default()
            },
        )
}

/// Every field `locks` fixes has that value in `c`.
fn holds(locks: &Locks, c: &Character) -> Result<(), TestCaseError> {
    if let Some(class) = locks.class {
        prop_assert_eq!(c.class, class);
    }
    if let Some(ancestry) = locks.ancestry {
        prop_assert_eq!(c.ancestry, ancestry);
    }
    if let Some(level) = locks.level {
        prop_assert_eq!(c.level, level);
    }
    if let Some(alignment) = locks.alignment {
        prop_assert_eq!(c.alignment, alignment);
    }
    if let Some(method) = locks.method {
        prop_assert_eq!(c.method, method);
    }
    if let Some(hp) = locks.hp_method {
        prop_assert_eq!(c.hp_method, hp);
    }
    if let Some(background) = &locks.background {
        prop_assert_eq!(&c.background, background);
    }
    if let Some(name) = &locks.name {
        prop_assert_eq!(&c.name, name);
    }
    if let Some(scores) = locks.base_scores {
        prop_assert_eq!(c.base_scores, scores);
    }
    if let Some(personality) = &locks.personality {
        prop_assert_eq!(&c.personality, personality);
    }
    if let Some(appearance) = &locks.appearance {
        prop_assert_eq!(&c.appearance, appearance);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn any_seed_and_locks_make_a_legal_character_whose_locks_hold_under_reroll(
        seed in 0..=MAX_SEED,
        other in 0..=MAX_SEED,
        locks in any_locks(),
    ) {
        let first = generate(seed, &locks).unwrap();
        prop_assert!(check::problems(&first).is_empty(), "seed {}: {:?}", seed, check::problems(&first));
        holds(&locks, &first)?;

        // Lock the rest of what a person sees (as the page's checkboxes do) and reroll.
        let all = Locks {
            name: Some(first.name.clone()),
            ancestry: Some(first.ancestry),
            class: Some(first.class),
            level: Some(first.level),
            background: Some(first.background.clone()),
            alignment: Some(first.alignment),
            method: Some(first.method),
            base_scores: Some(first.base_scores),
            hp_method: Some(first.hp_method),
            personality: Some(first.personality.clone()),
            appearance: Some(first.appearance.clone()),
        };
        for locks in [&locks, &all] {
            let rerolled = generate(other, locks).unwrap();
            prop_assert!(
                check::problems(&rerolled).is_empty(),
                "seed {}: {:?}", other, check::problems(&rerolled)
            );
            holds(locks, &rerolled)?;
        }
        // With everything a person sees locked (and the same subrace, which the seed draws),
        // a reroll keeps the derived numbers too, unless hit points are rolled (a new seed
        // rolls them again).
        let kept = generate(other, &all).unwrap();
        if kept.subrace == first.subrace {
            prop_assert_eq!(kept.scores, first.scores);
            prop_assert_eq!(kept.armor_class, first.armor_class);
            if first.hp_method == HpMethod::Average || first.level == 1 {
                prop_assert_eq!(kept.hit_points, first.hit_points);
            }
        }
    }
}
