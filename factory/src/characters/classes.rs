//! The twelve classes of the SRD 5.1 at levels 1–5: hit die, saving throws, skill choices,
//! the order a class wants its scores in, starting equipment, features by level, and
//! spellcasting. Feature descriptions are this project's summaries.

use serde::{Deserialize, Serialize};

use super::equipment::Armor;
use super::rules::{Ability, Skill};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassId {
    Barbarian,
    Bard,
    Cleric,
    Druid,
    Fighter,
    Monk,
    Paladin,
    Ranger,
    Rogue,
    Sorcerer,
    Warlock,
    Wizard,
}

/// What a party needs a class for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    FrontLine,
    Healer,
    Skirmisher,
    Caster,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progression {
    /// Bard, cleric, druid, sorcerer, wizard.
    Full,
    /// Paladin and ranger, from level 2.
    Half,
    /// The warlock's pact magic.
    Pact,
}

pub struct Casting {
    pub ability: Ability,
    pub progression: Progression,
    /// Cantrips known at levels 1–5.
    pub cantrips: [usize; 5],
    /// Spells known at levels 1–5; `None` for classes that prepare (see [`prepared_count`]).
    pub known: Option<[usize; 5]>,
}

/// How a class with no armour works out its armour class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unarmored {
    /// 10 + DEX + this ability's modifier (barbarian: CON, monk: WIS).
    Plus(Ability),
    /// 13 + DEX (the draconic sorcerer's Draconic Resilience).
    Scales,
}

pub struct Class {
    pub id: ClassId,
    pub name: &'static str,
    pub hit_die: u32,
    pub saves: [Ability; 2],
    pub skill_count: usize,
    /// The skills to choose from; empty means any.
    pub skills: &'static [Skill],
    /// Scores are assigned in this order, highest first.
    pub priorities: [Ability; 6],
    /// Armour the starting equipment offers; the best for the character is worn.
    pub armor: &'static [Armor],
    pub shield: bool,
    pub unarmored: Option<Unarmored>,
    /// Hit points added per level (the draconic sorcerer).
    pub hp_per_level: i32,
    /// Starting gear besides the armour and shield (the fields above).
    pub equipment: &'static [&'static str],
    pub features: &'static [(u32, &'static str, &'static str)],
    pub casting: Option<Casting>,
    pub roles: &'static [Role],
}

use Ability::*;
use Skill::*;

