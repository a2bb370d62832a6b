//! `local`: the built-in offline procedural generator.
//!
//! It makes real PNG images on the CPU, with no network and no keys, deterministically from the
//! prompt, negative prompt, seed and parameters. It exists so the app works out of the box and
//! tests have a real provider; it is not an AI model and the UI never calls it one.

pub mod clips;
mod render;

use std::sync::{Arc, OnceLock};

use serde_json::Value;

pub use render::{render, Scene, Style};

use crate::media::av::Tools;

use super::{
    CancelOutcome, Capability, ErrorKind, GenerationRequest, ModelInfo, Output, ParamSpec,
    PollStatus, Provider, ProviderError, ProviderInfo, RequestRef, Submitted,
};

pub const ID: &str = "local";
pub const MAX_SIDE: i64 = 2048;

pub struct LocalProvider {
    info: ProviderInfo,
    /// ffmpeg, looked for when a video is first asked for.
    tools: Arc<OnceLock<Result<Tools, String>>>,
}

impl Default for LocalProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalProvider {
    pub fn new() -> Self {
        let model = |style: &str, name: &str, description: &str| ModelInfo {
            id: style.to_string(),
            name: name.to_string(),
            description: description.to_string(),
            capability: Capability::TextToImage,
            negative_prompt: true,
            image_input: None,
            image_strength: None,
            networks: false,
            inputs: Default::default(),
            params: vec![
                ParamSpec::integer(
                    "width",
                    "Width",
                    "Image width in pixels.",
                    1024,
                    64,
                    MAX_SIDE,
                    8,
                ),
                ParamSpec::integer(
                    "height",
                    "Height",
                    "Image height in pixels.",
                    1024,
                    64,
                    MAX_SIDE,
                    8,
                ),
                ParamSpec::integer(
                    "detail",
                    "Detail",
                    "How many shapes make up the picture.",
                    4,
                    1,
                    8,
                    1,
                ),
            ],
        };
        Self {
            info: ProviderInfo {
                id: ID.into(),
                name: NAME.into(),
                description: "Abstract pictures, clips and tunes made on this computer from the prompt's words and the seed. \
                              No network, no key, no AI model; the same input always gives the same result."
                    .into(),
                remote_queue: false,
                any_model: false,
                models: vec![
                    model("aurora", "Aurora", "Soft glowing shapes over a gradient sky."),
                    model("geometric", "Geometric", "Hard-edged circles and bars."),
                    model("waves", "Waves", "Interfering colour bands."),
                    remix(),
                ]
                .into_iter()
                .chain(clips::models())
                .collect(),
            },
            tools: Arc::default(),
        }
    }
}

/// Makes one request's file (CPU work and ffmpeg: call from a blocking thread); `tools` is
/// where ffmpeg is, looked for on first need.
fn generate(
    tools: &OnceLock<Result<Tools, String>>,
    request: &GenerationRequest,
) -> Result<Vec<u8>, ProviderError> {
    let bad = |m: String| ProviderError::new(NAME, ErrorKind::InvalidInput, m);
    match request.model.as_str() {
        clips::TONES => Ok(clips::tones(request)),
        clips::MOTION | clips::ANIMATE => {
            let tools = tools
                .get_or_init(|| Tools::detect(None).map_err(|e| e.to_string()))
                .as_ref()
                .map_err(|e| ProviderError::new(NAME, ErrorKind::Unavailable, e.clone()))?;
            clips::video(tools, request).map_err(bad)
        }
        _ => generate_png(request),
    }
}

const NAME: &str = "Offline procedural";

/// The offline image-to-image model: its input picture with aurora shapes drawn over it.
const REMIX: &str = "remix";

fn remix() -> ModelInfo {
    ModelInfo {
        id: REMIX.into(),
        name: "Remix".into(),
        description:
            "The input picture with soft shapes from the prompt and seed blended over it, \
                      at the input's size."
                .into(),
        capability: Capability::ImageToImage,
        negative_prompt: true,
        image_input: Some("image".into()),
        image_strength: Some("strength".into()),
        networks: false,
        inputs: Default::default(),
        params: vec![ParamSpec::float(
            "strength",
            "Strength",
            "How much of the new shapes to blend in: 0 keeps the input, 1 replaces it.",
            0.5,
            0.0,
            1.0,
        )],
    }
}

