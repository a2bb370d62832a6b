//! A rules checker for finished sheets, written apart from the generator: it recomputes what
//! the SRD 5.1 fixes (modifiers, proficiency, saves, skill counts and bonuses, level-1 hit
//! points and hit points by level, armour class from the equipment carried, spell slots and
//! spell counts) from the sheet's own facts, and names each disagreement.

use super::ancestries::ancestry;
use super::classes::{class, ClassId, Progression};
use super::equipment::{Armor, Item};
use super::rules::{point_cost, Ability, ABILITIES, POINT_BUY_BUDGET, STANDARD_ARRAY};
use super::sheet::{Character, HpMethod, ScoreMethod, SkillSource};
use super::spells;

fn modifier_of(score: i32) -> i32 {
    // ⌊(score − 10) / 2⌋ written out, so a wrong helper cannot hide here.
    let twice = score - 10;
    if twice >= 0 {
        twice / 2
    } else {
        -((-twice + 1) / 2)
    }
}

fn proficiency_at(level: u32) -> i32 {
    match level {
        1..=4 => 2,
        5..=8 => 3,
        _ => 0,
    }
}

/// Slots by class and level, as the class tables print them (1st, 2nd, 3rd).
fn slot_table(progression: Progression, level: u32) -> Vec<u32> {
    match (progression, level) {
        (Progression::Full, 1) => vec![2],
        (Progression::Full, 2) => vec![3],
        (Progression::Full, 3) => vec![4, 2],
        (Progression::Full, 4) => vec![4, 3],
        (Progression::Full, 5) => vec![4, 3, 2],
        (Progression::Half, 1) => vec![],
        (Progression::Half, 2) => vec![2],
        (Progression::Half, 3 | 4) => vec![3],
        (Progression::Half, 5) => vec![4, 2],
        (Progression::Pact, 1) => vec![1],
        (Progression::Pact, 2) => vec![2],
        (Progression::Pact, 3 | 4) => vec![0, 2],
        (Progression::Pact, 5) => vec![0, 0, 2],
        _ => vec![],
    }
}

