//! From a seed and the locked fields, a whole character. Each part draws from its own stream
//! (see [`Part`]), so locking or changing one field changes only what is derived from it:
//! a new class reassigns the same rolled scores and picks new skills and spells, but keeps the
//! name, the personality and the face.

use serde::{Deserialize, Serialize};

use super::ancestries::{ancestry, AncestryId, ANCESTRIES};
use super::backgrounds::{
    Alignment, Background, ALIGNMENTS, BACKGROUNDS, BONDS, FLAWS, IDEALS, TRAITS,
};
use super::classes::{class, jack_of_all_trades, Class, ClassId, CLASSES};
use super::dice::{Dice, Part, Roll};
use super::equipment::{armor_class, starting_items, Armor, Item};
use super::rules::{modifier, proficiency_bonus, Ability, Skill, ABILITIES, STANDARD_ARRAY};
use super::sheet::*;
use super::{casting, names, skills, story, CharacterError, GENERATOR_VERSION};

/// Fields a person fixed; everything else is drawn from the seed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Locks {
    pub name: Option<String>,
    pub level: Option<u32>,
    pub ancestry: Option<AncestryId>,
    pub class: Option<ClassId>,
    pub background: Option<String>,
    pub alignment: Option<Alignment>,
    pub method: Option<ScoreMethod>,
    /// Scores before ancestry bonuses, in ability order (STR … CHA).
    pub base_scores: Option<[i32; 6]>,
    pub hp_method: Option<HpMethod>,
    pub personality: Option<Personality>,
    pub appearance: Option<Appearance>,
}

/// Legal point-buy spreads (27 points each), highest first; one is drawn.
const POINT_BUYS: [[i32; 6]; 4] = [
    [15, 14, 13, 12, 10, 8],
    [15, 15, 15, 8, 8, 8],
    [15, 15, 13, 10, 10, 8],
    [14, 14, 14, 12, 10, 8],
];

const LANGUAGES: [&str; 15] = [
    "Dwarvish",
    "Elvish",
    "Giant",
    "Gnomish",
    "Goblin",
    "Halfling",
    "Orc",
    "Abyssal",
    "Celestial",
    "Draconic",
    "Deep Speech",
    "Infernal",
    "Primordial",
    "Sylvan",
    "Undercommon",
];

/// Checks the locks; the locked background, if any, found.
fn check(locks: &Locks) -> Result<Option<&'static Background>, CharacterError> {
    if let Some(level) = locks.level {
        if !(1..=5).contains(&level) {
            return Err(CharacterError::Invalid(format!(
                "Level {level} is outside what the generator makes: choose 1 to 5."
            )));
        }
    }
    if let Some(scores) = locks.base_scores {
        if let Some(bad) = scores.iter().find(|s| !(3..=18).contains(*s)) {
            return Err(CharacterError::Invalid(format!(
                "A score of {bad} cannot be rolled or bought: scores before ancestry bonuses are 3 to 18."
            )));
        }
    }
    let background = match &locks.background {
        None => None,
        Some(name) => match BACKGROUNDS
            .iter()
            .find(|b| b.name.eq_ignore_ascii_case(name))
        {
            Some(found) => Some(found),
            None => {
                let known: Vec<&str> = BACKGROUNDS.iter().map(|b| b.name).collect();
                return Err(CharacterError::Invalid(format!(
                    "“{name}” is not a background the generator knows; choose one of {}.",
                    known.join(", ")
                )));
            }
        },
    };
    if let Some(name) = &locks.name {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 60 {
            return Err(CharacterError::Invalid(
                "A name has 1 to 60 characters.".into(),
            ));
        }
        if names::blocked(name) {
            return Err(CharacterError::Invalid(
                "That name holds a word the generator does not allow; choose another.".into(),
            ));
        }
    }
    Ok(background)
}

