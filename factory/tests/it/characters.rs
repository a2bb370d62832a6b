//! The character generator: the same seed gives the same sheet (pinned by a hash over 10,000
//! sheets), every sheet passes the rules checker, names are varied and clean, locks hold and
//! change only what derives from them, parties are balanced, and bad locks are refused.

use factory::characters::ancestries::AncestryId;
use factory::characters::backgrounds::Alignment;
use factory::characters::classes::{class, ClassId, Role};
use factory::characters::sheet::{HpMethod, ScoreMethod};
use factory::characters::{check, generate, names, party, Locks};
use sha2::{Digest, Sha256};

fn sheet(seed: u64) -> factory::characters::Character {
    generate(seed, &Locks::default()).unwrap()
}

#[test]
fn ten_thousand_seeds_give_pinned_sheets_that_pass_the_rules_with_clean_varied_names() {
    let mut hash = Sha256::new();
    let mut names_seen = std::collections::HashSet::new();
    let mut failures = Vec::new();
    for seed in 0..10_000u64 {
        let c = sheet(seed);
        hash.update(serde_json::to_vec(&c).unwrap());
        let problems = check::problems(&c);
        if !problems.is_empty() && failures.len() < 5 {
            failures.push((seed, c.class_name.clone(), c.level, problems));
        }
        assert!(!names::blocked(&c.name), "seed {seed}: {}", c.name);
        names_seen.insert(c.name.clone());
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(
        names_seen.len() >= 9_900,
        "{} unique names",
        names_seen.len()
    );
    let digest = format!("{:x}", hash.finalize());
    assert_eq!(digest, factory::characters::SHEETS_0_TO_9999_SHA256);
}

#[test]
fn the_same_seed_and_locks_give_the_same_character() {
    let locks = Locks {
        class: Some(ClassId::Wizard),
        level: Some(3),
        ..Locks::default()
    };
    assert_eq!(generate(77, &locks).unwrap(), generate(77, &locks).unwrap());
    assert_ne!(generate(77, &locks).unwrap(), generate(78, &locks).unwrap());
}

#[test]
fn changing_a_locked_class_changes_what_derives_from_it_and_nothing_else() {
    let base = Locks {
        class: Some(ClassId::Fighter),
        level: Some(4),
        ..Locks::default()
    };
    let fighter = generate(4242, &base).unwrap();
    let wizard = generate(
        4242,
        &Locks {
            class: Some(ClassId::Wizard),
            ..base.clone()
        },
    )
    .unwrap();
    // Kept: who they are.
    assert_eq!(fighter.name, wizard.name);
    assert_eq!(fighter.ancestry, wizard.ancestry);
    assert_eq!(fighter.background, wizard.background);
    assert_eq!(fighter.alignment, wizard.alignment);
    assert_eq!(fighter.personality, wizard.personality);
    assert_eq!(fighter.appearance.age, wizard.appearance.age);
    assert_eq!(fighter.appearance.eyes, wizard.appearance.eyes);
    assert_eq!(fighter.languages, wizard.languages);
    // The same rolled scores, given out in the wizard's order.
    let mut a = fighter.base_scores;
    let mut b = wizard.base_scores;
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b);
    assert!(
        wizard.base_scores[3] >= wizard.base_scores[0],
        "INT first for a wizard"
    );
    // Changed: what the class decides.
    assert_eq!((fighter.hit_die, wizard.hit_die), (10, 6));
    assert!(fighter.spellcasting.is_none() && wizard.spellcasting.is_some());
    assert_ne!(fighter.equipment, wizard.equipment);
    assert!(
        check::problems(&wizard).is_empty(),
        "{:?}",
        check::problems(&wizard)
    );

    // A new ancestry gives a new name (its own name model) but keeps the personality.
    let elf = generate(
        4242,
        &Locks {
            ancestry: Some(AncestryId::Elf),
            ..base.clone()
        },
    )
    .unwrap();
    let dwarf = generate(
        4242,
        &Locks {
            ancestry: Some(AncestryId::Dwarf),
            ..base.clone()
        },
    )
    .unwrap();
    assert_ne!(elf.name, dwarf.name);
    assert_eq!(elf.personality, dwarf.personality);
    assert!(elf
        .skills
        .iter()
        .any(|s| s.skill == factory::characters::rules::Skill::Perception && s.source.is_some()));
}

