//! Backgrounds (the SRD's Acolyte, and others written for this project in its form: two
//! skills, languages or tools, equipment, a feature), alignments, and the personality tables.

use serde::{Deserialize, Serialize};

use super::rules::Skill::{self, *};

pub struct Background {
    pub name: &'static str,
    pub skills: [Skill; 2],
    pub languages: usize,
    pub equipment: &'static [&'static str],
    pub feature: (&'static str, &'static str),
    /// How the backstory tells of it: "served at a shrine in {place}".
    pub story: &'static str,
}

#[rustfmt::skip]
pub const BACKGROUNDS: [Background; 10] = [
    Background {
        name: "Acolyte",
        skills: [Insight, Religion],
        languages: 2,
        equipment: &["Holy symbol", "Prayer book", "Five sticks of incense", "Vestments", "Common clothes", "Pouch with 15 gp"],
        feature: ("Shelter of the Faithful", "Temples of their faith give them and their companions care and a bed."),
        story: "served at a shrine in {place}",
    },
    Background {
        name: "Caravan guard",
        skills: [Athletics, Survival],
        languages: 1,
        equipment: &["Waterskin", "Trail map", "Traveller's clothes", "Pouch with 10 gp"],
        feature: ("Road Friends", "Drovers and innkeepers along the trade roads remember them and trade news freely."),
        story: "guarded wagons on the long roads out of {place}",
    },
    Background {
        name: "Archivist",
        skills: [History, Investigation],
        languages: 2,
        equipment: &["Bottle of ink", "Quill", "Small knife", "Letter from a colleague", "Common clothes", "Pouch with 10 gp"],
        feature: ("Catalogue Memory", "Knows where a piece of lore is likely kept, and who guards it."),
        story: "copied and sorted old records in the archives of {place}",
    },
    Background {
        name: "Street performer",
        skills: [Acrobatics, Performance],
        languages: 0,
        equipment: &["Juggling pins", "Costume", "Hand drum", "Pouch with 12 gp"],
        feature: ("Crowd Pleaser", "Can always earn a meal and a place to sleep by performing."),
        story: "juggled and tumbled for coins in the squares of {place}",
    },
    Background {
        name: "Herbalist",
        skills: [Medicine, Nature],
        languages: 1,
        equipment: &["Herbalism kit", "Pressed-flower notebook", "Common clothes", "Pouch with 8 gp"],
        feature: ("Hedge Knowledge", "Finds common healing plants wherever anything grows."),
        story: "gathered and dried herbs in the hills above {place}",
    },
    Background {
        name: "Dockhand",
        skills: [Athletics, Perception],
        languages: 0,
        equipment: &["50 feet of hempen rope", "Belaying pin", "Common clothes", "Pouch with 10 gp"],
        feature: ("Harbour Passage", "Can find a ship bound for most ports and work the passage."),
        story: "hauled cargo on the wharves of {place}",
    },
    Background {
        name: "Smuggler",
        skills: [Deception, Stealth],
        languages: 0,
        equipment: &["Crowbar", "Dark clothes with a hood", "False-bottomed box", "Pouch with 15 gp"],
        feature: ("Quiet Contacts", "Knows fences and forgers who ask no questions."),
        story: "moved goods past the customs houses of {place}",
    },
    Background {
        name: "Village envoy",
        skills: [Insight, Persuasion],
        languages: 1,
        equipment: &["Signet of their village", "Fine clothes", "Letter of introduction", "Pouch with 20 gp"],
        feature: ("Trusted Voice", "Local leaders hear them out and give them a fair hearing."),
        story: "spoke for their village before the lords of {place}",
    },
    Background {
        name: "Hunter",
        skills: [AnimalHandling, Survival],
        languages: 0,
        equipment: &["Hunting trap", "Skinning knife", "Traveller's clothes", "Pouch with 10 gp"],
        feature: ("Wild Provider", "Finds food and fresh water for six people each day in the wild."),
        story: "tracked game in the forests around {place}",
    },
    Background {
        name: "Sellsword",
        skills: [Athletics, Intimidation],
        languages: 0,
        equipment: &["Insignia of an old company", "Dice set", "Common clothes", "Pouch with 10 gp"],
        feature: ("Company Rank", "Soldiers recognise their old company and treat them as one of their own."),
        story: "fought for pay in the border wars of {place}",
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Alignment {
    LawfulGood,
    NeutralGood,
    ChaoticGood,
    LawfulNeutral,
    Neutral,
    ChaoticNeutral,
    LawfulEvil,
    NeutralEvil,
    ChaoticEvil,
}

impl Alignment {
    pub fn name(self) -> &'static str {
        match self {
            Alignment::LawfulGood => "Lawful good",
            Alignment::NeutralGood => "Neutral good",
            Alignment::ChaoticGood => "Chaotic good",
            Alignment::LawfulNeutral => "Lawful neutral",
            Alignment::Neutral => "Neutral",
            Alignment::ChaoticNeutral => "Chaotic neutral",
            Alignment::LawfulEvil => "Lawful evil",
            Alignment::NeutralEvil => "Neutral evil",
            Alignment::ChaoticEvil => "Chaotic evil",
        }
    }
}

/// Adventurers lean good; evil is rare but possible.
pub const ALIGNMENTS: [(Alignment, u32); 9] = [
    (Alignment::LawfulGood, 14),
    (Alignment::NeutralGood, 18),
    (Alignment::ChaoticGood, 16),
    (Alignment::LawfulNeutral, 12),
    (Alignment::Neutral, 14),
    (Alignment::ChaoticNeutral, 14),
    (Alignment::LawfulEvil, 4),
    (Alignment::NeutralEvil, 4),
    (Alignment::ChaoticEvil, 4),
];

pub const TRAITS: [&str; 16] = [
    "Hums old work songs under their breath when nervous.",
    "Counts everything: steps, coins, stars.",
    "Speaks plainly and expects the same of others.",
    "Laughs loudest at their own misfortunes.",
    "Keeps a small notebook of every kindness done to them.",
    "Cannot pass a locked door without wondering what is behind it.",
    "Greets strangers as if they were old friends.",
    "Sleeps lightly, with one hand on their pack.",
    "Collects a pebble from every place they have slept.",
    "Answers questions with questions.",
    "Is unfailingly polite, even to enemies.",
    "Tells the same three stories, each time a little grander.",
    "Feeds every stray animal they meet.",
    "Is slow to speak and quick to listen.",
    "Fidgets with a coin, a knife or a ring when thinking.",
    "Needs to know the plan, and the plan if the plan fails.",
];

pub const IDEALS: [&str; 12] = [
    "Fairness: everyone deserves the same chance.",
    "Freedom: no chain, of iron or of custom, should bind a person.",
    "Duty: a promise made is a debt owed.",
    "Curiosity: the world is a puzzle worth solving.",
    "Community: we rise or fall with those beside us.",
    "Mercy: even the worst deserve a second chance.",
    "Ambition: one day their name will be sung.",
    "Tradition: the old ways kept us alive for a reason.",
    "Knowledge: what is lost should be found again.",
    "Independence: they answer to no one but themselves.",
    "Balance: nothing in excess, not even virtue.",
    "Protection: the weak should never stand alone.",
];

pub const BONDS: [&str; 12] = [
    "They owe their life to a stranger they have never found again.",
    "A sibling waits for them to come home with enough gold to save the family farm.",
    "They carry a letter they have sworn never to open.",
    "Their old mentor vanished, and they mean to learn why.",
    "A small temple took them in once; they will always defend it.",
    "They keep a map to a place that appears in no atlas.",
    "Their hometown is slowly dying, and they want to find the cure.",
    "A rival stole something precious from them, and they want it back.",
    "They are the last keeper of a song their people used to sing.",
    "They promised a dying friend to see the sea.",
    "A child they rescued now writes to them every season.",
    "They wear a ring whose owner they are sworn to find.",
];

pub const FLAWS: [&str; 12] = [
    "Cannot resist a wager, however poor the odds.",
    "Trusts anyone who flatters them.",
    "Holds a grudge for years.",
    "Lies, smoothly and often, when the truth is inconvenient.",
    "Is sure they are right, especially when they are not.",
    "Freezes when people they care about are in danger.",
    "Spends coin as fast as it comes.",
    "Has a short temper and a long memory for insults.",
    "Will not leave a treasure behind, whatever the risk.",
    "Distrusts anyone who wields magic.",
    "Keeps a secret that could ruin them.",
    "Boasts of deeds they have not done.",
];
