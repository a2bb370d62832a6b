//! The offline generator's clips: a camera moving over a procedural picture (text-to-video),
//! over an input picture (image-to-video, its first frame the picture itself), and tunes of
//! tones (text-to-audio). Deterministic from the prompt, seed and parameters, like the
//! pictures; videos are encoded by the system's `ffmpeg`.

use image::RgbImage;
use serde_json::Value;

use super::render::{render, Scene, Style};
use crate::hashing::{fnv1a64, SplitMix64};
use crate::media::av::encode::{wav, Clip};
use crate::media::av::Tools;
use crate::providers::{Capability, GenerationRequest, InputNames, ModelInfo, ParamSpec};

pub const MOTION: &str = "motion";
pub const ANIMATE: &str = "animate";
pub const TONES: &str = "tones";

/// Sound is written at this rate.
pub const SAMPLE_RATE: u32 = 32_000;
const RESOLUTIONS: &[&str] = &["360p", "480p", "720p"];
const ASPECTS: &[&str] = &["16:9", "1:1", "9:16"];
const CAMERAS: &[&str] = &["zoom_in", "zoom_out", "pan_left", "pan_right"];

fn duration(default: i64, max: i64) -> ParamSpec {
    ParamSpec::integer(
        "duration",
        "Duration (s)",
        "How long the clip lasts, in seconds.",
        default,
        1,
        max,
        1,
    )
}

fn fps() -> ParamSpec {
    ParamSpec::integer(
        "fps",
        "Frames per second",
        "Frames in each second of video.",
        24,
        8,
        30,
        1,
    )
}

fn resolution() -> ParamSpec {
    ParamSpec::choice(
        "resolution",
        "Resolution",
        "The video's shorter side: 360, 480 or 720 pixels.",
        "480p",
        RESOLUTIONS,
    )
}

fn camera() -> ParamSpec {
    ParamSpec::choice(
        "camera",
        "Camera",
        "How the camera moves over the picture.",
        "zoom_in",
        CAMERAS,
    )
}

fn clip_model(id: &str, name: &str, capability: Capability, description: &str) -> ModelInfo {
    ModelInfo {
        id: id.into(),
        name: name.into(),
        description: description.into(),
        capability,
        negative_prompt: capability == Capability::TextToVideo,
        image_input: None,
        image_strength: None,
        networks: false,
        params: Vec::new(),
        inputs: InputNames::default(),
    }
}

pub fn models() -> Vec<ModelInfo> {
    let mut motion = clip_model(
        MOTION,
        "Motion",
        Capability::TextToVideo,
        "A camera drifting over a procedural picture from the prompt and seed, as an H.264 MP4. \
         Needs ffmpeg.",
    );
    motion.params = vec![
        duration(4, 10),
        fps(),
        ParamSpec::choice(
            "aspect_ratio",
            "Aspect ratio",
            "Width to height of the video.",
            "16:9",
            ASPECTS,
        ),
        resolution(),
        ParamSpec::choice(
            "style",
            "Style",
            "How the picture is drawn.",
            "aurora",
            &Style::NAMES,
        ),
        camera(),
    ];
    let mut animate = clip_model(
        ANIMATE,
        "Animate",
        Capability::ImageToVideo,
        "The input picture brought to life by a moving camera; the first frame is the picture. \
         An H.264 MP4 at the picture's shape. Needs ffmpeg.",
    );
    animate.image_input = Some("image".into());
    animate.params = vec![duration(4, 10), fps(), resolution(), camera()];
    let mut tones = clip_model(
        TONES,
        "Tones",
        Capability::TextToAudio,
        "A tune of soft tones: the prompt's words choose the key and the melody, the seed \
         varies it. A WAV file.",
    );
    tones.params = vec![
        duration(8, 30),
        ParamSpec::integer("tempo", "Tempo (bpm)", "Beats per minute.", 96, 40, 200, 1),
        ParamSpec::choice(
            "mood",
            "Mood",
            "A major key sounds bright, a minor one dark.",
            "major",
            &["major", "minor"],
        ),
    ];
    vec![motion, animate, tones]
}

fn int(request: &GenerationRequest, name: &str, default: i64) -> i64 {
    request
        .params
        .get(name)
        .and_then(Value::as_i64)
        .unwrap_or(default)
}

fn text<'a>(request: &'a GenerationRequest, name: &str, default: &'a str) -> &'a str {
    request
        .params
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or(default)
}

/// The shorter side a resolution names.
fn short_side(resolution: &str) -> u32 {
    match resolution {
        "360p" => 360,
        "720p" => 720,
        _ => 480,
    }
}

fn even(x: f64) -> u32 {
    ((x / 2.0).round() as u32).max(1) * 2
}

