//! What a character carries, and the armour class it gives: the armour worn (the best of
//! those the class's starting equipment offers), a shield, or the class's unarmoured defence.

use serde::{Deserialize, Serialize};

use super::classes::{Class, ClassId, Unarmored};
use super::rules::{modifier, Ability};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Armor {
    /// Light: 11 + DEX.
    Leather,
    /// Medium: 14 + DEX (at most +2).
    ScaleMail,
    /// Heavy: 16; needs STR 13, or the wearer is 10 feet slower.
    ChainMail,
}

impl Armor {
    /// The armour class it gives with this DEX modifier.
    pub fn armor_class(self, dex: i32) -> i32 {
        match self {
            Armor::Leather => 11 + dex,
            Armor::ScaleMail => 14 + dex.min(2),
            Armor::ChainMail => 16,
        }
    }

    pub fn strength_needed(self) -> i32 {
        match self {
            Armor::ChainMail => 13,
            _ => 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Item {
    Armor { armor: Armor },
    Shield,
    Gear { name: String },
}

impl Item {
    /// What the sheet calls it.
    pub fn label(&self) -> &str {
        match self {
            Item::Armor {
                armor: Armor::Leather,
            } => "Leather armour",
            Item::Armor {
                armor: Armor::ScaleMail,
            } => "Scale mail",
            Item::Armor {
                armor: Armor::ChainMail,
            } => "Chain mail",
            Item::Shield => "Shield",
            Item::Gear { name } => name,
        }
    }
}

/// The armour a character of `class` with `scores` wears: the one giving the best AC that
/// their strength allows (all of them if none does).
pub fn best_armor(class: &Class, scores: &[i32; 6]) -> Option<Armor> {
    let dex = modifier(scores[Ability::Dex.index()]);
    let strength = scores[Ability::Str.index()];
    let wearable: Vec<Armor> = class
        .armor
        .iter()
        .copied()
        .filter(|a| strength >= a.strength_needed())
        .collect();
    let pool = if wearable.is_empty() {
        class.armor.to_vec()
    } else {
        wearable
    };
    pool.into_iter()
        .max_by_key(|a| (a.armor_class(dex), std::cmp::Reverse(*a as u8)))
}

/// The starting equipment: the armour worn, the shield, and the class's gear.
pub fn starting_items(class: &Class, scores: &[i32; 6]) -> Vec<Item> {
    let mut items = Vec::new();
    if let Some(armor) = best_armor(class, scores) {
        items.push(Item::Armor { armor });
    }
    if class.shield {
        items.push(Item::Shield);
    }
    items.extend(class.equipment.iter().map(|name| Item::Gear {
        name: (*name).to_string(),
    }));
    items
}

/// Armour class from the items carried: armour (or the class's unarmoured defence), a shield,
/// and the Defense fighting style while armoured.
pub fn armor_class(class: &Class, level: u32, scores: &[i32; 6], items: &[Item]) -> i32 {
    let m = |a: Ability| modifier(scores[a.index()]);
    let armor = items.iter().find_map(|i| match i {
        Item::Armor { armor } => Some(*armor),
        _ => None,
    });
    let shield = items.iter().any(|i| matches!(i, Item::Shield));
    let base = match (armor, class.unarmored) {
        (Some(armor), _) => armor.armor_class(m(Ability::Dex)),
        (None, Some(Unarmored::Plus(ability))) => 10 + m(Ability::Dex) + m(ability),
        (None, Some(Unarmored::Scales)) => 13 + m(Ability::Dex),
        (None, None) => 10 + m(Ability::Dex),
    };
    let defense_style = armor.is_some()
        && match class.id {
            ClassId::Fighter => true,
            ClassId::Paladin => level >= 2,
            _ => false,
        };
    base + if shield { 2 } else { 0 } + i32::from(defense_style)
}