#[rustfmt::skip]
pub const CLASSES: [Class; 12] = [
    Class {
        id: ClassId::Barbarian,
        name: "Barbarian",
        hit_die: 12,
        saves: [Str, Con],
        skill_count: 2,
        skills: &[AnimalHandling, Athletics, Intimidation, Nature, Perception, Survival],
        priorities: [Str, Con, Dex, Wis, Cha, Int],
        armor: &[],
        shield: false,
        unarmored: Some(Unarmored::Plus(Con)),
        hp_per_level: 0,
        equipment: &["Greataxe", "Two handaxes", "Explorer's pack", "Four javelins"],
        features: &[
            (1, "Rage", "Bonus damage and resistance to weapon blows while raging, twice per long rest."),
            (1, "Unarmored Defense", "Without armour, AC is 10 + DEX + CON."),
            (2, "Reckless Attack", "Advantage on strength attacks this turn, at the price of being easier to hit."),
            (2, "Danger Sense", "Advantage on DEX saves against effects they can see."),
            (3, "Primal Path: Path of the Berserker", "Frenzy: an extra attack each turn while raging, tiring afterwards."),
            (4, "Ability Score Improvement", "Scores raised by two points in all."),
            (5, "Extra Attack", "Two attacks with the Attack action."),
            (5, "Fast Movement", "Ten feet faster without heavy armour."),
        ],
        casting: None,
        roles: &[Role::FrontLine],
    },
    Class {
        id: ClassId::Bard,
        name: "Bard",
        hit_die: 8,
        saves: [Dex, Cha],
        skill_count: 3,
        skills: &[],
        priorities: [Cha, Dex, Con, Wis, Int, Str],
        armor: &[super::equipment::Armor::Leather],
        shield: false,
        unarmored: None,
        hp_per_level: 0,
        equipment: &["Rapier", "Diplomat's pack", "Lute", "Dagger"],
        features: &[
            (1, "Spellcasting", "Casts bard spells with Charisma, a musical instrument as focus."),
            (1, "Bardic Inspiration", "Gives an ally a d6 to add to a roll, CHA-modifier times per long rest."),
            (2, "Jack of All Trades", "Half the proficiency bonus on checks without proficiency."),
            (2, "Song of Rest", "Allies regain an extra d6 hit points on a short rest."),
            (3, "Bard College: College of Lore", "Three more skill proficiencies and Cutting Words."),
            (3, "Expertise", "Double proficiency in two skills."),
            (4, "Ability Score Improvement", "Scores raised by two points in all."),
            (5, "Bardic Inspiration (d8)", "The inspiration die grows."),
            (5, "Font of Inspiration", "Inspiration returns on a short rest."),
        ],
        casting: Some(Casting {
            ability: Cha,
            progression: Progression::Full,
            cantrips: [2, 2, 2, 3, 3],
            known: Some([4, 5, 6, 7, 8]),
        }),
        roles: &[Role::Healer, Role::Caster],
    },
    Class {
        id: ClassId::Cleric,
        name: "Cleric",
        hit_die: 8,
        saves: [Wis, Cha],
        skill_count: 2,
        skills: &[History, Insight, Medicine, Persuasion, Religion],
        priorities: [Wis, Str, Con, Cha, Dex, Int],
        armor: &[super::equipment::Armor::ScaleMail, super::equipment::Armor::ChainMail],
        shield: true,
        unarmored: None,
        hp_per_level: 0,
        equipment: &["Mace", "Light crossbow and 20 bolts", "Priest's pack", "Holy symbol"],
        features: &[
            (1, "Spellcasting", "Prepares cleric spells each day, cast with Wisdom."),
            (1, "Divine Domain: Life", "Heavy armour, and healing spells restore more."),
            (2, "Channel Divinity", "Turn Undead or Preserve Life, once per rest."),
            (4, "Ability Score Improvement", "Scores raised by two points in all."),
            (5, "Destroy Undead", "Turned undead of challenge ½ or lower are destroyed."),
        ],
        casting: Some(Casting {
            ability: Wis,
            progression: Progression::Full,
            cantrips: [3, 3, 3, 4, 4],
            known: None,
        }),
        roles: &[Role::Healer, Role::FrontLine],
    },
    Class {
        id: ClassId::Druid,
        name: "Druid",
        hit_die: 8,
        saves: [Int, Wis],
        skill_count: 2,
        skills: &[Arcana, AnimalHandling, Insight, Medicine, Nature, Perception, Religion, Survival],
        priorities: [Wis, Con, Dex, Int, Cha, Str],
        armor: &[super::equipment::Armor::Leather],
        shield: true,
        unarmored: None,
        hp_per_level: 0,
        equipment: &["Scimitar", "Explorer's pack", "Druidic focus"],
        features: &[
            (1, "Druidic", "Knows the secret language of druids."),
            (1, "Spellcasting", "Prepares druid spells each day, cast with Wisdom."),
            (2, "Wild Shape", "Becomes a beast seen before, twice per short rest."),
            (2, "Druid Circle: Circle of the Land", "Natural Recovery, and circle spells of a chosen land."),
            (4, "Wild Shape Improvement", "Beasts of higher challenge, and swimming ones."),
            (4, "Ability Score Improvement", "Scores raised by two points in all."),
        ],
        casting: Some(Casting {
            ability: Wis,
            progression: Progression::Full,
            cantrips: [2, 2, 2, 3, 3],
            known: None,
        }),
        roles: &[Role::Healer, Role::Caster],
    },
    Class {
        id: ClassId::Fighter,
        name: "Fighter",
        hit_die: 10,
        saves: [Str, Con],
        skill_count: 2,
        skills: &[Acrobatics, AnimalHandling, Athletics, History, Insight, Intimidation, Perception, Survival],
        priorities: [Str, Con, Dex, Wis, Cha, Int],
        armor: &[super::equipment::Armor::ChainMail],
        shield: true,
        unarmored: None,
        hp_per_level: 0,
        equipment: &["Longsword", "Light crossbow and 20 bolts", "Dungeoneer's pack"],
        features: &[
            (1, "Fighting Style: Defense", "+1 to AC while wearing armour."),
            (1, "Second Wind", "Regains 1d10 + level hit points as a bonus action, once per rest."),
            (2, "Action Surge", "One more action on a turn, once per rest."),
            (3, "Martial Archetype: Champion", "Critical hits on a 19 or 20."),
            (4, "Ability Score Improvement", "Scores raised by two points in all."),
            (5, "Extra Attack", "Two attacks with the Attack action."),
        ],
        casting: None,
        roles: &[Role::FrontLine],
    },
    Class {
        id: ClassId::Monk,
        name: "Monk",
        hit_die: 8,
        saves: [Str, Dex],
        skill_count: 2,
        skills: &[Acrobatics, Athletics, History, Insight, Religion, Stealth],
        priorities: [Dex, Wis, Con, Str, Int, Cha],
        armor: &[],
        shield: false,
        unarmored: Some(Unarmored::Plus(Wis)),
        hp_per_level: 0,
        equipment: &["Shortsword", "Dungeoneer's pack", "Ten darts"],
        features: &[
            (1, "Unarmored Defense", "Without armour or shield, AC is 10 + DEX + WIS."),
            (1, "Martial Arts", "Unarmed strikes with DEX, a d4 die, and a bonus-action strike."),
            (2, "Ki", "Points for Flurry of Blows, Patient Defense and Step of the Wind."),
            (2, "Unarmored Movement", "Ten feet faster without armour."),
            (3, "Monastic Tradition: Way of the Open Hand", "Flurry strikes can knock down or push."),
            (3, "Deflect Missiles", "Reduces the damage of a ranged weapon attack, and may throw it back."),
            (4, "Ability Score Improvement", "Scores raised by two points in all."),
            (4, "Slow Fall", "Takes less damage from falling."),
            (5, "Extra Attack", "Two attacks with the Attack action."),
            (5, "Stunning Strike", "Spends ki to stun a creature it hits."),
        ],
        casting: None,
        roles: &[Role::Skirmisher, Role::FrontLine],
    },
    Class {
        id: ClassId::Paladin,
        name: "Paladin",
        hit_die: 10,
        saves: [Wis, Cha],
        skill_count: 2,
        skills: &[Athletics, Insight, Intimidation, Medicine, Persuasion, Religion],
        priorities: [Str, Cha, Con, Wis, Dex, Int],
        armor: &[super::equipment::Armor::ChainMail],
        shield: true,
        unarmored: None,
        hp_per_level: 0,
        equipment: &["Longsword", "Five javelins", "Priest's pack", "Holy symbol"],
        features: &[
            (1, "Divine Sense", "Senses celestials, fiends and undead nearby."),
            (1, "Lay on Hands", "A pool of healing of five times the level."),
            (2, "Fighting Style: Defense", "+1 to AC while wearing armour."),
            (2, "Spellcasting", "Prepares paladin spells each day, cast with Charisma."),
            (2, "Divine Smite", "Spends a spell slot for radiant damage on a hit."),
            (3, "Divine Health", "Immune to disease."),
            (3, "Sacred Oath: Oath of Devotion", "Oath spells and Channel Divinity."),
            (4, "Ability Score Improvement", "Scores raised by two points in all."),
            (5, "Extra Attack", "Two attacks with the Attack action."),
        ],
        casting: Some(Casting {
            ability: Cha,
            progression: Progression::Half,
            cantrips: [0; 5],
            known: None,
        }),
        roles: &[Role::FrontLine, Role::Healer],
    },
    Class {
        id: ClassId::Ranger,
        name: "Ranger",
        hit_die: 10,
        saves: [Str, Dex],
        skill_count: 3,
        skills: &[AnimalHandling, Athletics, Insight, Investigation, Nature, Perception, Stealth, Survival],
        priorities: [Dex, Wis, Con, Str, Int, Cha],
        armor: &[super::equipment::Armor::ScaleMail, super::equipment::Armor::Leather],
        shield: false,
        unarmored: None,
        hp_per_level: 0,
        equipment: &["Two shortswords", "Explorer's pack", "Longbow and 20 arrows"],
        features: &[
            (1, "Favored Enemy", "Advantage on tracking and recalling lore about one kind of foe."),
            (1, "Natural Explorer", "At home in one kind of terrain."),
            (2, "Fighting Style: Archery", "+2 to attacks with ranged weapons."),
            (2, "Spellcasting", "Knows ranger spells, cast with Wisdom."),
            (3, "Ranger Archetype: Hunter", "Colossus Slayer, Giant Killer or Horde Breaker."),
            (3, "Primeval Awareness", "Spends a slot to sense aberrations, dragons, fey and more nearby."),
            (4, "Ability Score Improvement", "Scores raised by two points in all."),
            (5, "Extra Attack", "Two attacks with the Attack action."),
        ],
        casting: Some(Casting {
            ability: Wis,
            progression: Progression::Half,
            cantrips: [0; 5],
            known: Some([0, 2, 3, 3, 4]),
        }),
        roles: &[Role::Skirmisher],
    },
    Class {
        id: ClassId::Rogue,
        name: "Rogue",
        hit_die: 8,
        saves: [Dex, Int],
        skill_count: 4,
        skills: &[Acrobatics, Athletics, Deception, Insight, Intimidation, Investigation, Perception, Performance, Persuasion, SleightOfHand, Stealth],
        priorities: [Dex, Con, Int, Wis, Cha, Str],
        armor: &[super::equipment::Armor::Leather],
        shield: false,
        unarmored: None,
        hp_per_level: 0,
        equipment: &["Rapier", "Shortbow and 20 arrows", "Burglar's pack", "Two daggers", "Thieves' tools"],
        features: &[
            (1, "Expertise", "Double proficiency in two skills."),
            (1, "Sneak Attack", "Extra damage once a turn with advantage or an ally beside the target."),
            (1, "Thieves' Cant", "A secret mix of dialect, jargon and code."),
            (2, "Cunning Action", "Dash, Disengage or Hide as a bonus action."),
            (3, "Roguish Archetype: Thief", "Fast Hands and Second-Story Work."),
            (4, "Ability Score Improvement", "Scores raised by two points in all."),
            (5, "Uncanny Dodge", "Halves the damage of an attack they can see, as a reaction."),
        ],
        casting: None,
        roles: &[Role::Skirmisher],
    },
    Class {
        id: ClassId::Sorcerer,
        name: "Sorcerer",
        hit_die: 6,
        saves: [Con, Cha],
        skill_count: 2,
        skills: &[Arcana, Deception, Insight, Intimidation, Persuasion, Religion],
        priorities: [Cha, Con, Dex, Wis, Int, Str],
        armor: &[],
        shield: false,
        unarmored: Some(Unarmored::Scales),
        hp_per_level: 1,
        equipment: &["Light crossbow and 20 bolts", "Component pouch", "Dungeoneer's pack", "Two daggers"],
        features: &[
            (1, "Spellcasting", "Knows sorcerer spells, cast with Charisma."),
            (1, "Sorcerous Origin: Draconic Bloodline", "Draconic Resilience: AC 13 + DEX without armour, one more hit point per level."),
            (2, "Font of Magic", "Sorcery points, traded for spell slots and back."),
            (3, "Metamagic", "Two ways to twist a spell as it is cast."),
            (4, "Ability Score Improvement", "Scores raised by two points in all."),
        ],
        casting: Some(Casting {
            ability: Cha,
            progression: Progression::Full,
            cantrips: [4, 4, 4, 5, 5],
            known: Some([2, 3, 4, 5, 6]),
        }),
        roles: &[Role::Caster],
    },
    Class {
        id: ClassId::Warlock,
        name: "Warlock",
        hit_die: 8,
        saves: [Wis, Cha],
        skill_count: 2,
        skills: &[Arcana, Deception, History, Intimidation, Investigation, Nature, Religion],
        priorities: [Cha, Con, Dex, Wis, Int, Str],
        armor: &[super::equipment::Armor::Leather],
        shield: false,
        unarmored: None,
        hp_per_level: 0,
        equipment: &["Light crossbow and 20 bolts", "Component pouch", "Scholar's pack", "Quarterstaff", "Two daggers"],
        features: &[
            (1, "Otherworldly Patron: The Fiend", "Dark One's Blessing: temporary hit points on each kill."),
            (1, "Pact Magic", "Few spell slots, all of the highest level, back on a short rest."),
            (2, "Eldritch Invocations", "Two invocations, such as Agonizing Blast."),
            (3, "Pact Boon: Pact of the Tome", "A Book of Shadows with three more cantrips."),
            (4, "Ability Score Improvement", "Scores raised by two points in all."),
        ],
        casting: Some(Casting {
            ability: Cha,
            progression: Progression::Pact,
            cantrips: [2, 2, 2, 3, 3],
            known: Some([2, 3, 4, 5, 6]),
        }),
        roles: &[Role::Caster],
    },
    Class {
        id: ClassId::Wizard,
        name: "Wizard",
        hit_die: 6,
        saves: [Int, Wis],
        skill_count: 2,
        skills: &[Arcana, History, Insight, Investigation, Medicine, Religion],
        priorities: [Int, Con, Dex, Wis, Cha, Str],
        armor: &[],
        shield: false,
        unarmored: None,
        hp_per_level: 0,
        equipment: &["Quarterstaff", "Component pouch", "Scholar's pack", "Spellbook"],
        features: &[
            (1, "Spellcasting", "A spellbook; prepares from it each day, cast with Intelligence."),
            (1, "Arcane Recovery", "Recovers some spell slots on a short rest, once a day."),
            (2, "Arcane Tradition: School of Evocation", "Evocation Savant and Sculpt Spells."),
            (4, "Ability Score Improvement", "Scores raised by two points in all."),
        ],
        casting: Some(Casting {
            ability: Int,
            progression: Progression::Full,
            cantrips: [3, 3, 3, 4, 4],
            known: None,
        }),
        roles: &[Role::Caster],
    },
];

