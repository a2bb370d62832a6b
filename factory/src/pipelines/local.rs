//! The steps that run on this machine: crop/resize, the Lanczos upscale and the contact sheet.
//! Pure and deterministic (the same pictures in, the same pixels out), so their cache entries
//! never go stale and a crash mid-step only means doing it again.

use fast_image_resize::FilterType;
use image::{Rgb, RgbImage, RgbaImage};

use super::graph::Fit;
use crate::grids::picture::{draw_text, fit, BACKGROUND, GLYPH, PAD};
use crate::media::{resize, MAX_SIDE};

/// The largest contact sheet, in pixels (a 32-column sheet of big cells would be a bomb).
pub const MAX_SHEET_PIXELS: u64 = 40_000_000;
/// Each picture's cell on a contact sheet, before it is shrunk to stay under the limit.
const SHEET_CELL: u32 = 256;

fn lanczos(image: &RgbaImage, width: u32, height: u32) -> RgbaImage {
    let bytes = resize(image, width, height, FilterType::Lanczos3);
    RgbaImage::from_raw(width, height, bytes).expect("the resizer fills the buffer it is given")
}

/// `image` at `width`×`height`: fitted inside (`Contain`: the result may be smaller on one
/// side), scaled to cover and centre-cropped (`Cover`), or stretched.
pub fn crop_resize(image: &RgbaImage, width: u32, height: u32, how: Fit) -> RgbaImage {
    let (w, h) = (image.width() as f64, image.height() as f64);
    match how {
        Fit::Stretch => lanczos(image, width, height),
        Fit::Contain => {
            let scale = (width as f64 / w).min(height as f64 / h);
            let size = |side: f64, max: u32| ((side * scale).round() as u32).clamp(1, max);
            lanczos(image, size(w, width), size(h, height))
        }
        Fit::Cover => {
            let scale = (width as f64 / w).max(height as f64 / h);
            let (sw, sh) = (
                ((w * scale).round() as u32).max(width),
                ((h * scale).round() as u32).max(height),
            );
            let scaled = lanczos(image, sw, sh);
            image::imageops::crop_imm(&scaled, (sw - width) / 2, (sh - height) / 2, width, height)
                .to_image()
        }
    }
}

/// `image` enlarged `factor` times with Lanczos-3; refused past the media store's largest side.
pub fn upscale(image: &RgbaImage, factor: f64) -> Result<RgbaImage, String> {
    let side = |s: u32| (s as f64 * factor).round() as u64;
    let (w, h) = (side(image.width()), side(image.height()));
    if w > MAX_SIDE as u64 || h > MAX_SIDE as u64 {
        return Err(format!(
            "{}×{} upscaled {factor} times is {w}×{h}; pictures are at most {MAX_SIDE} pixels a side",
            image.width(),
            image.height()
        ));
    }
    Ok(lanczos(image, w as u32, h as u32))
}

