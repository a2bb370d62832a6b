//! The embedded font: DejaVu Sans, its WinAnsi encoding, the widths read from the font file,
//! and text measured and wrapped by them.

use std::io::Write;
use std::sync::OnceLock;

use flate2::write::ZlibEncoder;
use flate2::Compression;
use pdf_writer::Rect;

/// DejaVu Sans (Bitstream Vera licence, in `data/fonts/LICENSE-DejaVu.txt`).
pub(super) const FONT_FILE: &[u8] = include_bytes!("../data/fonts/DejaVuSans.ttf");

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
pub(super) fn encode(text: &str) -> Vec<u8> {
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

pub(super) struct Metrics {
    /// Advance widths of the codes 32 to 255, in thousandths of the font size.
    pub(super) widths: Vec<f32>,
    pub(super) ascent: f32,
    pub(super) descent: f32,
    pub(super) cap_height: f32,
    pub(super) bbox: Rect,
    /// The font file, compressed once.
    pub(super) deflated: Vec<u8>,
}

pub(super) fn metrics() -> &'static Metrics {
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

pub(super) fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    z.write_all(bytes).expect("writing to memory");
    z.finish().expect("writing to memory")
}

/// The width of `text` set at `size` points.
pub(super) fn width(text: &str, size: f32) -> f32 {
    let widths = &metrics().widths;
    encode(text)
        .iter()
        .map(|&c| widths[usize::from(c.max(32)) - 32])
        .sum::<f32>()
        * size
        / 1000.0
}

/// `text` broken into lines no wider than `max` at `size` (a word longer than a line is cut).
pub(super) fn wrap(text: &str, max: f32, size: f32) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