/// The character of `seed` with `locks` applied.
pub fn generate(seed: u64, locks: &Locks) -> Result<Character, CharacterError> {
    let locked_background = check(locks)?;
    let mut log: Vec<Roll> = Vec::new();
    let level = locks
        .level
        .unwrap_or_else(|| Dice::new(seed, Part::Level, &mut log).roll("Level", 1, 5));
    let ancestry_id = locks.ancestry.unwrap_or_else(|| {
        Dice::new(seed, Part::Ancestry, &mut log)
            .pick("Ancestry", &ANCESTRIES, |a| a.name.to_string())
            .id
    });
    let ancestry = ancestry(ancestry_id);
    let class_id = locks.class.unwrap_or_else(|| {
        Dice::new(seed, Part::Class, &mut log)
            .pick("Class", &CLASSES, |c| c.name.to_string())
            .id
    });
    let class = class(class_id);
    let background: &Background = match locked_background {
        Some(found) => found,
        None => Dice::new(seed, Part::Background, &mut log)
            .pick("Background", &BACKGROUNDS, |b| b.name.to_string()),
    };
    let alignment = locks.alignment.unwrap_or_else(|| {
        *Dice::new(seed, Part::Alignment, &mut log)
            .weighted("Alignment", &ALIGNMENTS, |a| a.name().to_string())
    });

    // Scores: made, assigned by the class's priorities, then bonuses and improvements.
    let method = locks.method.unwrap_or_default();
    let base_scores = match locks.base_scores {
        Some(scores) => scores,
        None => assign(class, &made_scores(seed, method, &mut log)),
    };
    let mut scores = base_scores;
    for (ability, bonus) in ancestry.bonuses {
        scores[ability.index()] += bonus;
    }
    let mut free = ancestry.free_bonuses;
    for ability in class.priorities {
        if free == 0 {
            break;
        }
        if !ancestry.bonuses.iter().any(|(a, _)| *a == ability) {
            scores[ability.index()] += 1;
            free -= 1;
        }
    }
    if level >= 4 {
        improve(class, &mut scores);
    }
    let modifiers = scores.map(modifier);
    let proficiency = proficiency_bonus(level);
    let m = |a: Ability| modifiers[a.index()];

    let saves = ABILITIES
        .iter()
        .map(|&ability| {
            let proficient = class.saves.contains(&ability);
            Save {
                ability,
                proficient,
                bonus: m(ability) + if proficient { proficiency } else { 0 },
            }
        })
        .collect();

    let skills = skills::skills(
        seed,
        level,
        class,
        ancestry.skills,
        ancestry.free_skills,
        background,
        &modifiers,
        &mut log,
    );

    // Hit points: the die's maximum at level 1, then its average or a roll.
    let hp_method = locks.hp_method.unwrap_or_default();
    let per_level_bonus = ancestry.hp_per_level + class.hp_per_level;
    let mut hit_points = class.hit_die as i32 + m(Ability::Con) + per_level_bonus;
    {
        let mut dice = Dice::new(seed, Part::HitPoints, &mut log);
        for l in 2..=level {
            let gained = match hp_method {
                HpMethod::Average => class.hit_die as i32 / 2 + 1,
                HpMethod::Rolled => {
                    dice.roll(&format!("Hit points, level {l}"), 1, class.hit_die) as i32
                }
            };
            hit_points += (gained + m(Ability::Con)).max(1) + per_level_bonus;
        }
    }

    let mut equipment = starting_items(class, &scores);
    equipment.extend(background.equipment.iter().map(|name| Item::Gear {
        name: (*name).to_string(),
    }));
    let armor_class = armor_class(class, level, &scores, &equipment);
    let initiative = m(Ability::Dex)
        + if jack_of_all_trades(class_id, level) {
            proficiency / 2
        } else {
            0
        };
    let speed = speed(ancestry.speed, class, level, &scores, &equipment);
    let perception = skills
        .iter()
        .find(|s| s.skill == Skill::Perception)
        .map_or(0, |s| s.bonus);

    let languages = languages(
        seed,
        ancestry.languages,
        ancestry.extra_languages + background.languages,
        &mut log,
    );
    let spellcasting = casting::spellcasting(
        seed,
        level,
        class,
        ancestry_id,
        &modifiers,
        proficiency,
        &mut log,
    );
    let features = features(ancestry_id, class, level, background);

    let name = match &locks.name {
        Some(name) => name.trim().to_string(),
        None => names::full_name(&mut Dice::new(seed, Part::Name, &mut log), ancestry_id),
    };
    let personality = match &locks.personality {
        Some(p) => p.clone(),
        None => {
            let mut dice = Dice::new(seed, Part::Personality, &mut log);
            Personality {
                trait_: dice
                    .pick("Personality trait", &TRAITS, |t| t.to_string())
                    .to_string(),
                ideal: dice.pick("Ideal", &IDEALS, |t| t.to_string()).to_string(),
                bond: dice.pick("Bond", &BONDS, |t| t.to_string()).to_string(),
                flaw: dice.pick("Flaw", &FLAWS, |t| t.to_string()).to_string(),
            }
        }
    };
    let appearance = match &locks.appearance {
        Some(a) => a.clone(),
        None => story::appearance(
            &mut Dice::new(seed, Part::Appearance, &mut log),
            ancestry,
            class_id,
        ),
    };

    let mut character = Character {
        generator: GENERATOR_VERSION,
        seed,
        name,
        level,
        ancestry: ancestry_id,
        ancestry_name: ancestry.name.to_string(),
        subrace: (!ancestry.subrace.is_empty()).then(|| ancestry.subrace.to_string()),
        class: class_id,
        class_name: class.name.to_string(),
        background: background.name.to_string(),
        alignment,
        method,
        base_scores,
        scores,
        modifiers,
        proficiency_bonus: proficiency,
        saves,
        skills,
        hit_die: class.hit_die,
        hp_method,
        hit_points,
        armor_class,
        initiative,
        speed,
        size: ancestry.size,
        darkvision: ancestry.darkvision,
        passive_perception: 10 + perception,
        languages,
        equipment,
        features,
        spellcasting,
        personality,
        appearance,
        backstory: String::new(),
        rolls: Vec::new(),
    };
    character.backstory = story::backstory(
        &mut Dice::new(seed, Part::Backstory, &mut log),
        &character,
        background,
    );
    character.rolls = log;
    Ok(character)
}

