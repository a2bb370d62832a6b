//! Characters on the wire: the sheet exactly as the generator makes it (the same fields and
//! names, its choices as enums), the locks a person sets, and a project's list. The server
//! converts through serde (the shapes match field for field), and a test holds every
//! generated sheet to it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `SleightOfHand` as "Sleight of hand".
fn words(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, ch) in name.chars().enumerate() {
        if ch.is_uppercase() && i > 0 {
            out.push(' ');
            out.extend(ch.to_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The variant's name in words: `HalfElf` is "Half elf".
            pub fn label(self) -> String {
                words(&format!("{self:?}"))
            }
        }
    };
}

wire_enum!(
    /// The nine ancestries of the SRD 5.1.
    Ancestry { Dwarf, Elf, Halfling, Human, Dragonborn, Gnome, HalfElf, HalfOrc, Tiefling }
);
wire_enum!(
    /// The twelve classes of the SRD 5.1.
    CharacterClass { Barbarian, Bard, Cleric, Druid, Fighter, Monk, Paladin, Ranger, Rogue, Sorcerer, Warlock, Wizard }
);
wire_enum!(Alignment {
    LawfulGood,
    NeutralGood,
    ChaoticGood,
    LawfulNeutral,
    Neutral,
    ChaoticNeutral,
    LawfulEvil,
    NeutralEvil,
    ChaoticEvil
});
wire_enum!(
    /// How the six scores are made: 4d6 drop lowest, the standard array, or 27-point buy.
    ScoreMethod { Roll, StandardArray, PointBuy }
);
wire_enum!(
    /// Hit points after level 1: the die's average, or rolled.
    HpMethod { Average, Rolled }
);
wire_enum!(AbilityName {
    Str,
    Dex,
    Con,
    Int,
    Wis,
    Cha
});
wire_enum!(SkillName {
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
    Survival
});
wire_enum!(Size { Small, Medium });
wire_enum!(Presentation {
    Feminine,
    Masculine,
    Androgynous
});
wire_enum!(SkillSource {
    Ancestry,
    Background,
    Class,
    Free
});
wire_enum!(ArmorName {
    Leather,
    ScaleMail,
    ChainMail
});

/// Fields a person fixed; the rest comes from the seed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct CharacterLocks {
    pub name: Option<String>,
    /// 1 to 5.
    pub level: Option<u32>,
    pub ancestry: Option<Ancestry>,
    pub class: Option<CharacterClass>,
    /// One of the backgrounds the generator knows (Acolyte, Archivist, ...).
    pub background: Option<String>,
    pub alignment: Option<Alignment>,
    pub method: Option<ScoreMethod>,
    /// Scores before ancestry bonuses, STR, DEX, CON, INT, WIS, CHA (3 to 18 each).
    pub base_scores: Option<[i32; 6]>,
    pub hp_method: Option<HpMethod>,
    pub personality: Option<Personality>,
    pub appearance: Option<Appearance>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Personality {
    #[serde(rename = "trait")]
    pub trait_: String,
    pub ideal: String,
    pub bond: String,
    pub flaw: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Save {
    pub ability: AbilityName,
    pub proficient: bool,
    pub bonus: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SkillLine {
    pub skill: SkillName,
    pub ability: AbilityName,
    pub source: Option<SkillSource>,
    pub expertise: bool,
    pub bonus: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Item {
    Armor { armor: ArmorName },
    Shield,
    Gear { name: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Feature {
    pub name: String,
    pub source: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Spell {
    pub name: String,
    /// 0 for a cantrip.
    pub level: u32,
    pub from: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Spellcasting {
    pub ability: AbilityName,
    pub save_dc: i32,
    pub attack_bonus: i32,
    /// Slots of the 1st, 2nd and 3rd level.
    pub slots: Vec<u32>,
    pub cantrips: Vec<Spell>,
    pub spells: Vec<Spell>,
    pub spellbook: Vec<Spell>,
    pub always: Vec<Spell>,
    pub prepares: bool,
}

/// One line of the roll log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Roll {
    pub what: String,
    pub dice: String,
    pub rolls: Vec<u32>,
    pub result: String,
}

/// A whole character sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CharacterSheet {
    pub generator: u32,
    pub seed: u64,
    pub name: String,
    pub level: u32,
    pub ancestry: Ancestry,
    pub ancestry_name: String,
    pub subrace: Option<String>,
    pub class: CharacterClass,
    pub class_name: String,
    pub background: String,
    pub alignment: Alignment,
    pub method: ScoreMethod,
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

/// A saved character: the sheet, and the seed and locks it was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CharacterDto {
    pub id: i64,
    pub project_id: i64,
    pub seed: u64,
    pub locks: CharacterLocks,
    pub sheet: CharacterSheet,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One line of a project's list of characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CharacterSummaryDto {
    pub id: i64,
    pub name: String,
    pub level: i32,
    pub ancestry: String,
    pub class: String,
    pub updated_at: DateTime<Utc>,
}

#[cfg(feature = "ssr")]
mod convert {
    use super::*;
    use factory::characters::{store, Locks};

    /// Between two types of the same serde shape (the factory's and the wire's).
    fn reshape<A: Serialize, B: serde::de::DeserializeOwned>(value: &A) -> B {
        serde_json::from_value(serde_json::to_value(value).expect("serialises"))
            .expect("the wire types match the generator's field for field")
    }

    impl From<store::Saved> for CharacterDto {
        fn from(s: store::Saved) -> Self {
            CharacterDto {
                id: s.id,
                project_id: s.project_id,
                seed: s.seed,
                locks: reshape(&s.locks),
                sheet: reshape(&s.sheet),
                created_at: s.created_at,
                updated_at: s.updated_at,
            }
        }
    }

    impl From<store::Summary> for CharacterSummaryDto {
        fn from(s: store::Summary) -> Self {
            CharacterSummaryDto {
                id: s.id,
                name: s.name,
                level: s.level,
                ancestry: s.ancestry,
                class: s.class,
                updated_at: s.updated_at,
            }
        }
    }

    impl From<&CharacterLocks> for Locks {
        fn from(locks: &CharacterLocks) -> Self {
            reshape(locks)
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn every_kind_of_sheet_fits_the_wire_types() {
            for seed in 0..600 {
                let sheet = factory::characters::generate(seed, &Locks::default()).unwrap();
                let wire: CharacterSheet = reshape(&sheet);
                assert_eq!(
                    serde_json::to_value(&wire).unwrap(),
                    serde_json::to_value(&sheet).unwrap()
                );
            }
            let locks = CharacterLocks {
                ancestry: Some(Ancestry::HalfOrc),
                class: Some(CharacterClass::Warlock),
                alignment: Some(Alignment::ChaoticNeutral),
                method: Some(ScoreMethod::PointBuy),
                hp_method: Some(HpMethod::Rolled),
                ..CharacterLocks::default()
            };
            let made = factory::characters::generate(1, &Locks::from(&locks)).unwrap();
            assert_eq!(made.class_name, "Warlock");
            assert_eq!(made.ancestry_name, "Half-orc");
        }
    }
}
