//! The offline procedural renderer: pictures from words, with no network and no model.
//!
//! The prompt's words pick the palette (each word a hue), the seed and the words place the
//! shapes, and the style chooses how they are drawn. The same prompt, seed and parameters give
//! byte-identical pixels on every machine (integer-seeded, no wall clock, no thread-order
//! dependence: every row is a pure function of its index).

use crate::hashing::{fnv1a64, SplitMix64};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Soft glowing blobs over a gradient sky.
    Aurora,
    /// Hard-edged circles and bars.
    Geometric,
    /// Interfering colour bands.
    Waves,
}

impl Style {
    pub const NAMES: [&'static str; 3] = ["aurora", "geometric", "waves"];

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "aurora" => Some(Style::Aurora),
            "geometric" => Some(Style::Geometric),
            "waves" => Some(Style::Waves),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Scene {
    pub width: u32,
    pub height: u32,
    pub style: Style,
    /// 1..=8: how many shapes.
    pub detail: u32,
}

/// A shape's centre, size and colour, in unit coordinates.
#[derive(Debug, Clone, Copy)]
struct Shape {
    x: f32,
    y: f32,
    inv_r2: f32,
    r: f32,
    color: [f32; 3],
    phase: f32,
}

/// Renders RGB8 pixels (row-major, `width * height * 3` bytes).
pub fn render(scene: &Scene, prompt: &str, negative_prompt: &str, seed: i64) -> Vec<u8> {
    let palette = palette(prompt, seed);
    let mut rng = SplitMix64::new(
        fnv1a64(prompt.as_bytes())
            ^ fnv1a64(negative_prompt.as_bytes()).rotate_left(17)
            ^ seed as u64,
    );
    // The negative prompt pushes colours away: it desaturates by a stable amount.
    let mute = if negative_prompt.trim().is_empty() {
        0.0
    } else {
        0.25 + 0.25 * rng.unit()
    };
    let shapes: Vec<Shape> = (0..scene.detail * 2 + 1)
        .map(|i| {
            let r = rng.range(0.08, 0.42);
            Shape {
                x: rng.range(-0.1, 1.1),
                y: rng.range(-0.1, 1.1),
                inv_r2: 1.0 / (r * r),
                r,
                color: palette[(i as usize + 1) % palette.len()],
                phase: rng.range(0.0, std::f32::consts::TAU),
            }
        })
        .collect();
    let top = scale(palette[0], 0.35);
    let bottom = palette[palette.len() - 1];
    let frequency = rng.range(4.0, 14.0);

    let (w, h) = (scene.width as usize, scene.height as usize);
    let mut pixels = vec![0u8; w * h * 3];
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let rows_per_chunk = h.div_ceil(threads);
    std::thread::scope(|scope| {
        for (chunk_index, chunk) in pixels.chunks_mut(rows_per_chunk * w * 3).enumerate() {
            let shapes = &shapes;
            scope.spawn(move || {
                for (i, row) in chunk.chunks_mut(w * 3).enumerate() {
                    let y = chunk_index * rows_per_chunk + i;
                    let v = y as f32 / h.max(1) as f32;
                    let sky = mix(top, bottom, v);
                    for (x, px) in row.chunks_mut(3).enumerate() {
                        let u = x as f32 / w.max(1) as f32;
                        let c = match scene.style {
                            Style::Aurora => aurora(sky, shapes, u, v),
                            Style::Geometric => geometric(sky, shapes, u, v),
                            Style::Waves => waves(sky, shapes, u, v, frequency),
                        };
                        let c = desaturate(c, mute);
                        // Ordered dither hides banding in the gradients, deterministically.
                        let d = ((x * 7 + y * 13) % 16) as f32 / 16.0 - 0.5;
                        px[0] = to_byte(c[0], d);
                        px[1] = to_byte(c[1], d);
                        px[2] = to_byte(c[2], d);
                    }
                }
            });
        }
    });
    pixels
}

fn aurora(sky: [f32; 3], shapes: &[Shape], u: f32, v: f32) -> [f32; 3] {
    let mut acc = [0.0f32; 3];
    let mut total = 0.0f32;
    for s in shapes {
        let (dx, dy) = (u - s.x, v - s.y);
        let q = 1.0 + (dx * dx + dy * dy) * s.inv_r2;
        let w = 1.0 / (q * q);
        total += w;
        for (channel, color) in acc.iter_mut().zip(s.color) {
            *channel += color * w;
        }
    }
    let glow = total.min(1.0);
    let tint = if total > 0.0 {
        [acc[0] / total, acc[1] / total, acc[2] / total]
    } else {
        sky
    };
    mix(sky, tint, glow)
}

fn geometric(sky: [f32; 3], shapes: &[Shape], u: f32, v: f32) -> [f32; 3] {
    let mut c = sky;
    for (i, s) in shapes.iter().enumerate() {
        let (dx, dy) = (u - s.x, v - s.y);
        let inside = if i % 2 == 0 {
            dx * dx + dy * dy < s.r * s.r * 0.5
        } else {
            dx.abs() < s.r * 0.9 && dy.abs() < s.r * 0.18
        };
        if inside {
            c = mix(c, s.color, 0.85);
        }
    }
    c
}

fn waves(sky: [f32; 3], shapes: &[Shape], u: f32, v: f32, frequency: f32) -> [f32; 3] {
    let mut c = sky;
    for s in shapes.iter().take(4) {
        let band = ((u * s.x.cos() + v * s.y.sin()) * frequency + s.phase).sin();
        c = mix(c, s.color, (band * 0.5 + 0.5) * 0.45);
    }
    c
}

/// One colour per word (up to six), from the word's hash; a palette from the seed when the
/// prompt has no words.
fn palette(prompt: &str, seed: i64) -> Vec<[f32; 3]> {
    let words: Vec<String> = prompt
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 2)
        .map(|w| w.to_lowercase())
        .take(6)
        .collect();
    let hashes: Vec<u64> = if words.is_empty() {
        let mut rng = SplitMix64::new(seed as u64);
        (0..3).map(|_| rng.next_u64()).collect()
    } else {
        words.iter().map(|w| fnv1a64(w.as_bytes())).collect()
    };
    let mut colors: Vec<[f32; 3]> = hashes
        .iter()
        .map(|h| {
            let hue = (h % 360) as f32;
            let sat = 0.45 + ((h >> 16) % 40) as f32 / 100.0;
            let light = 0.40 + ((h >> 32) % 30) as f32 / 100.0;
            hsl(hue, sat, light)
        })
        .collect();
    if colors.len() == 1 {
        colors.push(scale(colors[0], 1.6));
    }
    colors
}

fn hsl(h: f32, s: f32, l: f32) -> [f32; 3] {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let hp = h / 60.0;
    let x = c * (1.0 - (hp % 2.0 - 1.0).abs());
    let (r, g, b) = match hp as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    [r + m, g + m, b + m]
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

fn scale(c: [f32; 3], k: f32) -> [f32; 3] {
    [
        (c[0] * k).min(1.0),
        (c[1] * k).min(1.0),
        (c[2] * k).min(1.0),
    ]
}

fn desaturate(c: [f32; 3], amount: f32) -> [f32; 3] {
    let grey = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
    mix(c, [grey; 3], amount)
}

fn to_byte(x: f32, dither: f32) -> u8 {
    (x * 255.0 + dither).round().clamp(0.0, 255.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scene(style: Style) -> Scene {
        Scene {
            width: 64,
            height: 48,
            style,
            detail: 4,
        }
    }

    #[test]
    fn the_same_input_renders_the_same_pixels() {
        for style in [Style::Aurora, Style::Geometric, Style::Waves] {
            assert_eq!(
                render(&scene(style), "a red fox", "", 42),
                render(&scene(style), "a red fox", "", 42)
            );
        }
    }

    #[test]
    fn different_prompts_seeds_and_negative_prompts_render_different_pixels() {
        let s = scene(Style::Aurora);
        let base = render(&s, "a red fox", "", 42);
        assert_ne!(base, render(&s, "a blue whale", "", 42));
        assert_ne!(base, render(&s, "a red fox", "", 43));
        assert_ne!(base, render(&s, "a red fox", "blurry", 42));
    }

    #[test]
    fn the_palette_follows_the_words() {
        assert_eq!(
            palette("Fox, fox!", 1),
            palette("fox fox", 2),
            "case and punctuation do not matter"
        );
        assert_ne!(palette("fox", 1), palette("owl", 1));
    }
}