/// Six scores, highest first, by `method`.
fn made_scores(seed: u64, method: ScoreMethod, log: &mut Vec<Roll>) -> [i32; 6] {
    let mut scores = match method {
        ScoreMethod::StandardArray => STANDARD_ARRAY,
        ScoreMethod::PointBuy => {
            *Dice::new(seed, Part::Scores, log).pick("Point buy", &POINT_BUYS, |s| format!("{s:?}"))
        }
        ScoreMethod::Roll => {
            let mut dice = Dice::new(seed, Part::Scores, log);
            std::array::from_fn(|i| dice.four_d6_drop_lowest(&format!("Score {}", i + 1)) as i32)
        }
    };
    scores.sort_unstable_by(|a, b| b.cmp(a));
    scores
}

/// Sorted scores given to the abilities in the class's order of priority.
fn assign(class: &Class, sorted: &[i32; 6]) -> [i32; 6] {
    let mut scores = [0; 6];
    for (ability, score) in class.priorities.iter().zip(sorted) {
        scores[ability.index()] = *score;
    }
    scores
}

/// Level 4's improvement: two points to the class's first ability, or split when it would
/// pass 20.
fn improve(class: &Class, scores: &mut [i32; 6]) {
    let mut points = 2;
    for ability in class.priorities {
        let score = &mut scores[ability.index()];
        let add = points.min(20 - *score).max(0);
        *score += add;
        points -= add;
        if points == 0 {
            break;
        }
    }
}

/// Walking speed: the ancestry's, with the monk's and barbarian's extra speed, and ten feet
/// less in heavy armour the character is not strong enough for.
pub(super) fn speed(
    base: u32,
    class: &Class,
    level: u32,
    scores: &[i32; 6],
    items: &[Item],
) -> u32 {
    let armor = items.iter().find_map(|i| match i {
        Item::Armor { armor } => Some(*armor),
        _ => None,
    });
    let mut speed = base;
    match class.id {
        ClassId::Monk if level >= 2 && armor.is_none() => speed += 10,
        ClassId::Barbarian if level >= 5 && armor != Some(Armor::ChainMail) => speed += 10,
        _ => {}
    }
    if let Some(armor) = armor {
        if scores[Ability::Str.index()] < armor.strength_needed() {
            speed -= 10;
        }
    }
    speed
}

fn languages(seed: u64, known: &[&str], extra: usize, log: &mut Vec<Roll>) -> Vec<String> {
    let mut all: Vec<String> = known.iter().map(|l| l.to_string()).collect();
    let open: Vec<&str> = LANGUAGES
        .iter()
        .copied()
        .filter(|l| !known.contains(l))
        .collect();
    let picked =
        Dice::new(seed, Part::Languages, log).choose("Languages", &open, extra, |l| l.to_string());
    all.extend(picked.into_iter().map(str::to_string));
    all
}

fn features(
    ancestry_id: AncestryId,
    class: &Class,
    level: u32,
    background: &Background,
) -> Vec<Feature> {
    let ancestry = ancestry(ancestry_id);
    let source = if ancestry.subrace.is_empty() {
        ancestry.name
    } else {
        ancestry.subrace
    };
    let mut features: Vec<Feature> = ancestry
        .traits
        .iter()
        .map(|(name, text)| Feature {
            name: name.to_string(),
            source: source.to_string(),
            text: text.to_string(),
        })
        .collect();
    features.extend(class.features.iter().filter(|(at, _, _)| *at <= level).map(
        |(at, name, text)| Feature {
            name: name.to_string(),
            source: format!("{} {at}", class.name),
            text: text.to_string(),
        },
    ));
    features.push(Feature {
        name: background.feature.0.to_string(),
        source: background.name.to_string(),
        text: background.feature.1.to_string(),
    });
    features
}
