//! The built-in engine: the scene's models drawn by the CPU rasteriser, with the scene's camera,
//! lights and environment. Always available; PNG or JPEG.

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder, RgbaImage};

use super::{params, Order, Renderer};
use crate::providers::{Capability, ErrorKind, ModelInfo, Progress, ProviderError, ProviderInfo};
use crate::render::jobs::OutputFormat;
use crate::render::model::{normalize, sub};
use crate::render::{self, Camera, Light, Lighting, Model, Projection};
use crate::scenes::{CameraProjection, LightType, SceneDoc};

pub const ID: &str = "render-builtin";
pub const NAME: &str = "Built-in renderer";
pub const FORMATS: &[OutputFormat] = &[OutputFormat::Png, OutputFormat::Jpeg];
/// Samples are a grid per pixel side: 2 is 2×2.
pub const DEFAULT_SAMPLES: u32 = 2;
pub const MAX_SAMPLES: u32 = 4;

pub struct BuiltinEngine {
    info: ProviderInfo,
}

impl Default for BuiltinEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl BuiltinEngine {
    pub fn new() -> Self {
        BuiltinEngine {
            info: ProviderInfo {
                id: ID.into(),
                name: NAME.into(),
                description: "A CPU rasteriser in the app: Lambert and Blinn-Phong shading, no \
                              shadows. Always available; quick."
                    .into(),
                remote_queue: false,
                any_model: false,
                models: vec![ModelInfo {
                    id: "rasteriser".into(),
                    name: "Rasteriser".into(),
                    description: "Draws the scene's models with its camera and lights.".into(),
                    capability: Capability::Render,
                    negative_prompt: false,
                    image_input: None,
                    image_strength: None,
                    networks: false,
                    inputs: Default::default(),
                    params: params(
                        FORMATS,
                        DEFAULT_SAMPLES,
                        MAX_SAMPLES,
                        "Samples per pixel side: 2 takes 2×2 samples for each pixel.",
                    ),
                }],
            },
        }
    }
}

/// Blender's light units in the rasteriser's terms: a diffuse surface sends back albedo/π of
/// the light that reaches it, so a sun of S W/m² is S/π, and a point light of P W is P/4π per
/// steradian, over π again.
pub fn lighting(doc: &SceneDoc) -> Lighting {
    let pi = std::f64::consts::PI;
    let lights = doc
        .world_lights()
        .into_iter()
        .map(|(light, position, target)| {
            let color = light.color;
            match light.light {
                LightType::Directional => Light::Directional {
                    direction: normalize(sub(target, position)),
                    color,
                    intensity: light.strength / pi,
                },
                LightType::Point => Light::Point {
                    position,
                    color,
                    intensity: light.strength / (4.0 * pi * pi),
                },
                LightType::Spot => Light::Spot {
                    position,
                    direction: normalize(sub(target, position)),
                    color,
                    intensity: light.strength / (4.0 * pi * pi),
                    inner_cone: light.inner_cone.to_radians(),
                    outer_cone: light.outer_cone.to_radians(),
                },
            }
        })
        .collect();
    Lighting {
        lights,
        ambient: doc.environment,
        background: doc.environment,
    }
}

/// The scene's camera `name` for the rasteriser, its depth range fitted to the model.
pub fn camera(doc: &SceneDoc, name: &str, model: &Model) -> Option<Camera> {
    let (position, target, projection) = doc.camera(Some(name))?;
    let forward = normalize(sub(target, position));
    let up = if forward[1].abs() > 0.999 {
        [0.0, 0.0, -forward[1].signum()]
    } else {
        [0.0, 1.0, 0.0]
    };
    let (near, far) = match model.bounds {
        Some(b) => {
            let center = b.center();
            let size = b.size();
            let radius = (size[0].powi(2) + size[1].powi(2) + size[2].powi(2)).sqrt() / 2.0;
            let d = sub(center, position);
            let along = d[0] * forward[0] + d[1] * forward[1] + d[2] * forward[2];
            (
                (along - radius * 1.1).max(radius.max(1e-3) * 1e-3),
                (along + radius * 1.1).max(1e-2),
            )
        }
        None => (0.01, 1000.0),
    };
    Some(Camera {
        position,
        target,
        up,
        projection: match projection {
            CameraProjection::Perspective { fov } => Projection::Perspective { fov_y_degrees: fov },
            CameraProjection::Orthographic { height } => Projection::Orthographic { height },
        },
        near,
        far,
    })
}

pub fn encode(image: &RgbaImage, format: OutputFormat) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let (w, h) = image.dimensions();
    match format {
        OutputFormat::Jpeg => {
            let rgb = image::DynamicImage::ImageRgba8(image.clone()).to_rgb8();
            JpegEncoder::new_with_quality(&mut out, 92)
                .write_image(rgb.as_raw(), w, h, ExtendedColorType::Rgb8)
                .map_err(|e| e.to_string())?;
        }
        _ => PngEncoder::new(&mut out)
            .write_image(image.as_raw(), w, h, ExtendedColorType::Rgba8)
            .map_err(|e| e.to_string())?,
    }
    Ok(out)
}

/// Draws an order: the picture's bytes in its format.
pub fn draw(order: &Order<'_>) -> Result<Vec<u8>, String> {
    let model = Model::from_glb(order.glb)?;
    let camera = camera(&order.scene.doc, &order.scene.camera, &model)
        .ok_or_else(|| format!("the scene has no camera “{}”", order.scene.camera))?;
    let image = render::render_sampled(
        &model,
        &camera,
        &lighting(&order.scene.doc),
        order.width,
        order.height,
        order.samples.clamp(1, MAX_SAMPLES) as usize,
    );
    encode(&image, order.format)
}

#[async_trait::async_trait]
impl Renderer for BuiltinEngine {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    async fn render(
        &self,
        order: &Order<'_>,
        progress: &Progress,
    ) -> Result<Vec<u8>, ProviderError> {
        let _ = progress.send(Some((Some(0.0), "rendering on the CPU".into())));
        let (scene, glb) = (order.scene.clone(), order.glb.to_vec());
        let (width, height, format, samples) =
            (order.width, order.height, order.format, order.samples);
        tokio::task::spawn_blocking(move || {
            draw(&Order {
                scene: &scene,
                glb: &glb,
                width,
                height,
                format,
                samples,
            })
        })
        .await
        .map_err(|e| ProviderError::new(NAME, ErrorKind::Unavailable, e.to_string()))?
        .map_err(|e| ProviderError::new(NAME, ErrorKind::InvalidInput, e))
    }
}

/// A PNG as a `data:` URL, for a picture that is shown once and never stored.
pub fn png_data_url(png: &[u8]) -> String {
    use base64::Engine as _;
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    )
}
