//! What goes where on the sheet: the header with the portrait, the ability boxes, saves and
//! skills beside the combat block, languages and equipment, then the rest across the page.

use super::font::wrap;
use super::layout::{Layout, MARGIN, PAGE_H, PAGE_W};
use super::{PortraitImage, PORTRAIT, PORTRAIT_SIDE};
use crate::characters::rules::{signed, ABILITIES};
use crate::characters::sheet::{height_words, Character, SkillSource, Spell};
use crate::characters::SRD_ATTRIBUTION;

pub(super) fn header(layout: &mut Layout, c: &Character, portrait: Option<&PortraitImage>) {
    let top = PAGE_H - MARGIN;
    layout.text(MARGIN, top - 20.0, 22.0, 0.0, &c.name);
    let ancestry = c.subrace.as_deref().unwrap_or(&c.ancestry_name);
    let line = format!(
        "Level {} {} {} · {} · {}",
        c.level,
        ancestry,
        c.class_name,
        c.background,
        c.alignment.name()
    );
    layout.text(MARGIN, top - 38.0, 11.0, 0.15, &line);
    let seed = format!(
        "Seed {} · generator version {} · Art Factory",
        c.seed, c.generator
    );
    layout.text(MARGIN, top - 52.0, 8.0, 0.4, &seed);
    layout.y = top - 62.0;
    if let Some(p) = portrait {
        let scale = PORTRAIT_SIDE / p.width.max(p.height) as f32;
        let (w, h) = (p.width as f32 * scale, p.height as f32 * scale);
        let x = PAGE_W - MARGIN - w;
        let y = top - h;
        layout
            .content()
            .save_state()
            .transform([w, 0.0, 0.0, h, x, y])
            .x_object(PORTRAIT)
            .restore_state();
        layout.frame(x, y, w, h);
        layout.y = y - 4.0;
    }
}

pub(super) fn abilities(layout: &mut Layout, c: &Character) {
    let gap = 8.0;
    let w = (PAGE_W - 2.0 * MARGIN - 5.0 * gap) / 6.0;
    let h = 58.0;
    let y = layout.y - 8.0 - h;
    for (i, ability) in ABILITIES.iter().enumerate() {
        let x = MARGIN + i as f32 * (w + gap);
        layout.frame(x, y, w, h);
        layout.centred(x, w, y + h - 12.0, 8.0, ability.name());
        layout.centred(x, w, y + 22.0, 20.0, &c.scores[i].to_string());
        layout.centred(x, w, y + 7.0, 10.0, &signed(c.modifiers[i]));
    }
    layout.y = y;
}

/// Saves and skills on the left; the combat block, languages and equipment on the right.
pub(super) fn columns(layout: &mut Layout, c: &Character) {
    let top = layout.y - 6.0;
    let left = MARGIN;
    let right = MARGIN + 262.0;
    let right_w = PAGE_W - MARGIN - right;
    let size = 9.0;
    let leading = 12.2;

    let mut y = top - 14.0;
    layout.text(left, y, 10.5, 0.25, "Saving throws");
    for save in &c.saves {
        y -= leading;
        let mark = if save.proficient { "•" } else { "·" };
        layout.text(left, y, size, 0.0, mark);
        layout.text(left + 10.0, y, size, 0.0, &signed(save.bonus));
        layout.text(left + 36.0, y, size, 0.0, save.ability.name());
    }
    y -= leading + 6.0;
    layout.text(left, y, 10.5, 0.25, "Skills");
    for skill in &c.skills {
        y -= leading;
        let mark = match (skill.source, skill.expertise) {
            (Some(_), true) => "••",
            (Some(_), false) => "•",
            (None, _) => "·",
        };
        layout.text(left, y, size, 0.0, mark);
        layout.text(left + 14.0, y, size, 0.0, &signed(skill.bonus));
        let from = match skill.source {
            Some(SkillSource::Ancestry) => " · ancestry",
            Some(SkillSource::Background) => " · background",
            Some(SkillSource::Class) => " · class",
            Some(SkillSource::Free) => " · chosen",
            None => "",
        };
        let name = format!("{} ({}){from}", skill.skill.name(), skill.ability.short());
        layout.text(left + 40.0, y, size, 0.0, &name);
    }
    let left_end = y;

    let mut y = top - 14.0;
    layout.text(right, y, 10.5, 0.25, "Combat");
    let hit_dice = format!("{}d{}", c.level, c.hit_die);
    let darkvision = match c.darkvision {
        0 => "none".to_string(),
        feet => format!("{feet} ft"),
    };
    let speed = format!("{} ft", c.speed);
    let size_name = format!("{:?}", c.size);
    let combat: [(&str, String); 9] = [
        ("Armour class", c.armor_class.to_string()),
        ("Hit points", c.hit_points.to_string()),
        ("Hit dice", hit_dice),
        ("Initiative", signed(c.initiative)),
        ("Speed", speed),
        ("Proficiency bonus", signed(c.proficiency_bonus)),
        ("Passive Perception", c.passive_perception.to_string()),
        ("Size", size_name),
        ("Darkvision", darkvision),
    ];
    for (label, value) in combat {
        y -= leading;
        layout.text(right, y, size, 0.35, label);
        layout.text(right + 110.0, y, size, 0.0, &value);
    }
    y -= leading + 6.0;
    layout.text(right, y, 10.5, 0.25, "Languages");
    for line in wrap(&c.languages.join(", "), right_w, size) {
        y -= leading;
        layout.text(right, y, size, 0.0, &line);
    }
    y -= leading + 6.0;
    layout.text(right, y, 10.5, 0.25, "Equipment");
    for item in &c.equipment {
        for (i, line) in wrap(item.label(), right_w - 10.0, size).iter().enumerate() {
            y -= leading;
            layout.text(right + if i == 0 { 0.0 } else { 10.0 }, y, size, 0.0, line);
        }
    }
    layout.y = left_end.min(y);
}

