//! The sRGB transfer function, both ways: linear light (what a renderer computes and an OpenEXR
//! file holds) and the 8-bit values a screen shows.

/// A linear value (clamped to 0–1) as an 8-bit sRGB value.
pub fn encode(linear: f32) -> u8 {
    let c = if linear.is_nan() {
        0.0
    } else {
        linear.clamp(0.0, 1.0)
    };
    let s = if c <= 0.003_130_8 {
        c * 12.92
    } else {
        1.055 * c.powf(1.0 / 2.4) - 0.055
    };
    (s * 255.0 + 0.5) as u8
}

/// An sRGB value in 0–1 as linear light.
pub fn decode(c: f32) -> f32 {
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

/// A decoded picture as 8-bit sRGB RGBA, what thumbnails are made from. Floating-point
/// pictures (OpenEXR) hold linear light: they go through the transfer function, clipped at
/// white like Blender's Standard view; every other picture is sRGB already.
pub fn display_rgba(image: image::DynamicImage) -> image::RgbaImage {
    match image {
        image::DynamicImage::ImageRgb32F(_) | image::DynamicImage::ImageRgba32F(_) => {
            let linear = image.into_rgba32f();
            let (width, height) = linear.dimensions();
            let bytes = linear
                .pixels()
                .flat_map(|p| {
                    let alpha = (p[3].clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
                    [encode(p[0]), encode(p[1]), encode(p[2]), alpha]
                })
                .collect();
            image::RgbaImage::from_raw(width, height, bytes).expect("four bytes per pixel")
        }
        other => other.to_rgba8(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_transfer_function_round_trips_and_clips_what_a_screen_cannot_show() {
        for v in [0u8, 1, 10, 64, 128, 188, 255] {
            assert_eq!(encode(decode(v as f32 / 255.0)), v);
        }
        assert_eq!(encode(0.5), 188);
        assert_eq!(encode(7.5), 255);
        assert_eq!(encode(-1.0), 0);
        assert_eq!(encode(f32::NAN), 0);
    }

    #[test]
    fn linear_pictures_are_encoded_and_srgb_ones_kept() {
        let linear = image::Rgb32FImage::from_pixel(2, 1, image::Rgb([0.5, 2.0, 0.0]));
        let shown = display_rgba(image::DynamicImage::ImageRgb32F(linear));
        assert_eq!(shown.get_pixel(1, 0).0, [188, 255, 0, 255]);
        let srgb = image::RgbImage::from_pixel(1, 1, image::Rgb([128, 0, 9]));
        let shown = display_rgba(image::DynamicImage::ImageRgb8(srgb));
        assert_eq!(shown.get_pixel(0, 0).0, [128, 0, 9, 255]);
    }
}
