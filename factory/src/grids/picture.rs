//! A grid drawn as one labelled PNG: sized first ([`Canvas::plan`], within
//! [`MAX_CANVAS_PIXELS`]), then drawn with an 8×8 bitmap font and each cell's thumbnail.

use image::{Rgb, RgbImage};

use super::{GridError, Layout};

/// The most pixels an exported grid may have (about 120 MB of RGB while it is drawn).
pub const MAX_CANVAS_PIXELS: u64 = 40_000_000;
/// Cells are drawn at most this big (the small thumbnail's size), and at least this big.
pub(super) const LARGEST_CELL: u32 = 256;
pub(super) const SMALLEST_CELL: u32 = 32;
/// How a cell is drawn in the exported image.
pub enum CellImage {
    /// The first finished item's picture (RGB, any size; it is fitted into the cell).
    Picture(RgbImage),
    /// Nothing to show yet, or a failure, with a word saying which.
    Empty(String),
}

const SCALE: u32 = 2;
/// A character's width and height on the canvas.
pub(crate) const GLYPH: u32 = 8 * SCALE;
pub(crate) const PAD: u32 = 8;
pub(crate) const BACKGROUND: Rgb<u8> = Rgb([250, 250, 249]);
pub(super) const INK: Rgb<u8> = Rgb([28, 25, 23]);
const EMPTY: Rgb<u8> = Rgb([231, 229, 228]);

/// The size of an exported grid, decided before any pixel is allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Canvas {
    pub cell: u32,
    pub width: u32,
    pub height: u32,
}

impl Canvas {
    /// The largest cell size (up to [`LARGEST_CELL`]) that keeps the picture within
    /// [`MAX_CANVAS_PIXELS`]; an error when even [`SMALLEST_CELL`] does not fit.
    pub fn plan(layout: &Layout, y_name: &str) -> Result<Canvas, GridError> {
        let too_large = || GridError::TooLargeToDraw {
            columns: layout.columns.len(),
            rows: layout.rows.len(),
        };
        let mut cell = LARGEST_CELL;
        loop {
            let (width, height) = canvas_size(layout, y_name, cell);
            if u64::from(width) * u64::from(height) <= MAX_CANVAS_PIXELS {
                return Ok(Canvas {
                    cell,
                    width,
                    height,
                });
            }
            if cell <= SMALLEST_CELL {
                return Err(too_large());
            }
            cell = (cell * 3 / 4).max(SMALLEST_CELL);
        }
    }
}

/// Width and height of the picture for cells of `cell` pixels (saturating: a grid too large
/// for `u32` stays too large).
fn canvas_size(layout: &Layout, y_name: &str, cell: u32) -> (u32, u32) {
    let (left, top) = margins(layout, y_name, cell);
    let span = |n: usize| (n as u32).saturating_mul(cell + PAD);
    (
        left.saturating_add(span(layout.columns.len()))
            .saturating_add(PAD),
        top.saturating_add(span(layout.rows.len()))
            .saturating_add(PAD),
    )
}

/// The room the row labels (left) and the title and column labels (top) take.
fn margins(layout: &Layout, y_name: &str, cell: u32) -> (u32, u32) {
    let max_chars = (cell / GLYPH).max(4) as usize;
    let row_label_chars = layout
        .rows
        .iter()
        .map(|r| r.chars().count().min(max_chars))
        .max()
        .unwrap_or(0)
        .max(y_name.chars().count().min(max_chars)) as u32;
    (row_label_chars * GLYPH + 2 * PAD, 2 * GLYPH + 3 * PAD)
}

