//! Portrait requests: a prompt from the character's fixed appearance words and a style
//! template, and a seed from the character's seed, so the same character and style always
//! make the same request. "New outfit", "new pose" and "new scene" change only those words
//! (drawn from the character's seed and a counter) and keep the appearance words and the seed.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::dice::{Dice, Part};
use super::sheet::Character;
use super::CharacterError;

/// Built-in styles: a name and a template (`{subject}`, `{outfit}`, `{pose}`, `{scene}`).
pub const STYLES: [(&str, &str); 4] = [
    ("Painted", "fantasy character portrait of {subject}, wearing {outfit}, {pose}, {scene}, oil painting, detailed, dramatic lighting"),
    ("Ink sketch", "ink and wash sketch of {subject}, wearing {outfit}, {pose}, {scene}, cross-hatching, sepia paper"),
    ("Photographic", "photograph of {subject}, wearing {outfit}, {pose}, {scene}, 85mm lens, shallow depth of field"),
    ("Pixel art", "pixel art portrait of {subject}, wearing {outfit}, {pose}, {scene}, limited palette, 32-bit game style"),
];

/// The template of `style`: a built-in style by its name (any case), or a template as written;
/// the first built-in style when there is none.
pub fn style_template(style: Option<&str>) -> String {
    let style = style.map(str::trim).filter(|s| !s.is_empty());
    match style {
        None => STYLES[0].1.to_string(),
        Some(s) => STYLES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(s))
            .map_or_else(|| s.to_string(), |(_, template)| (*template).to_string()),
    }
}

/// The built-in style's name for a template, or "Custom" for an edited one.
pub fn style_name(template: &str) -> &'static str {
    STYLES
        .iter()
        .find(|(_, t)| *t == template)
        .map_or("Custom", |(name, _)| name)
}

const NEGATIVE: &str = "blurry, extra limbs, deformed hands, text, watermark";

const OUTFITS: [&str; 10] = [
    "a travelling cloak over simple clothes",
    "festival finery with ribbons",
    "battered plate armour",
    "a scholar's robe",
    "a fur-lined winter coat",
    "a noble's velvet doublet",
    "a sailor's jacket",
    "ceremonial robes with gold thread",
    "a hunter's leathers",
    "a plain linen tunic",
];
const POSES: [&str; 8] = [
    "head and shoulders, looking at the viewer",
    "three-quarter view, arms crossed",
    "full figure, standing tall",
    "seated, leaning forward",
    "looking over one shoulder",
    "mid-stride, turning",
    "kneeling, one hand on the ground",
    "close-up, eyes lowered",
];
const SCENES: [&str; 8] = [
    "plain dark background",
    "a crowded tavern",
    "a misty forest",
    "a castle courtyard",
    "a windswept cliff",
    "a candlelit library",
    "a busy market street",
    "a snowy mountain pass",
];

/// Which words to change: 0 keeps the character's own (its clothing, the first pose and
/// scene); each higher number is another draw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variation {
    pub outfit: u32,
    pub pose: u32,
    pub scene: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortraitRequest {
    pub prompt: String,
    pub negative_prompt: String,
    pub seed: u64,
}

/// The appearance words, which every portrait of the character keeps.
pub fn subject(c: &Character) -> String {
    let a = &c.appearance;
    format!(
        "a {}-year-old {}, {} build, {} skin, {} hair, {} eyes, {}",
        a.age,
        a.presentation
            .noun(c.subrace.as_deref().unwrap_or(&c.ancestry_name)),
        a.build,
        a.skin,
        a.hair,
        a.eyes,
        a.mark
    )
}

/// The portrait seed: from the character's seed only (32 bits, which every provider takes).
pub fn seed(c: &Character) -> u64 {
    let digest = Sha256::new()
        .chain_update(b"art-factory portrait v1")
        .chain_update(c.seed.to_le_bytes())
        .finalize();
    u64::from(u32::from_le_bytes([
        digest[0], digest[1], digest[2], digest[3],
    ]))
}

