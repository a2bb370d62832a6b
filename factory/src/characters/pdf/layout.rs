//! Pages being laid out: text set and wrapped by the font's widths, rules and frames, a new
//! page when the text reaches the bottom.

use pdf_writer::{Content, Name, Str};

use super::font::{encode, width, wrap};

pub(super) const FONT: Name = Name(b"F1");

pub(super) const PAGE_W: f32 = 595.0;
pub(super) const PAGE_H: f32 = 842.0;
pub(super) const MARGIN: f32 = 42.0;
/// The text's bottom edge; the footer goes below it.
pub(super) const BOTTOM: f32 = MARGIN + 16.0;

/// Pages being written, top to bottom, a new one when the text reaches the bottom.
pub(super) struct Layout {
    pub(super) pages: Vec<Content>,
    /// The baseline of the last line written on the current page.
    pub(super) y: f32,
}

impl Layout {
    pub(super) fn new() -> Self {
        let mut layout = Layout {
            pages: Vec::new(),
            y: 0.0,
        };
        layout.new_page();
        layout
    }

    pub(super) fn new_page(&mut self) {
        self.pages.push(Content::new());
        self.y = PAGE_H - MARGIN;
    }

    pub(super) fn content(&mut self) -> &mut Content {
        self.pages.last_mut().expect("there is always a page")
    }

    /// Starts a new page unless `height` more fits on this one.
    pub(super) fn room(&mut self, height: f32) {
        if self.y - height < BOTTOM {
            self.new_page();
        }
    }

    pub(super) fn text(&mut self, x: f32, y: f32, size: f32, gray: f32, text: &str) {
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
    pub(super) fn centred(&mut self, x: f32, span: f32, y: f32, size: f32, text: &str) {
        let left = x + (span - width(text, size)) / 2.0;
        self.text(left, y, size, 0.0, text);
    }

    pub(super) fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32) {
        self.content()
            .set_stroke_gray(0.6)
            .set_line_width(0.6)
            .move_to(x1, y1)
            .line_to(x2, y2)
            .stroke();
    }

    pub(super) fn frame(&mut self, x: f32, y: f32, w: f32, h: f32) {
        self.content()
            .set_stroke_gray(0.45)
            .set_line_width(0.8)
            .rect(x, y, w, h)
            .stroke();
    }

    /// A section title across the page, with a rule under it.
    pub(super) fn heading(&mut self, title: &str) {
        self.room(40.0);
        self.y -= 18.0;
        let y = self.y;
        self.text(MARGIN, y, 11.0, 0.25, title);
        self.line(MARGIN, y - 4.0, PAGE_W - MARGIN, y - 4.0);
        self.y -= 6.0;
    }

    /// `text` wrapped across the page at `size`, from `indent`.
    pub(super) fn paragraph(&mut self, indent: f32, size: f32, text: &str) {
        let leading = size * 1.35;
        for line in wrap(text, PAGE_W - MARGIN - (MARGIN + indent), size) {
            self.room(leading);
            self.y -= leading;
            let y = self.y;
            self.text(MARGIN + indent, y, size, 0.0, &line);
        }
    }

    /// A label and its text on one line when it fits, the text wrapped under the label's width.
    pub(super) fn labelled(&mut self, label: &str, text: &str) {
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