pub fn class(id: ClassId) -> &'static Class {
    CLASSES
        .iter()
        .find(|c| c.id == id)
        .expect("every id has its class")
}

/// Spell slots per spell level (1st, 2nd, 3rd) at a character level.
pub fn slots(progression: Progression, level: u32) -> Vec<u32> {
    let level = level.clamp(1, 5) as usize;
    let table: [&[u32]; 5] = match progression {
        Progression::Full => [&[2], &[3], &[4, 2], &[4, 3], &[4, 3, 2]],
        Progression::Half => [&[], &[2], &[3], &[3], &[4, 2]],
        // Pact magic: the slots are all of the highest level.
        Progression::Pact => [&[1], &[2], &[0, 2], &[0, 2], &[0, 0, 2]],
    };
    table[level - 1].to_vec()
}

/// How many spells a preparing class prepares: its modifier plus the level (half the level
/// for the paladin), at least one.
pub fn prepared_count(class: &Class, level: u32, modifier: i32) -> usize {
    let from_level = match class.casting.as_ref().map(|c| c.progression) {
        Some(Progression::Half) => level as i32 / 2,
        _ => level as i32,
    };
    (modifier + from_level).max(1) as usize
}

/// The highest spell level a character can cast (0: none). A warlock casts lower spells with
/// its higher pact slots, so every level up to this one may be chosen.
pub fn max_spell_level(progression: Progression, level: u32) -> u32 {
    slots(progression, level)
        .iter()
        .rposition(|&n| n > 0)
        .map_or(0, |i| i as u32 + 1)
}

/// The bard's Jack of All Trades (level 2): half the proficiency bonus on checks without
/// proficiency, initiative included.
pub fn jack_of_all_trades(class: ClassId, level: u32) -> bool {
    class == ClassId::Bard && level >= 2
}
