//! The character sheet as a PDF: A4 pages written object by object, the text set in DejaVu
//! Sans (embedded whole, as a TrueType font with the WinAnsi encoding, its widths read from the
//! font file), the portrait when there is one. Pure: the same sheet and portrait give the same
//! bytes.

mod draw;
mod font;
mod layout;

use pdf_writer::types::FontFlags;
use pdf_writer::{Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use self::font::{deflate, encode, metrics, FONT_FILE};
use self::layout::{Layout, FONT, MARGIN, PAGE_H, PAGE_W};
use super::sheet::Character;

pub(super) const PORTRAIT: Name = Name(b"Im1");
pub(super) const PORTRAIT_SIDE: f32 = 124.0;
/// The portrait's longer side in pixels as embedded (about 240 dpi at its printed size).
const PORTRAIT_PIXELS: u32 = 420;

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
    draw::header(&mut layout, c, portrait);
    draw::abilities(&mut layout, c);
    draw::columns(&mut layout, c);
    draw::body(&mut layout, c);
    write(c, layout, portrait)
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