/// The pictures in a grid of `columns`, in order, each with its label beneath when `labels`,
/// under `title`. Cells shrink (never below 32 px) to keep the sheet under
/// [`MAX_SHEET_PIXELS`].
pub fn contact_sheet(
    pictures: &[(RgbImage, String)],
    columns: u32,
    title: &str,
    labels: bool,
) -> Result<RgbImage, String> {
    if pictures.is_empty() {
        return Err("a contact sheet needs at least one picture".into());
    }
    let columns = columns.clamp(1, pictures.len() as u32);
    let rows = (pictures.len() as u32).div_ceil(columns);
    let top = if title.trim().is_empty() {
        PAD
    } else {
        GLYPH + 2 * PAD
    };
    let label_height = if labels { GLYPH + PAD } else { 0 };
    let size = |cell: u32| {
        (
            PAD + columns * (cell + PAD),
            top + rows * (cell + label_height + PAD),
        )
    };
    let mut cell = SHEET_CELL;
    while cell > 32 && {
        let (w, h) = size(cell);
        w as u64 * h as u64 > MAX_SHEET_PIXELS
    } {
        cell = cell * 3 / 4;
    }
    let (width, height) = size(cell);
    if width as u64 * height as u64 > MAX_SHEET_PIXELS {
        return Err(format!(
            "{} pictures make a sheet over {MAX_SHEET_PIXELS} pixels; use fewer",
            pictures.len()
        ));
    }
    let mut sheet = RgbImage::from_pixel(width, height, BACKGROUND);
    if !title.trim().is_empty() {
        draw_text(&mut sheet, PAD, PAD, title.trim(), width / GLYPH);
    }
    for (i, (picture, label)) in pictures.iter().enumerate() {
        let (c, r) = (i as u32 % columns, i as u32 / columns);
        let x = PAD + c * (cell + PAD);
        let y = top + r * (cell + label_height + PAD);
        let fitted = fit(picture, cell);
        let (ox, oy) = (
            x + (cell - fitted.width()) / 2,
            y + (cell - fitted.height()) / 2,
        );
        image::imageops::overlay(&mut sheet, &fitted, ox.into(), oy.into());
        if labels {
            draw_text(&mut sheet, x, y + cell + PAD / 2, label, cell / GLYPH);
        }
    }
    Ok(sheet)
}

/// A picture's RGB pixels on a white background (for the sheet, which has no transparency).
pub fn flatten(image: &RgbaImage) -> RgbImage {
    RgbImage::from_fn(image.width(), image.height(), |x, y| {
        let [r, g, b, a] = image.get_pixel(x, y).0;
        let over = |c: u8| ((c as u32 * a as u32 + 255 * (255 - a as u32)) / 255) as u8;
        Rgb([over(r), over(g), over(b)])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32) -> RgbaImage {
        RgbaImage::from_fn(w, h, |x, y| {
            image::Rgba([(x * 3) as u8, (y * 5) as u8, 90, 255])
        })
    }

    #[test]
    fn crop_resize_fits_covers_or_stretches_to_the_size_asked() {
        let wide = gradient(200, 100);
        let contain = crop_resize(&wide, 64, 64, Fit::Contain);
        assert_eq!(contain.dimensions(), (64, 32), "fitted inside, ratio kept");
        let cover = crop_resize(&wide, 64, 64, Fit::Cover);
        assert_eq!(cover.dimensions(), (64, 64));
        let stretch = crop_resize(&wide, 30, 70, Fit::Stretch);
        assert_eq!(stretch.dimensions(), (30, 70));
        assert_eq!(
            crop_resize(&wide, 64, 64, Fit::Cover),
            cover,
            "the same pixels every time"
        );
    }

    #[test]
    fn upscale_multiplies_the_sides_and_refuses_past_the_largest_picture() {
        let small = gradient(40, 30);
        assert_eq!(upscale(&small, 2.5).unwrap().dimensions(), (100, 75));
        let err = upscale(&gradient(10_000, 10), 2.0).unwrap_err();
        assert!(err.contains("at most 16384"), "{err}");
    }

    #[test]
    fn a_contact_sheet_lays_pictures_out_in_columns_with_labels_and_stays_bounded() {
        let pictures: Vec<(RgbImage, String)> = (0..5)
            .map(|i| (flatten(&gradient(64 + i * 10, 64)), format!("#{i}")))
            .collect();
        let sheet = contact_sheet(&pictures, 2, "Lighthouses", true).unwrap();
        let (cell, label) = (SHEET_CELL, GLYPH + PAD);
        assert_eq!(sheet.width(), PAD + 2 * (cell + PAD));
        assert_eq!(sheet.height(), GLYPH + 2 * PAD + 3 * (cell + label + PAD));
        let many: Vec<(RgbImage, String)> = (0..2000)
            .map(|_| (RgbImage::new(4, 4), String::new()))
            .collect();
        let big = contact_sheet(&many, 32, "", false).unwrap();
        assert!(big.width() as u64 * big.height() as u64 <= MAX_SHEET_PIXELS);
        assert!(contact_sheet(&[], 2, "", true).is_err());
    }
}
