//! Thumbnails (SIMD resize, lossy WebP) and ThumbHash placeholders.

use base64::Engine as _;
use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::RgbaImage;

/// Thumbnail sizes: the longest side, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThumbSize {
    /// Gallery grid.
    Small,
    /// Lightbox preview before the original loads.
    Large,
}

pub const THUMB_SIZES: [ThumbSize; 2] = [ThumbSize::Small, ThumbSize::Large];

impl ThumbSize {
    pub fn pixels(self) -> u32 {
        match self {
            ThumbSize::Small => 256,
            ThumbSize::Large => 768,
        }
    }

    pub fn from_pixels(pixels: u32) -> Option<Self> {
        THUMB_SIZES.into_iter().find(|s| s.pixels() == pixels)
    }
}

const WEBP_QUALITY: f32 = 80.0;

/// `image` scaled to fit `size` (never enlarged), as lossy WebP.
pub fn webp_thumbnail(image: &RgbaImage, size: ThumbSize) -> Vec<u8> {
    let (w, h) = fit(image.width(), image.height(), size.pixels());
    let resized = resize(image, w, h, FilterType::Bilinear);
    webp::Encoder::from_rgba(&resized, w, h)
        .encode(WEBP_QUALITY)
        .to_vec()
}

/// Base64 ThumbHash of `image` (computed from a ≤ 100 px version, as the format requires).
pub fn thumbhash(image: &RgbaImage) -> String {
    let (w, h) = fit(image.width(), image.height(), 100);
    let small = resize(image, w, h, FilterType::Bilinear);
    let hash = thumbhash::rgba_to_thumb_hash(w as usize, h as usize, &small);
    base64::engine::general_purpose::STANDARD.encode(hash)
}

/// The average colour of a ThumbHash as CSS (`#rrggbb`): what a thumbnail's box shows until the
/// image arrives.
pub fn placeholder_color(thumbhash_base64: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(thumbhash_base64)
        .ok()?;
    let (r, g, b, _) = thumbhash::thumb_hash_to_average_rgba(&bytes).ok()?;
    let byte = |x: f32| (x.clamp(0.0, 1.0) * 255.0).round() as u8;
    Some(format!("#{:02x}{:02x}{:02x}", byte(r), byte(g), byte(b)))
}

/// The size that fits inside `max`×`max` keeping the aspect ratio, never larger than the source.
fn fit(width: u32, height: u32, max: u32) -> (u32, u32) {
    if width <= max && height <= max {
        return (width.max(1), height.max(1));
    }
    let scale = max as f64 / width.max(height) as f64;
    (
        ((width as f64 * scale).round() as u32).max(1),
        ((height as f64 * scale).round() as u32).max(1),
    )
}

/// `image` resized to `width`×`height` (RGBA bytes) with the SIMD resizer's `filter`.
pub fn resize(image: &RgbaImage, width: u32, height: u32, filter: FilterType) -> Vec<u8> {
    if (width, height) == image.dimensions() {
        return image.as_raw().clone();
    }
    let src = ImageRef::new(
        image.width(),
        image.height(),
        image.as_raw(),
        PixelType::U8x4,
    )
    .expect("an RgbaImage buffer matches its dimensions");
    let mut dst = Image::new(width, height, PixelType::U8x4);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(filter));
    Resizer::new()
        .resize(&src, &mut dst, &options)
        .expect("same pixel type on both sides");
    dst.into_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_placeholder_is_the_images_average_colour() {
        let red = RgbaImage::from_pixel(64, 32, image::Rgba([200, 30, 30, 255]));
        let color = placeholder_color(&thumbhash(&red)).unwrap();
        let channel = |i: usize| u8::from_str_radix(&color[i..i + 2], 16).unwrap() as i32;
        assert!(
            (channel(1) - 200).abs() < 12 && channel(3) < 50 && channel(5) < 50,
            "{color}"
        );
        assert_eq!(placeholder_color("not base64!"), None);
    }

    #[test]
    fn thumbnails_fit_the_size_keep_the_aspect_ratio_and_never_enlarge() {
        assert_eq!(fit(1024, 512, 256), (256, 128));
        assert_eq!(fit(300, 1200, 768), (192, 768));
        assert_eq!(fit(100, 50, 256), (100, 50));
    }
}