/// Every way `c` breaks the rules; empty when it follows them.
pub fn problems(c: &Character) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    // The sentence is only written when the check fails.
    macro_rules! expect {
        ($ok:expr, $($what:tt)+) => {
            if !$ok {
                out.push($($what)+);
            }
        };
    }
    let cls = class(c.class);
    let anc = ancestry(c.ancestry);
    let level = c.level;
    expect!(
        (1..=5).contains(&level),
        format!("level {level} is outside 1–5")
    );

    // Scores: made by the method, raised by the ancestry and the level-4 improvement.
    let base = c.base_scores;
    match c.method {
        ScoreMethod::Roll => expect!(
            base.iter().all(|s| (3..=18).contains(s)),
            format!("rolled scores {base:?} outside 3–18")
        ),
        ScoreMethod::StandardArray => {
            let mut sorted = base;
            sorted.sort_unstable_by(|a, b| b.cmp(a));
            expect!(
                sorted == STANDARD_ARRAY,
                format!("{base:?} is not the standard array")
            );
        }
        ScoreMethod::PointBuy => {
            let cost: Option<i32> = base.iter().map(|&s| point_cost(s)).sum();
            expect!(
                cost == Some(POINT_BUY_BUDGET),
                format!("point buy {base:?} costs {cost:?}, not 27")
            );
        }
    }
    let ancestry_total: i32 =
        anc.bonuses.iter().map(|(_, b)| b).sum::<i32>() + anc.free_bonuses as i32;
    let raised: i32 = c.scores.iter().zip(base).map(|(s, b)| s - b).sum();
    let improvement = if level >= 4 { 2 } else { 0 };
    expect!(
        raised == ancestry_total + improvement,
        format!(
            "scores rise by {raised} over the base, not {}",
            ancestry_total + improvement
        )
    );
    for (ability, bonus) in anc.bonuses {
        let i = ability.index();
        expect!(
            c.scores[i] - base[i] >= *bonus,
            format!("{} lacks its ancestry bonus", ability.name())
        );
    }
    expect!(
        c.scores.iter().all(|&s| s <= 20 || base.contains(&s)),
        format!("a score above 20: {:?}", c.scores)
    );
    for ability in ABILITIES {
        let i = ability.index();
        expect!(
            c.modifiers[i] == modifier_of(c.scores[i]),
            format!(
                "{} modifier {} for score {}",
                ability.short(),
                c.modifiers[i],
                c.scores[i]
            )
        );
    }
    let m = |a: Ability| modifier_of(c.scores[a.index()]);
    let prof = proficiency_at(level);
    expect!(
        c.proficiency_bonus == prof,
        format!("proficiency bonus {} at level {level}", c.proficiency_bonus)
    );

    for save in &c.saves {
        let proficient = cls.saves.contains(&save.ability);
        expect!(
            save.proficient == proficient,
            format!("{} save proficiency", save.ability.short())
        );
        expect!(
            save.bonus == m(save.ability) + if proficient { prof } else { 0 },
            format!("{} save bonus {}", save.ability.short(), save.bonus)
        );
    }

    // Skills: how many, from where, and their bonuses.
    let proficient: Vec<_> = c.skills.iter().filter(|s| s.source.is_some()).collect();
    let lore = if c.class == ClassId::Bard && level >= 3 {
        3
    } else {
        0
    };
    let expected = anc.skills.len() + 2 + cls.skill_count + anc.free_skills + lore;
    expect!(
        proficient.len() == expected,
        format!("{} skill proficiencies, not {expected}", proficient.len())
    );
    expect!(
        c.skills.len() == 18,
        format!("{} skills listed, not 18", c.skills.len())
    );
    let from_class: Vec<_> = proficient
        .iter()
        .filter(|s| s.source == Some(SkillSource::Class))
        .collect();
    expect!(
        from_class.len() == cls.skill_count,
        format!("{} class skills, not {}", from_class.len(), cls.skill_count)
    );
    if !cls.skills.is_empty() {
        let off_list = from_class
            .iter()
            .filter(|s| !cls.skills.contains(&s.skill))
            .count();
        let open_on_list = cls
            .skills
            .iter()
            .filter(|s| !proficient.iter().any(|p| p.skill == **s))
            .count();
        expect!(
            off_list == 0 || open_on_list == 0,
            "a class skill off the class's list while others were open".into()
        );
    }
    let experts = c.skills.iter().filter(|s| s.expertise).count();
    let expertise = match c.class {
        ClassId::Rogue => 2,
        ClassId::Bard if level >= 3 => 2,
        _ => 0,
    };
    expect!(
        experts == expertise,
        format!("{experts} skills with expertise, not {expertise}")
    );
    let jack = c.class == ClassId::Bard && level >= 2;
    for s in &c.skills {
        let added = match (s.source.is_some(), s.expertise) {
            (true, true) => 2 * prof,
            (true, false) => prof,
            (false, true) => -100,
            (false, false) => {
                if jack {
                    prof / 2
                } else {
                    0
                }
            }
        };
        expect!(
            s.bonus == m(s.skill.ability()) + added,
            format!("{} bonus {}", s.skill.name(), s.bonus)
        );
    }
    let perception = c
        .skills
        .iter()
        .find(|s| s.skill == super::rules::Skill::Perception)
        .map_or(0, |s| s.bonus);
    expect!(
        c.passive_perception == 10 + perception,
        format!("passive perception {}", c.passive_perception)
    );
    expect!(
        c.initiative == m(Ability::Dex) + if jack { prof / 2 } else { 0 },
        format!("initiative {}", c.initiative)
    );

    // Hit points: the die's maximum at level 1; then the average, or the logged rolls.
    let extra = anc.hp_per_level + cls.hp_per_level;
    let con = m(Ability::Con);
    let mut hp = cls.hit_die as i32 + con + extra;
    expect!(c.hit_die == cls.hit_die, format!("hit die d{}", c.hit_die));
    for l in 2..=level {
        let gained = match c.hp_method {
            HpMethod::Average => cls.hit_die as i32 / 2 + 1,
            HpMethod::Rolled => {
                let what = format!("Hit points, level {l}");
                match c.rolls.iter().find(|r| r.what == what) {
                    Some(r) if r.rolls.len() == 1 && (1..=cls.hit_die).contains(&r.rolls[0]) => {
                        r.rolls[0] as i32
                    }
                    _ => {
                        out.push(format!("no roll logged for {what}"));
                        return out;
                    }
                }
            }
        };
        hp += (gained + con).max(1) + extra;
    }
    expect!(
        c.hit_points == hp,
        format!("{} hit points, not {hp}", c.hit_points)
    );

    // Armour class, from what is carried.
    let dex = m(Ability::Dex);
    let worn: Vec<Armor> = c
        .equipment
        .iter()
        .filter_map(|i| {
            if let Item::Armor { armor } = i {
                Some(*armor)
            } else {
                None
            }
        })
        .collect();
    let shields = c
        .equipment
        .iter()
        .filter(|i| matches!(i, Item::Shield))
        .count();
    expect!(
        worn.len() <= 1 && shields <= 1,
        "more than one armour or shield carried".into()
    );
    let base_ac = match (worn.first(), c.class) {
        (Some(Armor::Leather), _) => 11 + dex,
        (Some(Armor::ScaleMail), _) => 14 + dex.min(2),
        (Some(Armor::ChainMail), _) => 16,
        (None, ClassId::Barbarian) => 10 + dex + con,
        (None, ClassId::Monk) if shields == 0 => 10 + dex + m(Ability::Wis),
        (None, ClassId::Sorcerer) => 13 + dex,
        (None, _) => 10 + dex,
    };
    let defense = !worn.is_empty()
        && (c.class == ClassId::Fighter || (c.class == ClassId::Paladin && level >= 2));
    let ac = base_ac + 2 * shields as i32 + i32::from(defense);
    expect!(
        c.armor_class == ac,
        format!("AC {} with this equipment, not {ac}", c.armor_class)
    );

    // Spells: slots from the table, counts from the class, every spell on its list.
    match (&cls.casting, &c.spellcasting) {
        (Some(casting), Some(sc)) => {
            let table = slot_table(casting.progression, level);
            expect!(
                sc.slots == table,
                format!("spell slots {:?}, not {table:?}", sc.slots)
            );
            expect!(
                sc.save_dc == 8 + prof + m(casting.ability),
                format!("spell save DC {}", sc.save_dc)
            );
            let lists = spells::list(c.class);
            let own_cantrips = sc.cantrips.iter().filter(|s| s.from.is_none()).count();
            expect!(
                own_cantrips == casting.cantrips[level as usize - 1],
                format!("{own_cantrips} cantrips known")
            );
            let highest = table.iter().rposition(|&n| n > 0).map_or(0, |i| i + 1) as u32;
            let own: Vec<_> = sc.spells.iter().filter(|s| s.from.is_none()).collect();
            let count = match casting.known {
                Some(known) => known[level as usize - 1],
                None if highest == 0 => 0,
                None => {
                    let half = casting.progression == Progression::Half;
                    (m(casting.ability) + if half { level as i32 / 2 } else { level as i32 }).max(1)
                        as usize
                }
            };
            let from_book = if c.class == ClassId::Wizard {
                6 + 2 * (level as usize - 1)
            } else {
                0
            };
            expect!(
                sc.spellbook.len() == from_book,
                format!("{} spells in the spellbook", sc.spellbook.len())
            );
            expect!(
                own.len() == count,
                format!(
                    "{} spells {}, not {count}",
                    own.len(),
                    if sc.prepares { "prepared" } else { "known" }
                )
            );
            for s in sc.cantrips.iter().filter(|s| s.from.is_none()) {
                expect!(
                    lists[0].contains(&s.name.as_str()),
                    format!("cantrip {} is not on the list", s.name)
                );
            }
            for s in own
                .iter()
                .chain(sc.spellbook.iter().collect::<Vec<_>>().iter())
            {
                let on_list =
                    (1..=3).any(|l| l == s.level && lists[l as usize].contains(&s.name.as_str()));
                expect!(
                    on_list && s.level <= highest,
                    format!("{} ({}) is not castable from the list", s.name, s.level)
                );
                if c.class == ClassId::Wizard && !sc.spellbook.iter().any(|b| b.name == s.name) {
                    out.push(format!("{} is prepared but not in the spellbook", s.name));
                }
            }
            let mut names: Vec<&str> = sc
                .cantrips
                .iter()
                .chain(&sc.spells)
                .chain(&sc.always)
                .map(|s| s.name.as_str())
                .collect();
            let before = names.len();
            names.sort_unstable();
            names.dedup();
            if names.len() != before {
                out.push("a spell is listed twice".into());
            }
        }
        (None, Some(sc)) => {
            let racial_only = sc.slots.is_empty()
                && sc
                    .spells
                    .iter()
                    .chain(&sc.cantrips)
                    .all(|s| s.from.is_some());
            if !racial_only {
                out.push(format!("a {} with class spells", c.class_name));
            }
        }
        (Some(_), None) => out.push("a caster without spellcasting".into()),
        (None, None) => {}
    }
    out
}
