//! Appearance (drawn within the ancestry's ranges) and the backstory, told by a small grammar
//! from the sheet's facts: where they come from, what their background made of them, what
//! turned them to their class, what they believe, what holds them and what trips them up.

use super::ancestries::Ancestry;
use super::backgrounds::Background;
use super::classes::ClassId;
use super::dice::Dice;
use super::sheet::{height_words, Appearance, Character, Presentation};

const BUILDS: [&str; 10] = [
    "slight",
    "wiry",
    "lean",
    "average",
    "sturdy",
    "broad-shouldered",
    "stocky",
    "heavy-set",
    "rangy",
    "compact",
];

const MARKS: [&str; 16] = [
    "a thin scar across the left cheek",
    "a swallow tattooed on one wrist",
    "a silver ring in one ear",
    "a burn mark on the back of one hand",
    "a crooked, often-broken nose",
    "freckles across the nose",
    "a streak of white in the hair",
    "one ear notched by a blade",
    "ink-stained fingers",
    "a chipped front tooth",
    "a birthmark shaped like a leaf on the neck",
    "a small scar through one eyebrow",
    "a braided cord tied around one arm",
    "a faded clan tattoo along the jaw",
    "calloused, scarred knuckles",
    "a pale line where a ring used to be",
];

fn clothing(class: ClassId) -> &'static [&'static str] {
    match class {
        ClassId::Barbarian => &[
            "furs and a belt hung with bone charms",
            "a patched leather kilt and a wolf-pelt cloak",
        ],
        ClassId::Bard => &[
            "a bright doublet with slashed sleeves",
            "a travel-worn coat covered in embroidered patches",
        ],
        ClassId::Cleric => &[
            "chain mail under a white tabard with a holy sun",
            "scale armour and a hooded vestment",
        ],
        ClassId::Druid => &[
            "a mossy green cloak fastened with a wooden clasp",
            "leathers woven with feathers and dried flowers",
        ],
        ClassId::Fighter => &[
            "dented chain mail and a red surcoat",
            "chain mail under a plain grey tabard",
        ],
        ClassId::Monk => &[
            "simple saffron robes and wrapped hands",
            "loose grey robes tied with a black sash",
        ],
        ClassId::Paladin => &[
            "polished chain mail and a blue cloak",
            "chain mail under a tabard bearing a silver star",
        ],
        ClassId::Ranger => &[
            "a green hooded cloak over scale armour",
            "weathered leathers and a hood the colour of bark",
        ],
        ClassId::Rogue => &[
            "dark leathers with many small pockets",
            "a hooded charcoal cloak over fitted leathers",
        ],
        ClassId::Sorcerer => &[
            "a flowing coat with scale-like embroidery",
            "fine robes edged in shimmering thread",
        ],
        ClassId::Warlock => &[
            "a long black coat with tarnished silver buttons",
            "dark leathers and a cloak lined with crimson",
        ],
        ClassId::Wizard => &[
            "deep blue robes with ink stains on the cuffs",
            "a scholar's grey robe and a satchel of scrolls",
        ],
    }
}

pub fn appearance(dice: &mut Dice, ancestry: &Ancestry, class: ClassId) -> Appearance {
    let presentation = *dice.pick(
        "Presentation",
        &[
            Presentation::Feminine,
            Presentation::Masculine,
            Presentation::Androgynous,
        ],
        |p| format!("{p:?}").to_lowercase(),
    );
    let (adult, oldest) = ancestry.ages;
    // Most adventurers are young for their kind: two draws over half the span, added.
    let half = ((oldest - adult) / 4).max(1);
    let age = adult + dice.below(half + 1) + dice.below(half + 1);
    let (short, tall) = ancestry.height;
    let spread = (tall - short) / 2;
    let height_in = short + dice.below(spread + 1) + dice.below(spread + 1);
    dice.note(
        "Age and height",
        "2 draws each",
        &format!("{age} years, {}", height_words(height_in)),
    );
    Appearance {
        presentation,
        age,
        height_in,
        build: dice.pick("Build", &BUILDS, |b| b.to_string()).to_string(),
        skin: dice
            .pick("Skin", ancestry.skin, |b| b.to_string())
            .to_string(),
        hair: dice
            .pick("Hair", ancestry.hair, |b| b.to_string())
            .to_string(),
        eyes: dice
            .pick("Eyes", ancestry.eyes, |b| b.to_string())
            .to_string(),
        mark: dice
            .pick("Distinguishing mark", &MARKS, |b| b.to_string())
            .to_string(),
        clothing: dice
            .pick("Clothing", clothing(class), |b| b.to_string())
            .to_string(),
    }
}