#[test]
fn locked_fields_are_kept_and_reroll_changes_the_rest() {
    let locks = Locks {
        name: Some("Maren Saltwood".into()),
        ancestry: Some(AncestryId::Halfling),
        alignment: Some(Alignment::ChaoticGood),
        method: Some(ScoreMethod::PointBuy),
        hp_method: Some(HpMethod::Rolled),
        level: Some(5),
        ..Locks::default()
    };
    let mut classes = std::collections::HashSet::new();
    for seed in 0..40 {
        let c = generate(seed, &locks).unwrap();
        assert_eq!(c.name, "Maren Saltwood");
        assert_eq!(c.ancestry, AncestryId::Halfling);
        assert_eq!(c.alignment, Alignment::ChaoticGood);
        assert_eq!(c.level, 5);
        assert!(
            check::problems(&c).is_empty(),
            "seed {seed}: {:?}",
            check::problems(&c)
        );
        assert_eq!(
            c.rolls
                .iter()
                .filter(|r| r.what.starts_with("Hit points, level"))
                .count(),
            4
        );
        classes.insert(c.class);
    }
    assert!(classes.len() >= 8, "rerolls vary the class: {classes:?}");

    let scores = [10, 12, 14, 16, 8, 13];
    let c = generate(
        1,
        &Locks {
            base_scores: Some(scores),
            ancestry: Some(AncestryId::Human),
            level: Some(1),
            ..Locks::default()
        },
    )
    .unwrap();
    assert_eq!(c.base_scores, scores);
    assert_eq!(c.scores, scores.map(|s| s + 1));
}

#[test]
fn the_roll_log_holds_every_draw_behind_the_scores() {
    let c = generate(
        9,
        &Locks {
            method: Some(ScoreMethod::Roll),
            ..Locks::default()
        },
    )
    .unwrap();
    let rolled: Vec<u32> = c
        .rolls
        .iter()
        .filter(|r| r.dice == "4d6 drop lowest")
        .map(|r| {
            assert_eq!(r.rolls.len(), 4);
            let kept = r.rolls.iter().sum::<u32>() - r.rolls.iter().min().unwrap();
            assert_eq!(r.result, kept.to_string());
            kept
        })
        .collect();
    let mut from_log: Vec<i32> = rolled.iter().map(|&s| s as i32).collect();
    let mut on_sheet = c.base_scores.to_vec();
    from_log.sort_unstable();
    on_sheet.sort_unstable();
    assert_eq!(from_log, on_sheet);
    for what in [
        "Level",
        "Ancestry",
        "Class",
        "Background",
        "Alignment",
        "Name",
        "Personality trait",
    ] {
        assert!(
            c.rolls.iter().any(|r| r.what == what),
            "no {what} in the log"
        );
    }
}

#[test]
fn a_party_has_distinct_classes_a_healer_and_a_front_line() {
    for seed in 0..50 {
        let members = party(seed, 4, &Locks::default()).unwrap();
        assert_eq!(members.len(), 4);
        let classes: std::collections::HashSet<ClassId> = members.iter().map(|m| m.class).collect();
        assert_eq!(classes.len(), 4, "seed {seed}");
        let has = |role: Role| members.iter().any(|m| class(m.class).roles.contains(&role));
        assert!(has(Role::Healer) && has(Role::FrontLine), "seed {seed}");
        assert!(members.iter().all(|m| m.level == members[0].level));
        assert!(members.iter().all(|m| check::problems(m).is_empty()));
    }
    assert_eq!(party(3, 12, &Locks::default()).unwrap().len(), 12);
    assert!(party(3, 13, &Locks::default())
        .unwrap_err()
        .to_string()
        .contains("1 to 12"));
}

#[test]
fn the_checker_names_what_a_tampered_sheet_gets_wrong() {
    let mut c = generate(
        5,
        &Locks {
            class: Some(ClassId::Cleric),
            level: Some(3),
            ..Locks::default()
        },
    )
    .unwrap();
    assert!(check::problems(&c).is_empty());
    c.armor_class += 1;
    c.scores[0] += 2;
    let spells = c.spellcasting.as_mut().unwrap();
    spells.spells[0].name = "Fireball".into();
    spells.slots = vec![4, 3];
    let problems = check::problems(&c).join("\n");
    for needle in ["AC", "STR modifier", "Fireball", "spell slots"] {
        assert!(
            problems.contains(needle),
            "{needle} not named in:\n{problems}"
        );
    }
}

