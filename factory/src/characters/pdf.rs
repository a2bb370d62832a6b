//! The character sheet as a PDF: A4 pages written object by object, the text set in DejaVu
//! Sans (embedded whole, as a TrueType font with the WinAnsi encoding, its widths read from the
//! font file), the portrait when there is one. Pure: the same sheet and portrait give the same
//! bytes.

use std::io::Write;
use std::sync::OnceLock;

use flate2::write::ZlibEncoder;
use flate2::Compression;
use pdf_writer::types::FontFlags;
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use super::rules::{signed, ABILITIES};
use super::sheet::{height_words, Character, SkillSource};
use super::SRD_ATTRIBUTION;

/// DejaVu Sans (Bitstream Vera licence, in `data/fonts/LICENSE-DejaVu.txt`).
const FONT_FILE: &[u8] = include_bytes!("data/fonts/DejaVuSans.ttf");
const FONT: Name = Name(b"F1");
const PORTRAIT: Name = Name(b"Im1");

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 42.0;
/// The text's bottom edge; the footer goes below it.
const BOTTOM: f32 = MARGIN + 16.0;
const PORTRAIT_SIDE: f32 = 124.0;
/// The portrait's longer side in pixels as embedded (about 240 dpi at its printed size).
const PORTRAIT_PIXELS: u32 = 420;

/// The codes 0x80–0x9F of WinAnsiEncoding (Windows-1252); the rest of 0x20–0xFF is Latin-1.
const WIN_ANSI_HIGH: [(u8, char); 27] = [
    (0x80, '€'),
    (0x82, '‚'),
    (0x83, 'ƒ'),
    (0x84, '„'),
    (0x85, '…'),
    (0x86, '†'),
    (0x87, '‡'),
    (0x88, 'ˆ'),
    (0x89, '‰'),
    (0x8A, 'Š'),
    (0x8B, '‹'),
    (0x8C, 'Œ'),
    (0x8E, 'Ž'),
    (0x91, '‘'),
    (0x92, '’'),
    (0x93, '“'),
    (0x94, '”'),
    (0x95, '•'),
    (0x96, '–'),
    (0x97, '—'),
    (0x98, '˜'),
    (0x99, '™'),
    (0x9A, 'š'),
    (0x9B, '›'),
    (0x9C, 'œ'),
    (0x9E, 'ž'),
    (0x9F, 'Ÿ'),
];

fn code_char(code: u8) -> Option<char> {
    match code {
        0x20..=0x7E | 0xA0..=0xFF => Some(char::from(code)),
        _ => WIN_ANSI_HIGH
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, ch)| *ch),
    }
}

/// `text` in WinAnsi codes; what the encoding has no place for is written as its nearest
/// spelling (a minus sign as a hyphen) or `?`.
fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            ' '..='~' | '\u{A0}'..='\u{FF}' => out.push(ch as u8),
            '−' | '‐' | '‑' => out.push(b'-'),
            '→' => out.extend_from_slice(b"->"),
            '\n' | '\t' => out.push(b' '),
            _ => out.push(
                WIN_ANSI_HIGH
                    .iter()
                    .find(|(_, c)| *c == ch)
                    .map_or(b'?', |(code, _)| *code),
            ),
        }
    }
    out
}

struct Metrics {
    /// Advance widths of the codes 32 to 255, in thousandths of the font size.
    widths: Vec<f32>,
    ascent: f32,
    descent: f32,
    cap_height: f32,
    bbox: Rect,
    /// The font file, compressed once.
    deflated: Vec<u8>,
}

fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let face = ttf_parser::Face::parse(FONT_FILE, 0).expect("the embedded font parses");
        let scale = 1000.0 / f32::from(face.units_per_em());
        let widths = (32..=255u8)
            .map(|code| {
                code_char(code)
                    .and_then(|ch| face.glyph_index(ch))
                    .and_then(|g| face.glyph_hor_advance(g))
                    .map_or(0.0, |w| (f32::from(w) * scale).round())
            })
            .collect();
        let b = face.global_bounding_box();
        Metrics {
            widths,
            ascent: f32::from(face.ascender()) * scale,
            descent: f32::from(face.descender()) * scale,
            cap_height: f32::from(face.capital_height().unwrap_or(face.ascender())) * scale,
            bbox: Rect::new(
                f32::from(b.x_min) * scale,
                f32::from(b.y_min) * scale,
                f32::from(b.x_max) * scale,
                f32::from(b.y_max) * scale,
            ),
            deflated: deflate(FONT_FILE),
        }
    })
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    z.write_all(bytes).expect("writing to memory");
    z.finish().expect("writing to memory")
}

/// The width of `text` set at `size` points.
fn width(text: &str, size: f32) -> f32 {
    let widths = &metrics().widths;
    encode(text)
        .iter()
        .map(|&c| widths[usize::from(c.max(32)) - 32])
        .sum::<f32>()
        * size
        / 1000.0
}