/// The grid as one PNG: axis names, column labels across the top, row labels down the left,
/// each cell `cell` pixels square. Callers size it with [`Canvas::plan`] first.
pub fn render_png(
    layout: &Layout,
    x_name: &str,
    y_name: &str,
    cells: &[Vec<CellImage>],
    cell: u32,
) -> Vec<u8> {
    let max_chars = (cell / GLYPH).max(4) as usize;
    let (left, top) = margins(layout, y_name, cell);
    let (width, height) = canvas_size(layout, y_name, cell);
    let mut canvas = RgbImage::from_pixel(width.max(1), height.max(1), BACKGROUND);
    draw_text(
        &mut canvas,
        PAD,
        PAD,
        &format!("x: {x_name}   y: {y_name}"),
        width / GLYPH,
    );
    for (c, label) in layout.columns.iter().enumerate() {
        let x = left + c as u32 * (cell + PAD);
        draw_text(&mut canvas, x, GLYPH + 2 * PAD, label, cell / GLYPH);
    }
    for (r, label) in layout.rows.iter().enumerate() {
        let y = top + r as u32 * (cell + PAD);
        draw_text(
            &mut canvas,
            PAD,
            y + cell / 2 - GLYPH / 2,
            label,
            max_chars as u32,
        );
        for c in 0..layout.columns.len() {
            let x = left + c as u32 * (cell + PAD);
            match cells.get(r).and_then(|row| row.get(c)) {
                Some(CellImage::Picture(picture)) => {
                    let fitted = fit(picture, cell);
                    let ox = x + (cell - fitted.width()) / 2;
                    let oy = y + (cell - fitted.height()) / 2;
                    image::imageops::overlay(&mut canvas, &fitted, ox.into(), oy.into());
                }
                Some(CellImage::Empty(word)) => {
                    fill(&mut canvas, x, y, cell, cell, EMPTY);
                    draw_text(
                        &mut canvas,
                        x + PAD,
                        y + cell / 2 - GLYPH / 2,
                        word,
                        cell / GLYPH,
                    );
                }
                None => fill(&mut canvas, x, y, cell, cell, EMPTY),
            }
        }
    }
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(canvas)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encoding a PNG in memory cannot fail");
    png
}

/// `picture` scaled down to fit a `cell`-pixel square (never enlarged).
pub(crate) fn fit(picture: &RgbImage, cell: u32) -> RgbImage {
    let (w, h) = picture.dimensions();
    if w <= cell && h <= cell {
        return picture.clone();
    }
    let scale = cell as f32 / w.max(h) as f32;
    let (nw, nh) = (
        ((w as f32 * scale).round() as u32).max(1),
        ((h as f32 * scale).round() as u32).max(1),
    );
    image::imageops::resize(picture, nw, nh, image::imageops::FilterType::Triangle)
}

pub(crate) fn fill(canvas: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, color: Rgb<u8>) {
    for py in y..(y + h).min(canvas.height()) {
        for px in x..(x + w).min(canvas.width()) {
            canvas.put_pixel(px, py, color);
        }
    }
}

/// Draws `text` with an 8×8 bitmap font at twice its size, cut to `max_chars` (with "…").
pub(crate) fn draw_text(canvas: &mut RgbImage, x: u32, y: u32, text: &str, max_chars: u32) {
    use font8x8::UnicodeFonts;
    let max_chars = max_chars.max(1) as usize;
    let mut chars: Vec<char> = text.chars().collect();
    if chars.len() > max_chars {
        chars.truncate(max_chars.saturating_sub(1));
        chars.push('…');
    }
    for (n, ch) in chars.iter().enumerate() {
        let glyph = font8x8::BASIC_FONTS
            .get(*ch)
            .or_else(|| font8x8::LATIN_FONTS.get(*ch))
            .or_else(|| match ch {
                '…' => Some([0, 0, 0, 0, 0, 0, 0b0100_1001, 0]),
                '—' => Some([0, 0, 0, 0xff, 0, 0, 0, 0]),
                _ => font8x8::BASIC_FONTS.get('?'),
            })
            .unwrap_or([0; 8]);
        let gx = x + n as u32 * GLYPH;
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..8u32 {
                if bits & (1 << col) != 0 {
                    let px = gx + col * SCALE;
                    let py = y + row as u32 * SCALE;
                    fill(canvas, px, py, SCALE, SCALE, INK);
                }
            }
        }
    }
}