#[test]
fn bad_locks_are_refused_with_what_to_do() {
    let cases = [
        (
            Locks {
                level: Some(9),
                ..Locks::default()
            },
            "choose 1 to 5",
        ),
        (
            Locks {
                base_scores: Some([20, 10, 10, 10, 10, 10]),
                ..Locks::default()
            },
            "3 to 18",
        ),
        (
            Locks {
                background: Some("Astronaut".into()),
                ..Locks::default()
            },
            "Acolyte",
        ),
        (
            Locks {
                name: Some("  ".into()),
                ..Locks::default()
            },
            "1 to 60",
        ),
        (
            Locks {
                name: Some("Sh1t Face".into()),
                ..Locks::default()
            },
            "choose another",
        ),
    ];
    for (locks, needle) in cases {
        let err = generate(1, &locks).unwrap_err().to_string();
        assert!(err.contains(needle), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn characters_are_kept_per_project_searched_rerolled_relocked_duplicated_and_deleted() {
    use factory::characters::store;
    use factory::projects::{self, Description, ProjectName};
    let db = factory::testing::TestDb::new().await;
    let mut conn = db.conn().await;
    let project = projects::create(
        &mut conn,
        &ProjectName::parse("Table").unwrap(),
        &Description::default(),
    )
    .await
    .unwrap()
    .id;
    let locks = Locks {
        class: Some(ClassId::Rogue),
        level: Some(2),
        ..Locks::default()
    };
    let made = store::create(&mut conn, project, Some(31), &locks)
        .await
        .unwrap();
    assert_eq!(
        made.sheet,
        generate(31, &locks).unwrap(),
        "the saved sheet is the generator's"
    );
    assert_eq!(store::get(&mut conn, made.id).await.unwrap(), made);
    let other = store::create(&mut conn, project, None, &Locks::default())
        .await
        .unwrap();
    assert!(other.seed <= store::MAX_SEED);

    // Listed newest first; searched by any part of the name, in any case.
    let all = store::list(&mut conn, project, None, 50).await.unwrap();
    assert_eq!(
        all.iter().map(|s| s.id).collect::<Vec<_>>(),
        [other.id, made.id]
    );
    assert_eq!((all[1].level, all[1].class.as_str()), (2, "Rogue"));
    let part: String = made
        .sheet
        .name
        .chars()
        .skip(1)
        .take(4)
        .collect::<String>()
        .to_uppercase();
    let found = store::list(&mut conn, project, Some(&part), 50)
        .await
        .unwrap();
    assert!(found.iter().any(|s| s.id == made.id), "{part}");
    assert!(store::list(&mut conn, project, Some("%"), 50)
        .await
        .unwrap()
        .is_empty());

    // A changed lock keeps the seed; a reroll keeps the locks.
    let as_bard = Locks {
        class: Some(ClassId::Bard),
        ..locks.clone()
    };
    let relocked = store::regenerate(&mut conn, made.id, made.seed, &as_bard)
        .await
        .unwrap();
    assert_eq!(
        (relocked.sheet.class, relocked.sheet.name.as_str()),
        (ClassId::Bard, made.sheet.name.as_str())
    );
    let rerolled = store::regenerate(&mut conn, made.id, 32, &as_bard)
        .await
        .unwrap();
    assert_eq!((rerolled.seed, rerolled.sheet.class), (32, ClassId::Bard));

    let copy = store::duplicate(&mut conn, made.id).await.unwrap();
    assert_eq!(copy.sheet.name, format!("{} (copy)", rerolled.sheet.name));
    assert_eq!(copy.locks.name.as_deref(), Some(copy.sheet.name.as_str()));
    assert_eq!(copy.sheet.scores, rerolled.sheet.scores);

    store::delete(&mut conn, made.id).await.unwrap();
    let err = store::get(&mut conn, made.id)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("no character"), "{err}");
    let err = store::create(&mut conn, project + 100, None, &Locks::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no project"), "{err}");
    let err = store::create(&mut conn, project, Some(1 << 60), &Locks::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("too large"), "{err}");
}