/// Renders and encodes one request (CPU work: call from a blocking thread).
pub fn generate_png(request: &GenerationRequest) -> Result<Vec<u8>, ProviderError> {
    let bad = |m: String| ProviderError::new(NAME, ErrorKind::InvalidInput, m);
    if request.model == REMIX {
        return remix_png(request).map_err(bad);
    }
    let style = Style::parse(&request.model)
        .ok_or_else(|| bad(format!("unknown model “{}”", request.model)))?;
    let int = |name: &str, default: i64| {
        request
            .params
            .get(name)
            .and_then(Value::as_i64)
            .unwrap_or(default)
    };
    let (width, height) = (int("width", 1024), int("height", 1024));
    if !(1..=MAX_SIDE).contains(&width) || !(1..=MAX_SIDE).contains(&height) {
        return Err(bad(format!(
            "sizes go up to {MAX_SIDE}×{MAX_SIDE}; asked for {width}×{height}"
        )));
    }
    let scene = Scene {
        width: width as u32,
        height: height as u32,
        style,
        detail: int("detail", 4).clamp(1, 8) as u32,
    };
    let pixels = render(
        &scene,
        &request.prompt,
        &request.negative_prompt,
        request.seed,
    );
    crate::media::png::encode_rgb(scene.width, scene.height, &pixels)
        .map_err(|e| ProviderError::new(NAME, ErrorKind::BadOutput, e.to_string()))
}

/// The remix model: aurora shapes rendered at the input's size, blended over it.
fn remix_png(request: &GenerationRequest) -> Result<Vec<u8>, String> {
    let data = request
        .input_image
        .as_ref()
        .and_then(|i| i.data.as_ref())
        .ok_or("Remix starts from a picture; none was given")?;
    let input = image::load_from_memory(&data.bytes)
        .map_err(|e| format!("the input picture could not be read: {e}"))?
        .to_rgb8();
    let (width, height) = input.dimensions();
    if width as i64 > MAX_SIDE || height as i64 > MAX_SIDE {
        return Err(format!(
            "Remix takes pictures up to {MAX_SIDE}×{MAX_SIDE}; this one is {width}×{height}"
        ));
    }
    let strength = request
        .params
        .get("strength")
        .and_then(Value::as_f64)
        .unwrap_or(0.5)
        .clamp(0.0, 1.0);
    let scene = Scene {
        width,
        height,
        style: Style::Aurora,
        detail: 4,
    };
    let shapes = render(
        &scene,
        &request.prompt,
        &request.negative_prompt,
        request.seed,
    );
    let blended: Vec<u8> = input
        .as_raw()
        .iter()
        .zip(&shapes)
        .map(|(&a, &b)| (a as f64 * (1.0 - strength) + b as f64 * strength).round() as u8)
        .collect();
    crate::media::png::encode_rgb(width, height, &blended).map_err(|e| e.to_string())
}

#[async_trait::async_trait]
impl Provider for LocalProvider {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    async fn submit(&self, request: &GenerationRequest) -> Result<Submitted, ProviderError> {
        let request = request.clone();
        let tools = self.tools.clone();
        let bytes = tokio::task::spawn_blocking(move || generate(&tools, &request))
            .await
            .map_err(|e| ProviderError::new(NAME, ErrorKind::Unavailable, e.to_string()))??;
        Ok(Submitted::Finished(vec![Output::Inline { bytes }]))
    }

    async fn poll(&self, request: RequestRef<'_>) -> Result<PollStatus, ProviderError> {
        // Nothing is ever queued here: `submit` finishes the work.
        Err(not_queued(request.request_id))
    }

    async fn cancel(&self, _request: RequestRef<'_>) -> Result<CancelOutcome, ProviderError> {
        Ok(CancelOutcome::NotFound)
    }
}

fn not_queued(request_id: &str) -> ProviderError {
    ProviderError::new(
        NAME,
        ErrorKind::NotFound,
        format!("no queued request {request_id}: the offline generator finishes work when it is submitted"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(prompt: &str, seed: i64, size: i64) -> GenerationRequest {
        GenerationRequest {
            model: "aurora".into(),
            prompt: prompt.into(),
            negative_prompt: String::new(),
            seed,
            params: json!({"width": size, "height": size, "detail": 4})
                .as_object()
                .unwrap()
                .clone(),
            networks: Vec::new(),
            input_image: None,
            scene: None,
            made_from: None,
        }
    }

    #[test]
    fn the_output_is_a_png_of_the_requested_size_and_byte_identical_for_the_same_input() {
        let a = generate_png(&request("a lighthouse at dusk", 7, 256)).unwrap();
        let b = generate_png(&request("a lighthouse at dusk", 7, 256)).unwrap();
        assert_eq!(a, b);
        assert_eq!(&a[..8], b"\x89PNG\r\n\x1a\n");
        let image = image::load_from_memory(&a).unwrap();
        assert_eq!((image.width(), image.height()), (256, 256));
        assert_ne!(
            a,
            generate_png(&request("a lighthouse at dawn", 7, 256)).unwrap()
        );
    }

    #[test]
    fn the_largest_size_renders_and_anything_larger_is_refused() {
        let big = generate_png(&request("x", 1, 2048)).unwrap();
        assert_eq!(image::load_from_memory(&big).unwrap().width(), 2048);
        let err = generate_png(&request("x", 1, 4096)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
    }
}