const PLACES: [&str; 14] = [
    "Brackenmere",
    "Corvel",
    "Stonereach",
    "Winter's Ford",
    "Port Amaranth",
    "Duskwater",
    "the Thornwood",
    "Highmoor",
    "Kettle Vale",
    "Saltmarsh",
    "Ravenford",
    "Elderglen",
    "the Ironhold",
    "Lanternbridge",
];

const OPENINGS: [&str; 4] = [
    "{name} was born in {place}, a {ancestry} among {people}.",
    "Few in {place} remember the day {given} arrived there, a young {ancestry} with nothing but a borrowed name.",
    "{name} grew up on the edge of {place}, the only {ancestry} for miles.",
    "The {ancestry} {given} was raised in {place}, in a house that was always too full.",
];

const PEOPLES: [&str; 5] = [
    "farmers and fishers",
    "traders and tinkers",
    "miners and smiths",
    "shepherds",
    "river folk",
];

fn calling(class: ClassId) -> &'static str {
    match class {
        ClassId::Barbarian => "a fury they could not name rose in them during a raid, and would not leave",
        ClassId::Bard => "a travelling troupe taught them that a song can open any door",
        ClassId::Cleric => "a prayer spoken over a dying friend was answered",
        ClassId::Druid => "an old circle of stones began to speak to them in dreams",
        ClassId::Fighter => "a veteran saw how they held a blade and took them on as a squire",
        ClassId::Monk => "a wandering teacher showed them the stillness at the centre of a storm",
        ClassId::Paladin => "they swore an oath at a roadside shrine, and felt it bind",
        ClassId::Ranger => "they followed tracks no one else could see into the deep wilds",
        ClassId::Rogue => "a debt owed to the wrong people taught them quick hands and quicker feet",
        ClassId::Sorcerer => "sparks leapt from their fingers the night the storm came, as their blood remembered a dragon",
        ClassId::Warlock => "a voice from a burning fire offered them power, and they said yes",
        ClassId::Wizard => "a stolen spellbook showed them that the world has rules, and that rules can be bent",
    }
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    }
}

/// The backstory of `c`, a paragraph built from its facts.
pub fn backstory(dice: &mut Dice, c: &Character, background: &Background) -> String {
    let place = *dice.pick("Home", &PLACES, |p| p.to_string());
    let ancestry = c.ancestry_name.to_lowercase();
    let opening = dice
        .pick("Backstory opening", &OPENINGS, |_| "chosen".into())
        .replace("{people}", dice.quiet_pick(&PEOPLES))
        .replace(
            "a {ancestry}",
            &format!("{} {ancestry}", article(&ancestry)),
        )
        .replace("{ancestry}", &ancestry)
        .replace("{place}", place)
        .replace("{name}", &c.name)
        .replace("{given}", c.given_name());
    let other_place = dice.quiet_pick(&PLACES);
    let years = 2 + dice.below(8);
    let background_line = format!(
        "For {years} years they {}, as {} {}.",
        background.story.replace("{place}", other_place),
        article(background.name),
        background.name.to_lowercase()
    );
    let turn = format!("Then {}.", calling(c.class));
    let (ideal_name, ideal_text) = c
        .personality
        .ideal
        .split_once(": ")
        .unwrap_or(("", &c.personality.ideal));
    let belief = format!(
        "They hold to {} above all: {}",
        ideal_name.to_lowercase(),
        ideal_text
    );
    let journey = match c.level {
        1 => format!(
            "Now, a {} of the first rank, {} sets out on the road.",
            c.class_name.to_lowercase(),
            c.given_name()
        ),
        l => format!(
            "{} has been a {} for {}, and has the scars to show it.",
            c.given_name(),
            c.class_name.to_lowercase(),
            [
                "",
                "",
                "a season",
                "a year",
                "two hard years",
                "three hard years"
            ][l as usize],
        ),
    };
    let flaw = format!(
        "Those who travel with {0} soon learn one thing: {0} {1}",
        c.given_name(),
        lower_first(&c.personality.flaw)
    );
    [
        opening,
        background_line,
        turn,
        belief,
        c.personality.bond.clone(),
        journey,
        flaw,
    ]
    .join(" ")
}
