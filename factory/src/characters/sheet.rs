//! The character sheet: everything the generator decided and everything derived from it, in
//! the form the page, the PDF and the JSON export show.

use serde::{Deserialize, Serialize};

use super::ancestries::AncestryId;
use super::backgrounds::Alignment;
use super::classes::ClassId;
use super::dice::Roll;
use super::equipment::Item;
use super::rules::{Ability, Size, Skill};

/// How the six scores were made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ScoreMethod {
    /// 4d6, the lowest die dropped, six times.
    #[default]
    Roll,
    /// 15, 14, 13, 12, 10, 8.
    StandardArray,
    /// 27 points, scores 8 to 15.
    PointBuy,
}

/// How hit points grow after level 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum HpMethod {
    /// The die's average, rounded up (6 for a d10).
    #[default]
    Average,
    /// A roll of the hit die each level.
    Rolled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presentation {
    Feminine,
    Masculine,
    Androgynous,
}

impl Presentation {
    pub fn noun(self, ancestry: &str) -> String {
        let ancestry = ancestry.to_lowercase();
        match self {
            Presentation::Feminine => format!("{ancestry} woman"),
            Presentation::Masculine => format!("{ancestry} man"),
            Presentation::Androgynous => format!("androgynous {ancestry}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appearance {
    pub presentation: Presentation,
    pub age: u32,
    pub height_in: u32,
    pub build: String,
    pub skin: String,
    pub hair: String,
    pub eyes: String,
    pub mark: String,
    pub clothing: String,
}

/// A height as a sheet writes it: 5 ft 7 in.
pub fn height_words(inches: u32) -> String {
    format!("{} ft {} in", inches / 12, inches % 12)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Personality {
    #[serde(rename = "trait")]
    pub trait_: String,
    pub ideal: String,
    pub bond: String,
    pub flaw: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Save {
    pub ability: Ability,
    pub proficient: bool,
    pub bonus: i32,
}

/// Where a skill proficiency came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkillSource {
    Ancestry,
    Background,
    Class,
    /// Chosen freely: the half-elf's Skill Versatility, the College of Lore.
    Free,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkillLine {
    pub skill: Skill,
    pub ability: Ability,
    pub source: Option<SkillSource>,
    pub expertise: bool,
    pub bonus: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feature {
    pub name: String,
    /// "Elf", "Wizard 2", "Acolyte".
    pub source: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spell {
    pub name: String,
    /// 0 for a cantrip.
    pub level: u32,
    /// Where it comes from when not the class list: "High elf", "Life domain".
    pub from: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spellcasting {
    pub ability: Ability,
    pub save_dc: i32,
    pub attack_bonus: i32,
    /// Slots of the 1st, 2nd, 3rd level.
    pub slots: Vec<u32>,
    pub cantrips: Vec<Spell>,
    /// Spells known, or prepared today.
    pub spells: Vec<Spell>,
    /// The wizard's spellbook (the prepared spells are among them).
    pub spellbook: Vec<Spell>,
    /// Always prepared, not counted: domain and oath spells.
    pub always: Vec<Spell>,
    pub prepares: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Character {
    /// The generator's version: sheets made by another version may differ for the same seed.
    pub generator: u32,
    pub seed: u64,
    pub name: String,
    pub level: u32,
    pub ancestry: AncestryId,
    pub ancestry_name: String,
    pub subrace: Option<String>,
    pub class: ClassId,
    pub class_name: String,
    pub background: String,
    pub alignment: Alignment,
    pub method: ScoreMethod,
    /// Before ancestry bonuses and improvements, in ability order (STR … CHA).
    pub base_scores: [i32; 6],
    pub scores: [i32; 6],
    pub modifiers: [i32; 6],
    pub proficiency_bonus: i32,
    pub saves: Vec<Save>,
    pub skills: Vec<SkillLine>,
    pub hit_die: u32,
    pub hp_method: HpMethod,
    pub hit_points: i32,
    pub armor_class: i32,
    pub initiative: i32,
    pub speed: u32,
    pub size: Size,
    pub darkvision: u32,
    pub passive_perception: i32,
    pub languages: Vec<String>,
    pub equipment: Vec<Item>,
    pub features: Vec<Feature>,
    pub spellcasting: Option<Spellcasting>,
    pub personality: Personality,
    pub appearance: Appearance,
    pub backstory: String,
    pub rolls: Vec<Roll>,
}

impl Character {
    /// The given name (before the first space).
    pub fn given_name(&self) -> &str {
        self.name.split(' ').next().unwrap_or(&self.name)
    }
}