/// A text-to-video (`motion`) or image-to-video (`animate`) request as an MP4.
pub fn video(tools: &Tools, request: &GenerationRequest) -> Result<Vec<u8>, String> {
    let seconds = int(request, "duration", 4).clamp(1, 10) as u32;
    let fps = int(request, "fps", 24).clamp(8, 30) as u32;
    let short = short_side(text(request, "resolution", "480p"));
    let mut rng = SplitMix64::new(fnv1a64(request.prompt.as_bytes()) ^ request.seed as u64);
    let (base, width, height) = if request.model == ANIMATE {
        let data = request
            .input_image
            .as_ref()
            .and_then(|i| i.data.as_ref())
            .ok_or("Animate starts from a picture; none was given")?;
        let base = image::load_from_memory(&data.bytes)
            .map_err(|e| format!("the input picture could not be read: {e}"))?
            .to_rgb8();
        let (w, h) = (base.width() as f64, base.height() as f64);
        let k = short as f64 / w.min(h);
        (base, even(w * k), even(h * k))
    } else {
        let (aw, ah) = match text(request, "aspect_ratio", "16:9") {
            "1:1" => (1.0, 1.0),
            "9:16" => (9.0, 16.0),
            _ => (16.0, 9.0),
        };
        let k = short as f64 / f64::min(aw, ah);
        let (width, height) = (even(aw * k), even(ah * k));
        // Drawn larger than the frame, so the camera has room to move.
        let scene = Scene {
            width: (width as f64 * 1.25) as u32,
            height: (height as f64 * 1.25) as u32,
            style: Style::parse(text(request, "style", "aurora")).unwrap_or(Style::Aurora),
            detail: 4,
        };
        let pixels = render(
            &scene,
            &request.prompt,
            &request.negative_prompt,
            request.seed,
        );
        let base = RgbImage::from_raw(scene.width, scene.height, pixels)
            .ok_or("the picture did not render")?;
        (base, width, height)
    };
    let frames = seconds * fps;
    let path = Camera::new(
        text(request, "camera", "zoom_in"),
        request.model == ANIMATE,
        &mut rng,
    );
    let draw = |n: u32, frame: &mut [u8]| {
        let t = n as f64 / (frames.max(2) - 1) as f64;
        path.frame(&base, t, width, height, frame);
    };
    tools
        .encode_mp4(&Clip {
            width,
            height,
            fps,
            frames,
            draw: &draw,
        })
        .map_err(|e| e.to_string())
}

/// Where the camera looks over time: a zoom (1 shows the whole picture) and a centre (in
/// the picture's unit coordinates), eased from start to end.
struct Camera {
    zoom: (f64, f64),
    centre: ((f64, f64), (f64, f64)),
}

impl Camera {
    /// `from_picture`: the first frame is the whole picture (an input picture is the start).
    fn new(kind: &str, from_picture: bool, rng: &mut SplitMix64) -> Self {
        let drift = |rng: &mut SplitMix64| 0.5 + (rng.unit() as f64 - 0.5) * 0.2;
        let (a, b) = (drift(rng), drift(rng));
        let start = if from_picture { 1.0 } else { 1.1 };
        match kind {
            "zoom_out" if !from_picture => Camera {
                zoom: (1.4, 1.0),
                centre: ((a, b), (0.5, 0.5)),
            },
            "zoom_out" => Camera {
                // From the whole picture there is nowhere to zoom out to: pull back from a
                // slight zoom instead, after showing the picture.
                zoom: (1.0, 1.0),
                centre: ((0.5, 0.5), (0.5, 0.5)),
            },
            "pan_left" => Camera {
                zoom: (start, 1.25),
                centre: ((0.5, 0.5), (0.25, b)),
            },
            "pan_right" => Camera {
                zoom: (start, 1.25),
                centre: ((0.5, 0.5), (0.75, b)),
            },
            _ => Camera {
                zoom: (start, 1.35),
                centre: ((0.5, 0.5), (a, b)),
            },
        }
    }

    /// Frame at time `t` (0–1): the picture's window scaled to `width`×`height`, bilinear.
    fn frame(&self, base: &RgbImage, t: f64, width: u32, height: u32, out: &mut [u8]) {
        let ease = t * t * (3.0 - 2.0 * t);
        let lerp = |a: f64, b: f64| a + (b - a) * ease;
        let zoom = lerp(self.zoom.0, self.zoom.1).max(1.0);
        let (bw, bh) = (base.width() as f64, base.height() as f64);
        // The window keeps the frame's shape and fits inside the picture.
        let fit = f64::min(bw / width as f64, bh / height as f64);
        let (ww, wh) = (width as f64 * fit / zoom, height as f64 * fit / zoom);
        let cx = (lerp(self.centre.0 .0, self.centre.1 .0) * bw).clamp(ww / 2.0, bw - ww / 2.0);
        let cy = (lerp(self.centre.0 .1, self.centre.1 .1) * bh).clamp(wh / 2.0, bh - wh / 2.0);
        let (x0, y0) = (cx - ww / 2.0, cy - wh / 2.0);
        let (sx, sy) = (ww / width as f64, wh / height as f64);
        let raw = base.as_raw();
        let stride = base.width() as usize * 3;
        let (maxx, maxy) = (base.width() as usize - 1, base.height() as usize - 1);
        for y in 0..height as usize {
            let fy = (y0 + (y as f64 + 0.5) * sy - 0.5).max(0.0);
            let (iy, dy) = ((fy as usize).min(maxy), fy.fract());
            let iy1 = (iy + 1).min(maxy);
            for x in 0..width as usize {
                let fx = (x0 + (x as f64 + 0.5) * sx - 0.5).max(0.0);
                let (ix, dx) = ((fx as usize).min(maxx), fx.fract());
                let ix1 = (ix + 1).min(maxx);
                for c in 0..3 {
                    let p = |xx: usize, yy: usize| raw[yy * stride + xx * 3 + c] as f64;
                    let top = p(ix, iy) * (1.0 - dx) + p(ix1, iy) * dx;
                    let bottom = p(ix, iy1) * (1.0 - dx) + p(ix1, iy1) * dx;
                    out[(y * width as usize + x) * 3 + c] =
                        (top * (1.0 - dy) + bottom * dy).round() as u8;
                }
            }
        }
    }
}