/// `text` broken into lines no wider than `max` at `size` (a word longer than a line is cut).
fn wrap(text: &str, max: f32, size: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if width(&candidate, size) <= max {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        let mut piece = String::new();
        for ch in word.chars() {
            piece.push(ch);
            if width(&piece, size) > max && piece.chars().count() > 1 {
                piece.pop();
                lines.push(std::mem::replace(&mut piece, ch.to_string()));
            }
        }
        line = piece;
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Pages being written, top to bottom, a new one when the text reaches the bottom.
struct Layout {
    pages: Vec<Content>,
    /// The baseline of the last line written on the current page.
    y: f32,
}

impl Layout {
    fn new() -> Self {
        let mut layout = Layout {
            pages: Vec::new(),
            y: 0.0,
        };
        layout.new_page();
        layout
    }

    fn new_page(&mut self) {
        self.pages.push(Content::new());
        self.y = PAGE_H - MARGIN;
    }

    fn content(&mut self) -> &mut Content {
        self.pages.last_mut().expect("there is always a page")
    }

    /// Starts a new page unless `height` more fits on this one.
    fn room(&mut self, height: f32) {
        if self.y - height < BOTTOM {
            self.new_page();
        }
    }

    fn text(&mut self, x: f32, y: f32, size: f32, gray: f32, text: &str) {
        let bytes = encode(text);
        self.content()
            .set_fill_gray(gray)
            .begin_text()
            .set_font(FONT, size)
            .next_line(x, y)
            .show(Str(&bytes))
            .end_text();
    }

    /// `text` centred in the span from `x` of `span` points.
    fn centred(&mut self, x: f32, span: f32, y: f32, size: f32, text: &str) {
        let left = x + (span - width(text, size)) / 2.0;
        self.text(left, y, size, 0.0, text);
    }

    fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32) {
        self.content()
            .set_stroke_gray(0.6)
            .set_line_width(0.6)
            .move_to(x1, y1)
            .line_to(x2, y2)
            .stroke();
    }

    fn frame(&mut self, x: f32, y: f32, w: f32, h: f32) {
        self.content()
            .set_stroke_gray(0.45)
            .set_line_width(0.8)
            .rect(x, y, w, h)
            .stroke();
    }

    /// A section title across the page, with a rule under it.
    fn heading(&mut self, title: &str) {
        self.room(40.0);
        self.y -= 18.0;
        let y = self.y;
        self.text(MARGIN, y, 11.0, 0.25, title);
        self.line(MARGIN, y - 4.0, PAGE_W - MARGIN, y - 4.0);
        self.y -= 6.0;
    }

    /// `text` wrapped across the page at `size`, from `indent`.
    fn paragraph(&mut self, indent: f32, size: f32, text: &str) {
        let leading = size * 1.35;
        for line in wrap(text, PAGE_W - MARGIN - (MARGIN + indent), size) {
            self.room(leading);
            self.y -= leading;
            let y = self.y;
            self.text(MARGIN + indent, y, size, 0.0, &line);
        }
    }

    /// A label and its text on one line when it fits, the text wrapped under the label's width.
    fn labelled(&mut self, label: &str, text: &str) {
        let size = 9.0;
        let leading = size * 1.35;
        let label_w = 78.0;
        let lines = wrap(text, PAGE_W - 2.0 * MARGIN - label_w, size);
        for (i, line) in lines.iter().enumerate() {
            self.room(leading);
            self.y -= leading;
            let y = self.y;
            if i == 0 {
                self.text(MARGIN, y, size, 0.35, label);
            }
            self.text(MARGIN + label_w, y, size, 0.0, line);
        }
    }
}

/// The portrait as the PDF embeds it: RGB samples, 8 bits each.
pub struct PortraitImage {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl PortraitImage {
    /// From an image file's bytes (PNG, JPEG or WebP), scaled down for print.
    pub fn decode(bytes: &[u8]) -> Result<Self, image::ImageError> {
        let image = image::load_from_memory(bytes)?;
        let image = if image.width().max(image.height()) > PORTRAIT_PIXELS {
            image.thumbnail(PORTRAIT_PIXELS, PORTRAIT_PIXELS)
        } else {
            image
        };
        let rgb = image.to_rgb8();
        Ok(PortraitImage {
            width: rgb.width(),
            height: rgb.height(),
            rgb: rgb.into_raw(),
        })
    }
}

/// The sheet of `c` as a PDF document, with `portrait` at the top right when given.
pub fn sheet_pdf(c: &Character, portrait: Option<&PortraitImage>) -> Vec<u8> {
    let mut layout = Layout::new();
    header(&mut layout, c, portrait);
    abilities(&mut layout, c);
    columns(&mut layout, c);
    body(&mut layout, c);
    write(c, layout, portrait)
}

fn header(layout: &mut Layout, c: &Character, portrait: Option<&PortraitImage>) {
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

fn abilities(layout: &mut Layout, c: &Character) {
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
fn columns(layout: &mut Layout, c: &Character) {
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

fn spell_names(spells: &[super::sheet::Spell]) -> String {
    spells
        .iter()
        .map(|s| match &s.from {
            Some(from) => format!("{} ({from})", s.name),
            None => s.name.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn body(layout: &mut Layout, c: &Character) {
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

fn write(c: &Character, layout: Layout, portrait: Option<&PortraitImage>) -> Vec<u8> {
    let m = metrics();
    let mut next = Ref::new(1);
    let catalog = next.bump();
    let tree = next.bump();
    let info = next.bump();
    let font = next.bump();
    let descriptor = next.bump();
    let font_file = next.bump();
    let image = next.bump();
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.document_info(info)
        .title(TextStr(&c.name))
        .subject(TextStr("Character sheet"))
        .producer(TextStr("Art Factory"));

    let total = layout.pages.len();
    let ids: Vec<(Ref, Ref)> = (0..total).map(|_| (next.bump(), next.bump())).collect();
    pdf.pages(tree)
        .kids(ids.iter().map(|(page, _)| *page))
        .count(total as i32);
    let mut layout = layout;
    let pages = std::mem::take(&mut layout.pages);
    for (n, (mut content, (page_id, content_id))) in pages.into_iter().zip(&ids).enumerate() {
        let footer = format!(
            "{} · page {} of {} · SRD 5.1, CC-BY-4.0",
            c.name,
            n + 1,
            total
        );
        let bytes = encode(&footer);
        content
            .set_fill_gray(0.45)
            .begin_text()
            .set_font(FONT, 7.0)
            .next_line(MARGIN, MARGIN)
            .show(Str(&bytes))
            .end_text();
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
            .parent(tree)
            .contents(*content_id);
        let mut resources = page.resources();
        resources.fonts().pair(FONT, font);
        if portrait.is_some() && n == 0 {
            resources.x_objects().pair(PORTRAIT, image);
        }
        resources.finish();
        page.finish();
        pdf.stream(*content_id, &deflate(&content.finish()))
            .filter(Filter::FlateDecode);
    }

    let mut dict = pdf.indirect(font).dict();
    dict.pair(Name(b"Type"), Name(b"Font"));
    dict.pair(Name(b"Subtype"), Name(b"TrueType"));
    dict.pair(Name(b"BaseFont"), Name(b"DejaVuSans"));
    dict.pair(Name(b"FirstChar"), 32);
    dict.pair(Name(b"LastChar"), 255);
    dict.insert(Name(b"Widths"))
        .array()
        .items(m.widths.iter().copied());
    dict.pair(Name(b"FontDescriptor"), descriptor);
    dict.pair(Name(b"Encoding"), Name(b"WinAnsiEncoding"));
    dict.finish();
    pdf.font_descriptor(descriptor)
        .name(Name(b"DejaVuSans"))
        .flags(FontFlags::NON_SYMBOLIC)
        .bbox(m.bbox)
        .italic_angle(0.0)
        .ascent(m.ascent)
        .descent(m.descent)
        .cap_height(m.cap_height)
        .stem_v(80.0)
        .font_file2(font_file);
    pdf.stream(font_file, &m.deflated)
        .filter(Filter::FlateDecode)
        .pair(Name(b"Length1"), FONT_FILE.len() as i32);

    if let Some(p) = portrait {
        let samples = deflate(&p.rgb);
        let mut xobject = pdf.image_xobject(image, &samples);
        xobject.filter(Filter::FlateDecode);
        xobject.width(p.width as i32);
        xobject.height(p.height as i32);
        xobject.color_space().device_rgb();
        xobject.bits_per_component(8);
        xobject.finish();
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::characters::{generate, Locks};

    #[test]
    fn text_is_encoded_for_the_embedded_font_and_wrapped_within_the_width() {
        assert_eq!(encode("Æsir −1 “x” → ✓"), b"\xC6sir -1 \x93x\x94 -> ?");
        assert!(width("WWW", 10.0) > width("iii", 10.0));
        let text = "a b c ".repeat(200);
        for line in wrap(&text, 100.0, 9.0) {
            assert!(width(&line, 9.0) <= 100.0, "{line}");
        }
        let long = wrap(&"x".repeat(400), 100.0, 9.0);
        assert!(long.len() > 2 && long.iter().all(|l| width(l, 9.0) <= 100.0));
    }

    #[test]
    fn a_sheet_is_the_same_pdf_every_time_and_embeds_its_font_and_portrait() {
        let c = generate(4, &Locks::default()).unwrap();
        let plain = sheet_pdf(&c, None);
        assert!(plain.starts_with(b"%PDF-") && plain.trim_ascii_end().ends_with(b"%%EOF"));
        assert_eq!(plain, sheet_pdf(&c, None));
        let text = String::from_utf8_lossy(&plain);
        assert!(text.contains("/FontFile2") && text.contains("/TrueType"));
        assert!(!text.contains("/XObject"));
        let mut png = Vec::new();
        image::RgbImage::from_pixel(600, 800, image::Rgb([200, 40, 40]))
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let portrait = PortraitImage::decode(&png).unwrap();
        assert_eq!((portrait.width, portrait.height), (315, 420));
        let with = sheet_pdf(&c, Some(&portrait));
        assert!(String::from_utf8_lossy(&with).contains("/DeviceRGB"));
    }
}