fn spell_names(spells: &[Spell]) -> String {
    spells
        .iter()
        .map(|s| match &s.from {
            Some(from) => format!("{} ({from})", s.name),
            None => s.name.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn body(layout: &mut Layout, c: &Character) {
    layout.heading("Features and traits");
    for f in &c.features {
        layout.paragraph(0.0, 9.0, &format!("{} ({}). {}", f.name, f.source, f.text));
    }
    if let Some(s) = &c.spellcasting {
        layout.heading("Spellcasting");
        let slots = s
            .slots
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| format!("level {}: {n}", i + 1))
            .collect::<Vec<_>>()
            .join(", ");
        layout.labelled(
            "Ability",
            &format!(
                "{} · save DC {} · attack {}",
                s.ability.name(),
                s.save_dc,
                signed(s.attack_bonus)
            ),
        );
        layout.labelled("Slots", &slots);
        if !s.cantrips.is_empty() {
            layout.labelled("Cantrips", &spell_names(&s.cantrips));
        }
        if !s.spells.is_empty() {
            let label = if s.prepares { "Prepared" } else { "Known" };
            layout.labelled(label, &spell_names(&s.spells));
        }
        if !s.always.is_empty() {
            layout.labelled("Always", &spell_names(&s.always));
        }
        if !s.spellbook.is_empty() {
            layout.labelled("Spellbook", &spell_names(&s.spellbook));
        }
    }
    layout.heading("Personality");
    let p = &c.personality;
    layout.labelled("Trait", &p.trait_);
    layout.labelled("Ideal", &p.ideal);
    layout.labelled("Bond", &p.bond);
    layout.labelled("Flaw", &p.flaw);
    layout.heading("Appearance");
    let a = &c.appearance;
    layout.labelled("Age", &format!("{} years", a.age));
    layout.labelled("Height", &height_words(a.height_in));
    layout.labelled("Build", &a.build);
    layout.labelled("Skin", &a.skin);
    layout.labelled("Hair", &a.hair);
    layout.labelled("Eyes", &a.eyes);
    layout.labelled("Mark", &a.mark);
    layout.labelled("Clothing", &a.clothing);
    layout.heading("Backstory");
    layout.paragraph(0.0, 9.5, &c.backstory);
    layout.heading("Roll log");
    for roll in &c.rolls {
        let dice = roll
            .rolls
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        layout.paragraph(
            0.0,
            7.5,
            &format!("{}: {} [{dice}] → {}", roll.what, roll.dice, roll.result),
        );
    }
    layout.heading("Attribution");
    layout.paragraph(0.0, 7.5, SRD_ATTRIBUTION);
}