/// A text-to-audio (`tones`) request as a WAV: a melody over a drone, one note a beat.
pub fn tones(request: &GenerationRequest) -> Vec<u8> {
    let seconds = int(request, "duration", 8).clamp(1, 30) as usize;
    let tempo = int(request, "tempo", 96).clamp(40, 200) as f64;
    let minor = text(request, "mood", "major") == "minor";
    let words = fnv1a64(request.prompt.trim().to_lowercase().as_bytes());
    let mut rng = SplitMix64::new(words ^ (request.seed as u64).rotate_left(29));
    // Pentatonic steps above the root, in semitones.
    let scale: &[i32] = if minor {
        &[0, 3, 5, 7, 10, 12, 15]
    } else {
        &[0, 2, 4, 7, 9, 12, 14]
    };
    // The words choose the key: a root from A2 to G#3.
    let root = 45 + (words % 12) as i32;
    let hz = |midi: i32| 440.0 * 2f64.powf((midi - 69) as f64 / 12.0);
    let rate = SAMPLE_RATE as f64;
    let total = seconds * SAMPLE_RATE as usize;
    let beat = (rate * 60.0 / tempo) as usize;
    let mut step = (rng.next_u64() % scale.len() as u64) as usize;
    let mut notes = Vec::new();
    for start in (0..total).step_by(beat.max(1)) {
        // A random walk over the scale, an octave up.
        let moves = (rng.next_u64() % 5) as i64 - 2;
        step = (step as i64 + moves).clamp(0, scale.len() as i64 - 1) as usize;
        let rest = rng.unit() < 0.12;
        if !rest {
            notes.push((start, hz(root + 12 + scale[step])));
        }
    }
    let drone = hz(root);
    let mut samples = vec![0f64; total];
    for (i, s) in samples.iter_mut().enumerate() {
        let t = i as f64 / rate;
        // Fades in and out over half a second.
        let edge = (t / 0.5).min((seconds as f64 - t) / 0.5).clamp(0.0, 1.0);
        *s = 0.12 * edge * (std::f64::consts::TAU * drone * t).sin();
    }
    for (start, freq) in notes {
        let length = (beat * 2).min(total - start);
        for j in 0..length {
            let t = j as f64 / rate;
            let envelope = (t / 0.01).min(1.0) * (-t * 3.0).exp();
            let tone = (std::f64::consts::TAU * freq * t).sin()
                + 0.3 * (std::f64::consts::TAU * 2.0 * freq * t).sin();
            samples[start + j] += 0.3 * envelope * tone;
        }
    }
    let pcm: Vec<i16> = samples
        .iter()
        .map(|s| (s.clamp(-1.0, 1.0) * 32_000.0) as i16)
        .collect();
    wav(&pcm, SAMPLE_RATE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(prompt: &str, seed: i64, params: Value) -> GenerationRequest {
        GenerationRequest::simple(TONES, prompt, seed, params.as_object().unwrap().clone())
    }

    #[test]
    fn a_tune_lasts_its_duration_and_the_same_input_gives_the_same_file() {
        let a = tones(&request("rain on a tin roof", 7, json!({"duration": 3})));
        assert_eq!(a.len(), 44 + 3 * SAMPLE_RATE as usize * 2);
        assert_eq!(
            a,
            tones(&request("rain on a tin roof", 7, json!({"duration": 3})))
        );
        assert_ne!(
            a,
            tones(&request("rain on a tin roof", 8, json!({"duration": 3})))
        );
        let minor = tones(&request(
            "rain on a tin roof",
            7,
            json!({"duration": 3, "mood": "minor"}),
        ));
        assert_ne!(a, minor);
        // Never silent, never clipped hard.
        let samples: Vec<i16> = a[44..]
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        let peak = samples.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!((3_000..32_000).contains(&peak), "{peak}");
    }
}
