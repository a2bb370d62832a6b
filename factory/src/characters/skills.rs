//! Skill proficiencies: the ancestry's, the background's (a repeat replaced by another), the
//! class's choices from its list, the free ones (half-elf, College of Lore), expertise, and
//! every skill's bonus (with the bard's Jack of All Trades).

use super::backgrounds::Background;
use super::classes::{jack_of_all_trades, Class, ClassId};
use super::dice::{Dice, Part, Roll};
use super::rules::{proficiency_bonus, Skill, SKILLS};
use super::sheet::{SkillLine, SkillSource};

#[allow(clippy::too_many_arguments)]
pub(super) fn skills(
    seed: u64,
    level: u32,
    class: &Class,
    from_ancestry: &[Skill],
    free_from_ancestry: usize,
    background: &Background,
    modifiers: &[i32; 6],
    log: &mut Vec<Roll>,
) -> Vec<SkillLine> {
    let mut dice = Dice::new(seed, Part::Skills, log);
    let mut chosen: Vec<(Skill, SkillSource)> = from_ancestry
        .iter()
        .map(|&s| (s, SkillSource::Ancestry))
        .collect();
    let known = |chosen: &[(Skill, SkillSource)], s: &Skill| chosen.iter().any(|(c, _)| c == s);
    // A background skill already known is replaced by another of the person's choosing.
    for skill in background.skills {
        if known(&chosen, &skill) {
            let others: Vec<Skill> = SKILLS
                .iter()
                .copied()
                .filter(|s| !known(&chosen, s) && !background.skills.contains(s))
                .collect();
            let other = *dice.pick("Background skill (a repeat replaced)", &others, |s| {
                s.name().to_string()
            });
            chosen.push((other, SkillSource::Background));
        } else {
            chosen.push((skill, SkillSource::Background));
        }
    }
    let list: Vec<Skill> = if class.skills.is_empty() {
        SKILLS.to_vec()
    } else {
        class.skills.to_vec()
    };
    let open: Vec<Skill> = list
        .iter()
        .copied()
        .filter(|s| !known(&chosen, s))
        .collect();
    let mut picks = dice.choose("Class skills", &open, class.skill_count, |s| {
        s.name().to_string()
    });
    if picks.len() < class.skill_count {
        // Every skill of the class's list is known already: any other skill instead.
        let rest: Vec<Skill> = SKILLS
            .iter()
            .copied()
            .filter(|s| !known(&chosen, s) && !picks.contains(s))
            .collect();
        picks.extend(dice.choose(
            "Class skills (list exhausted)",
            &rest,
            class.skill_count - picks.len(),
            |s| s.name().to_string(),
        ));
    }
    chosen.extend(picks.into_iter().map(|s| (s, SkillSource::Class)));
    let free = free_from_ancestry
        + if class.id == ClassId::Bard && level >= 3 {
            3
        } else {
            0
        };
    let rest: Vec<Skill> = SKILLS
        .iter()
        .copied()
        .filter(|s| !known(&chosen, s))
        .collect();
    chosen.extend(
        dice.choose("Free skills", &rest, free, |s| s.name().to_string())
            .into_iter()
            .map(|s| (s, SkillSource::Free)),
    );

    let expertise_count = match class.id {
        ClassId::Rogue => 2,
        ClassId::Bard if level >= 3 => 2,
        _ => 0,
    };
    let proficient: Vec<Skill> = SKILLS
        .iter()
        .copied()
        .filter(|s| known(&chosen, s))
        .collect();
    let expertise = dice.choose("Expertise", &proficient, expertise_count, |s| {
        s.name().to_string()
    });
    let proficiency = proficiency_bonus(level);
    let jack = jack_of_all_trades(class.id, level);
    SKILLS
        .iter()
        .map(|&skill| {
            let source = chosen
                .iter()
                .find(|(s, _)| *s == skill)
                .map(|(_, from)| *from);
            let expert = expertise.contains(&skill);
            let added = match (source, expert) {
                (Some(_), true) => 2 * proficiency,
                (Some(_), false) => proficiency,
                (None, _) if jack => proficiency / 2,
                (None, _) => 0,
            };
            SkillLine {
                skill,
                ability: skill.ability(),
                source,
                expertise: expert,
                bonus: modifiers[skill.ability().index()] + added,
            }
        })
        .collect()
}
