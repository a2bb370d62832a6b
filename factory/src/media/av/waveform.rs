//! A sound's picture: per column of pixels, its loudest sample (light) over its average level
//! (bright), mirrored around the middle line. What an audio tile and its thumbnails show.

use image::{Rgba, RgbaImage};

/// Sound is read for the waveform at this rate, one channel.
pub const RATE: u32 = 8000;
pub const WIDTH: u32 = 768;
pub const HEIGHT: u32 = 192;

const BACKGROUND: Rgba<u8> = Rgba([28, 25, 23, 255]);
const PEAK: Rgba<u8> = Rgba([129, 140, 248, 255]);
const LEVEL: Rgba<u8> = Rgba([199, 210, 254, 255]);
const MIDDLE: Rgba<u8> = Rgba([68, 64, 60, 255]);

/// Per column, the loudest sample and the root mean square, both 0–1.
pub fn columns(samples: &[i16], width: u32) -> Vec<(f32, f32)> {
    let width = width.max(1) as usize;
    (0..width)
        .map(|x| {
            let from = x * samples.len() / width;
            let to = ((x + 1) * samples.len() / width)
                .max(from + 1)
                .min(samples.len());
            let part = samples.get(from..to).unwrap_or(&[]);
            if part.is_empty() {
                return (0.0, 0.0);
            }
            let peak = part.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0) as f32 / 32768.0;
            let mean_square = part
                .iter()
                .map(|&s| (s as f64 / 32768.0).powi(2))
                .sum::<f64>()
                / part.len() as f64;
            (peak, mean_square.sqrt() as f32)
        })
        .collect()
}

/// The waveform of `samples` at `width`×`height`.
pub fn draw(samples: &[i16], width: u32, height: u32) -> RgbaImage {
    let mut image = RgbaImage::from_pixel(width, height, BACKGROUND);
    let middle = height / 2;
    for x in 0..width {
        image.put_pixel(x, middle, MIDDLE);
    }
    let half = (height / 2) as f32;
    for (x, (peak, level)) in columns(samples, width).into_iter().enumerate() {
        let bar = |amount: f32| ((amount.clamp(0.0, 1.0) * half).round() as u32).min(middle);
        for (amount, colour) in [(peak, PEAK), (level, LEVEL)] {
            let reach = bar(amount);
            for y in middle - reach..=(middle + reach).min(height - 1) {
                image.put_pixel(x as u32, y, colour);
            }
        }
    }
    image
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_louder_half_draws_taller_and_silence_draws_only_the_middle_line() {
        let mut samples = vec![0i16; 800];
        samples.extend((0..800).map(|i| if i % 2 == 0 { 16_000 } else { -16_000 }));
        let cols = columns(&samples, 4);
        assert_eq!(cols[0], (0.0, 0.0));
        assert!((cols[3].0 - 0.488).abs() < 0.01, "{:?}", cols[3]);
        let picture = draw(&samples, 40, 20);
        let lit = |x: u32| {
            (0..20)
                .filter(|&y| picture.get_pixel(x, y) != &BACKGROUND)
                .count()
        };
        assert_eq!(lit(5), 1, "silence: the middle line");
        assert!(lit(35) >= 9, "loud: {} pixels", lit(35));
        assert_eq!(columns(&[], 3), vec![(0.0, 0.0); 3]);
    }
}