/// The `n`th draw from `options` for this character (0: the first option), from a stream that
/// depends only on the character's seed, the kind of word and `n`.
fn word(c: &Character, part: Part, n: u32, options: &[&'static str]) -> &'static str {
    if n == 0 {
        return options[0];
    }
    Dice::numbered(c.seed, part, n, &mut Vec::new()).quiet_pick(options)
}

/// Checks a style template: it must place the subject, and may use only the known words.
pub fn check_template(template: &str) -> Result<(), CharacterError> {
    if !template.contains("{subject}") {
        return Err(CharacterError::Invalid(
            "A portrait style must contain {subject}, where the character's appearance goes."
                .into(),
        ));
    }
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').ok_or_else(|| {
            CharacterError::Invalid(
                "A “{” in the style is never closed; write {subject}, {outfit}, {pose} or {scene}."
                    .into(),
            )
        })?;
        let name = &rest[start + 1..start + end];
        if !matches!(name, "subject" | "outfit" | "pose" | "scene") {
            return Err(CharacterError::Invalid(format!(
                "“{{{name}}}” is not a word a style can use; use {{subject}}, {{outfit}}, {{pose}} or {{scene}}."
            )));
        }
        rest = &rest[start + end + 1..];
    }
    if template.chars().count() > 1000 {
        return Err(CharacterError::Invalid(
            "A portrait style has at most 1,000 characters.".into(),
        ));
    }
    Ok(())
}

/// The request for a portrait of `c` in `template`, with `variation`'s words changed.
pub fn request(
    c: &Character,
    template: &str,
    variation: Variation,
) -> Result<PortraitRequest, CharacterError> {
    check_template(template)?;
    let outfit = if variation.outfit == 0 {
        c.appearance.clothing.as_str()
    } else {
        word(c, Part::PortraitOutfit, variation.outfit, &OUTFITS)
    };
    let prompt = template
        .replace("{subject}", &subject(c))
        .replace("{outfit}", outfit)
        .replace(
            "{pose}",
            word(c, Part::PortraitPose, variation.pose, &POSES),
        )
        .replace(
            "{scene}",
            word(c, Part::PortraitScene, variation.scene, &SCENES),
        );
    Ok(PortraitRequest {
        prompt,
        negative_prompt: NEGATIVE.into(),
        seed: seed(c),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::characters::{generate, Locks};

    #[test]
    fn the_same_character_and_style_make_the_same_request_and_variations_keep_the_face() {
        let c = generate(12, &Locks::default()).unwrap();
        let style = STYLES[0].1;
        let first = request(&c, style, Variation::default()).unwrap();
        assert_eq!(first, request(&c, style, Variation::default()).unwrap());
        assert!(first.prompt.contains(&subject(&c)));
        assert!(first.prompt.contains(&c.appearance.clothing));
        let outfit = request(
            &c,
            style,
            Variation {
                outfit: 1,
                ..Variation::default()
            },
        )
        .unwrap();
        assert_ne!(outfit.prompt, first.prompt);
        assert!(
            outfit.prompt.contains(&subject(&c)) && !outfit.prompt.contains(&c.appearance.clothing)
        );
        assert_eq!(outfit.seed, first.seed);
        let pose = request(
            &c,
            style,
            Variation {
                pose: 3,
                ..Variation::default()
            },
        )
        .unwrap();
        assert!(pose.prompt.contains(&c.appearance.clothing) && pose.seed == first.seed);
        // Another class for the same seed: the same face, so the same subject and seed.
        let wizard = generate(
            12,
            &Locks {
                class: Some(crate::characters::classes::ClassId::Wizard),
                ..Locks::default()
            },
        )
        .unwrap();
        assert_eq!(subject(&wizard), subject(&c));
        assert_eq!(seed(&wizard), seed(&c));
        assert!(seed(&c) <= u64::from(u32::MAX));
    }

    #[test]
    fn a_style_must_place_the_subject_and_use_known_words() {
        assert!(check_template("a knight")
            .unwrap_err()
            .to_string()
            .contains("{subject}"));
        assert!(check_template("{subject} in {weather}")
            .unwrap_err()
            .to_string()
            .contains("{weather}"));
        assert!(check_template("{subject} {outfit").is_err());
        for (_, style) in STYLES {
            check_template(style).unwrap();
        }
    }
}
