//! The built-in renderer: a small CPU rasteriser that always works, with no GPU, no display and
//! nothing installed. It makes every asset's preview thumbnail and is the default engine of
//! render jobs. Lambert diffuse and Blinn-Phong highlights from directional, point and spot
//! lights plus an environment colour; no shadows, no reflections.
//!
//! - [`model`]: a glTF's default scene as world-space triangles, materials and textures.
//! - [`raster`]: clipping, projection, the depth buffer and shading.

pub mod engines;
pub mod jobs;
pub mod model;
mod raster;

use image::RgbaImage;

pub use model::{Model, Vec3};

use crate::assets::gltf::Bounds;
use crate::media::srgb;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Projection {
    Perspective {
        fov_y_degrees: f64,
    },
    /// `height`: how much of the world, in metres, the picture shows top to bottom.
    Orthographic {
        height: f64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Camera {
    pub position: Vec3,
    pub target: Vec3,
    pub up: Vec3,
    pub projection: Projection,
    pub near: f64,
    pub far: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Light {
    /// Light travelling along `direction` (from the sun towards the scene).
    Directional {
        direction: Vec3,
        color: Vec3,
        intensity: f64,
    },
    /// Falls off with the square of the distance.
    Point {
        position: Vec3,
        color: Vec3,
        intensity: f64,
    },
    /// Cones in radians from the axis: full inside `inner_cone`, none past `outer_cone`.
    Spot {
        position: Vec3,
        direction: Vec3,
        color: Vec3,
        intensity: f64,
        inner_cone: f64,
        outer_cone: f64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Lighting {
    pub lights: Vec<Light>,
    /// The environment's colour: light from every direction.
    pub ambient: Vec3,
    /// Linear RGB behind the model (darkening a little towards the bottom).
    pub background: Vec3,
}

impl Lighting {
    /// A key, a fill and a rim light over a soft environment: the previews' studio.
    pub fn studio() -> Self {
        Lighting {
            lights: vec![
                Light::Directional {
                    direction: [-0.5, -0.8, -0.6],
                    color: [1.0, 0.97, 0.92],
                    intensity: 2.2,
                },
                Light::Directional {
                    direction: [0.7, -0.3, -0.4],
                    color: [0.75, 0.82, 1.0],
                    intensity: 0.6,
                },
                Light::Directional {
                    direction: [0.0, -0.2, 1.0],
                    color: [1.0, 1.0, 1.0],
                    intensity: 0.5,
                },
            ],
            ambient: [0.18, 0.19, 0.21],
            background: [0.045, 0.05, 0.06],
        }
    }
}

/// A three-quarter view from above that shows all of `bounds`.
pub fn framing(bounds: &Bounds, fov_y_degrees: f64) -> Camera {
    let center = bounds.center();
    let size = bounds.size();
    let radius = (size[0] * size[0] + size[1] * size[1] + size[2] * size[2])
        .sqrt()
        .max(1e-3)
        / 2.0;
    let distance = radius / (fov_y_degrees.to_radians() / 2.0).sin() * 1.05;
    let dir = model::normalize([0.8, 0.55, 1.0]);
    Camera {
        position: [0, 1, 2].map(|i| center[i] + dir[i] * distance),
        target: center,
        up: [0.0, 1.0, 0.0],
        projection: Projection::Perspective { fov_y_degrees },
        near: (distance - radius * 1.5).max(distance * 1e-3),
        far: distance + radius * 1.5,
    }
}

/// Renders `model` seen by `camera` at `width`×`height`, two-by-two samples per pixel.
pub fn render(
    model: &Model,
    camera: &Camera,
    lighting: &Lighting,
    width: u32,
    height: u32,
) -> RgbaImage {
    render_sampled(model, camera, lighting, width, height, 2)
}

/// [`render`] with `grid`×`grid` samples per pixel.
pub fn render_sampled(
    model: &Model,
    camera: &Camera,
    lighting: &Lighting,
    width: u32,
    height: u32,
    grid: usize,
) -> RgbaImage {
    let (w, h) = (width.max(1) as usize, height.max(1) as usize);
    let n = grid.max(1);
    let frame = raster::rasterise(model, camera, lighting, w * n, h * n);
    let weight = 1.0 / (n * n) as f32;
    RgbaImage::from_fn(w as u32, h as u32, |x, y| {
        let (x, y) = (x as usize * n, y as usize * n);
        let mut sum = [0f32; 3];
        for dy in 0..n {
            for dx in 0..n {
                let c = frame.color[(y + dy) * frame.width + x + dx];
                for i in 0..3 {
                    sum[i] += c[i] * weight;
                }
            }
        }
        image::Rgba([
            srgb::encode(sum[0]),
            srgb::encode(sum[1]),
            srgb::encode(sum[2]),
            255,
        ])
    })
}

/// The preview of a model: framed from three-quarters above in the studio lights.
pub fn preview(model: &Model, size: u32) -> RgbaImage {
    let bounds = model.bounds.unwrap_or(Bounds {
        min: [-1.0; 3],
        max: [1.0; 3],
    });
    render(
        model,
        &framing(&bounds, 35.0),
        &Lighting::studio(),
        size,
        size,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assets::gltf::sample::{self, Sample};

    #[test]
    fn a_sphere_fills_the_middle_of_its_preview_and_is_lit_from_above() {
        let model = Model::from_glb(&sample::glb(&Sample::default())).unwrap();
        let image = preview(&model, 64);
        let center = image.get_pixel(32, 32);
        let corner = image.get_pixel(1, 1);
        assert!(
            center[0] > corner[0] + 40,
            "the clay-red sphere covers the middle: {center:?} vs {corner:?}"
        );
        assert!(center[0] > center[2], "red clay: {center:?}");
        // The key light comes from above: the top of the sphere is brighter than its bottom.
        let luma = |p: &image::Rgba<u8>| p[0] as u32 + p[1] as u32 + p[2] as u32;
        assert!(luma(image.get_pixel(32, 22)) > luma(image.get_pixel(32, 44)));
    }

    #[test]
    fn a_texture_shows_in_the_render_and_a_camera_inside_the_model_still_renders() {
        let textured = Sample {
            texture: Some(sample::checker_png(64)),
            base_color: [1.0; 4],
            ..Sample::default()
        };
        let model = Model::from_glb(&sample::glb(&textured)).unwrap();
        let image = preview(&model, 96);
        let mut tones: Vec<u8> = (30..66).map(|x| image.get_pixel(x, 48)[2]).collect();
        tones.sort();
        assert!(
            tones[tones.len() - 1] > tones[0] + 40,
            "the checker's light and dark squares both show"
        );
        let inside = Camera {
            position: [0.0, 0.0, 0.0],
            target: [0.0, 0.0, 1.0],
            up: [0.0, 1.0, 0.0],
            projection: Projection::Perspective {
                fov_y_degrees: 60.0,
            },
            near: 0.01,
            far: 100.0,
        };
        let image = render(&model, &inside, &Lighting::studio(), 32, 32);
        assert_eq!(image.dimensions(), (32, 32));
        let ortho = Camera {
            position: [0.0, 0.0, 5.0],
            target: [0.0; 3],
            projection: Projection::Orthographic { height: 3.0 },
            ..inside
        };
        let image = render(&model, &ortho, &Lighting::studio(), 30, 30);
        let brightest = (10..20)
            .flat_map(|x| (10..20).map(move |y| (x, y)))
            .map(|(x, y)| image.get_pixel(x, y)[0])
            .max()
            .unwrap();
        assert!(
            brightest > image.get_pixel(1, 1)[0] + 40,
            "the sphere shows in the middle"
        );
    }
}
