//! The rules' vocabulary (SRD 5.1): abilities, skills, sizes, and the numbers every sheet
//! derives the same way: modifiers and the proficiency bonus.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ability {
    Str,
    Dex,
    Con,
    Int,
    Wis,
    Cha,
}

pub const ABILITIES: [Ability; 6] = [
    Ability::Str,
    Ability::Dex,
    Ability::Con,
    Ability::Int,
    Ability::Wis,
    Ability::Cha,
];

impl Ability {
    pub fn name(self) -> &'static str {
        match self {
            Ability::Str => "Strength",
            Ability::Dex => "Dexterity",
            Ability::Con => "Constitution",
            Ability::Int => "Intelligence",
            Ability::Wis => "Wisdom",
            Ability::Cha => "Charisma",
        }
    }

    pub fn short(self) -> &'static str {
        match self {
            Ability::Str => "STR",
            Ability::Dex => "DEX",
            Ability::Con => "CON",
            Ability::Int => "INT",
            Ability::Wis => "WIS",
            Ability::Cha => "CHA",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Skill {
    Acrobatics,
    AnimalHandling,
    Arcana,
    Athletics,
    Deception,
    History,
    Insight,
    Intimidation,
    Investigation,
    Medicine,
    Nature,
    Perception,
    Performance,
    Persuasion,
    Religion,
    SleightOfHand,
    Stealth,
    Survival,
}

pub const SKILLS: [Skill; 18] = [
    Skill::Acrobatics,
    Skill::AnimalHandling,
    Skill::Arcana,
    Skill::Athletics,
    Skill::Deception,
    Skill::History,
    Skill::Insight,
    Skill::Intimidation,
    Skill::Investigation,
    Skill::Medicine,
    Skill::Nature,
    Skill::Perception,
    Skill::Performance,
    Skill::Persuasion,
    Skill::Religion,
    Skill::SleightOfHand,
    Skill::Stealth,
    Skill::Survival,
];

impl Skill {
    pub fn ability(self) -> Ability {
        use Skill::*;
        match self {
            Athletics => Ability::Str,
            Acrobatics | SleightOfHand | Stealth => Ability::Dex,
            Arcana | History | Investigation | Nature | Religion => Ability::Int,
            AnimalHandling | Insight | Medicine | Perception | Survival => Ability::Wis,
            Deception | Intimidation | Performance | Persuasion => Ability::Cha,
        }
    }

    pub fn name(self) -> &'static str {
        use Skill::*;
        match self {
            Acrobatics => "Acrobatics",
            AnimalHandling => "Animal Handling",
            Arcana => "Arcana",
            Athletics => "Athletics",
            Deception => "Deception",
            History => "History",
            Insight => "Insight",
            Intimidation => "Intimidation",
            Investigation => "Investigation",
            Medicine => "Medicine",
            Nature => "Nature",
            Perception => "Perception",
            Performance => "Performance",
            Persuasion => "Persuasion",
            Religion => "Religion",
            SleightOfHand => "Sleight of Hand",
            Stealth => "Stealth",
            Survival => "Survival",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Size {
    Small,
    Medium,
}

/// The modifier of a score: ⌊(score − 10) / 2⌋.
pub fn modifier(score: i32) -> i32 {
    (score - 10).div_euclid(2)
}

/// +2 at levels 1–4, +3 at 5 (to level 8).
pub fn proficiency_bonus(level: u32) -> i32 {
    2 + (level.max(1) as i32 - 1) / 4
}

/// The point-buy cost of a score (8–15), 27 points in all.
pub fn point_cost(score: i32) -> Option<i32> {
    match score {
        8..=13 => Some(score - 8),
        14 => Some(7),
        15 => Some(9),
        _ => None,
    }
}

pub const POINT_BUY_BUDGET: i32 = 27;
pub const STANDARD_ARRAY: [i32; 6] = [15, 14, 13, 12, 10, 8];

/// `+2`, `−1`, `+0`, as a sheet writes a modifier.
pub fn signed(n: i32) -> String {
    if n < 0 {
        format!("−{}", -n)
    } else {
        format!("+{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modifiers_and_proficiency_follow_the_tables() {
        let table = [
            (1, -5),
            (3, -4),
            (8, -1),
            (9, -1),
            (10, 0),
            (11, 0),
            (12, 1),
            (15, 2),
            (20, 5),
        ];
        for (score, m) in table {
            assert_eq!(modifier(score), m, "score {score}");
        }
        assert_eq!(
            (1..=5).map(proficiency_bonus).collect::<Vec<_>>(),
            [2, 2, 2, 2, 3]
        );
        let array_cost: i32 = [15, 14, 13, 12, 10, 8]
            .iter()
            .map(|&s| point_cost(s).unwrap())
            .sum();
        assert_eq!(array_cost, POINT_BUY_BUDGET);
    }
}
