//! The rasteriser: triangles clipped at the near plane, projected, filled with edge functions
//! against a depth buffer, attributes interpolated with perspective correction, and shaded per
//! pixel (Lambert diffuse and Blinn-Phong highlights, no shadows) at twice the size, then
//! averaged down.

use super::model::{cross, normalize, sub, Model, Vec3, Vertex};
use super::{Camera, Light, Lighting, Projection};

fn dot(a: Vec3, b: Vec3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn lerp(a: Vec3, b: Vec3, t: f64) -> Vec3 {
    [0, 1, 2].map(|i| a[i] + (b[i] - a[i]) * t)
}

/// A vertex in camera space (x right, y up, z forward) with its world attributes.
#[derive(Clone, Copy)]
struct Cam {
    view: Vec3,
    world: Vec3,
    normal: Vec3,
    uv: [f64; 2],
}

fn mix(a: &Cam, b: &Cam, t: f64) -> Cam {
    Cam {
        view: lerp(a.view, b.view, t),
        world: lerp(a.world, b.world, t),
        normal: lerp(a.normal, b.normal, t),
        uv: [
            a.uv[0] + (b.uv[0] - a.uv[0]) * t,
            a.uv[1] + (b.uv[1] - a.uv[1]) * t,
        ],
    }
}

/// Keeps the part of a triangle in front of the near plane: 0, 3 or 4 corners.
fn clip(tri: [Cam; 3], near: f64) -> Vec<Cam> {
    let mut out = Vec::with_capacity(4);
    for i in 0..3 {
        let (a, b) = (&tri[i], &tri[(i + 1) % 3]);
        let (ina, inb) = (a.view[2] >= near, b.view[2] >= near);
        if ina {
            out.push(*a);
        }
        if ina != inb {
            let t = (near - a.view[2]) / (b.view[2] - a.view[2]);
            out.push(mix(a, b, t));
        }
    }
    out
}

pub struct Frame {
    pub width: usize,
    pub height: usize,
    /// Linear RGB.
    pub color: Vec<[f32; 3]>,
    depth: Vec<f32>,
}

pub fn rasterise(
    model: &Model,
    camera: &Camera,
    lighting: &Lighting,
    width: usize,
    height: usize,
) -> Frame {
    let mut frame = Frame {
        width,
        height,
        color: (0..height)
            .flat_map(|y| {
                let t = y as f64 / height.max(1) as f64;
                let c = [0, 1, 2].map(|i| (lighting.background[i] * (1.0 - 0.35 * t)) as f32);
                std::iter::repeat_n(c, width)
            })
            .collect(),
        depth: vec![f32::INFINITY; width * height],
    };
    let forward = normalize(sub(camera.target, camera.position));
    let right = normalize(cross(forward, camera.up));
    let up = cross(right, forward);
    let aspect = width as f64 / height as f64;
    let to_cam = |v: &Vertex| {
        let d = sub(v.position, camera.position);
        Cam {
            view: [dot(d, right), dot(d, up), dot(d, forward)],
            world: v.position,
            normal: v.normal,
            uv: v.uv,
        }
    };
    let (near, perspective, half_h) = match camera.projection {
        Projection::Perspective { fov_y_degrees } => (
            camera.near.max(1e-4),
            true,
            (fov_y_degrees.to_radians() / 2.0).tan(),
        ),
        Projection::Orthographic { height } => (camera.near, false, height / 2.0),
    };
    let project = |c: &Cam| -> [f64; 3] {
        let z = c.view[2];
        let (sx, sy) = if perspective {
            (c.view[0] / (z * half_h * aspect), c.view[1] / (z * half_h))
        } else {
            (c.view[0] / (half_h * aspect), c.view[1] / half_h)
        };
        [
            (sx + 1.0) / 2.0 * width as f64,
            (1.0 - sy) / 2.0 * height as f64,
            z,
        ]
    };
    for tri in &model.triangles {
        let cams = tri.v.map(|v| to_cam(&v));
        if cams.iter().all(|c| c.view[2] > camera.far) {
            continue;
        }
        let poly = clip(cams, near);
        for k in 1..poly.len().saturating_sub(1) {
            let corners = [poly[0], poly[k], poly[k + 1]];
            let screen = corners.map(|c| project(&c));
            fill(
                &mut frame,
                model,
                tri.material,
                camera,
                lighting,
                &corners,
                &screen,
                perspective,
            );
        }
    }
    frame
}

#[allow(clippy::too_many_arguments)]
fn fill(
    frame: &mut Frame,
    model: &Model,
    material: usize,
    camera: &Camera,
    lighting: &Lighting,
    c: &[Cam; 3],
    s: &[[f64; 3]; 3],
    perspective: bool,
) {
    let area =
        (s[1][0] - s[0][0]) * (s[2][1] - s[0][1]) - (s[2][0] - s[0][0]) * (s[1][1] - s[0][1]);
    if area.abs() < 1e-12 || !area.is_finite() {
        return;
    }
    let min_x = s
        .iter()
        .map(|p| p[0])
        .fold(f64::INFINITY, f64::min)
        .floor()
        .max(0.0) as usize;
    let max_x = (s
        .iter()
        .map(|p| p[0])
        .fold(f64::NEG_INFINITY, f64::max)
        .ceil() as isize)
        .min(frame.width as isize - 1);
    let min_y = s
        .iter()
        .map(|p| p[1])
        .fold(f64::INFINITY, f64::min)
        .floor()
        .max(0.0) as usize;
    let max_y = (s
        .iter()
        .map(|p| p[1])
        .fold(f64::NEG_INFINITY, f64::max)
        .ceil() as isize)
        .min(frame.height as isize - 1);
    if max_x < 0 || max_y < 0 {
        return;
    }
    // Perspective-correct weights: interpolate attribute/z and 1/z.
    let inv_z = s.map(|p| if perspective { 1.0 / p[2] } else { 1.0 });
    for y in min_y..=max_y as usize {
        let py = y as f64 + 0.5;
        for x in min_x..=max_x as usize {
            let px = x as f64 + 0.5;
            let w0 = ((s[1][0] - px) * (s[2][1] - py) - (s[2][0] - px) * (s[1][1] - py)) / area;
            let w1 = ((s[2][0] - px) * (s[0][1] - py) - (s[0][0] - px) * (s[2][1] - py)) / area;
            let w2 = 1.0 - w0 - w1;
            if w0 < 0.0 || w1 < 0.0 || w2 < 0.0 {
                continue;
            }
            let (b0, b1, b2) = (w0 * inv_z[0], w1 * inv_z[1], w2 * inv_z[2]);
            let sum = b0 + b1 + b2;
            let (b0, b1, b2) = (b0 / sum, b1 / sum, b2 / sum);
            let depth = (b0 * s[0][2] + b1 * s[1][2] + b2 * s[2][2]) as f32;
            let at = y * frame.width + x;
            if depth >= frame.depth[at] || depth as f64 > camera.far {
                continue;
            }
            let blend = |f: &dyn Fn(&Cam) -> Vec3| -> Vec3 {
                let (a, b, cc) = (f(&c[0]), f(&c[1]), f(&c[2]));
                [0, 1, 2].map(|i| a[i] * b0 + b[i] * b1 + cc[i] * b2)
            };
            let world = blend(&|v| v.world);
            let normal = normalize(blend(&|v| v.normal));
            let uv = [
                c[0].uv[0] * b0 + c[1].uv[0] * b1 + c[2].uv[0] * b2,
                c[0].uv[1] * b0 + c[1].uv[1] * b1 + c[2].uv[1] * b2,
            ];
            let rgb = shade(model, material, camera, lighting, world, normal, uv);
            if let Some(rgb) = rgb {
                frame.depth[at] = depth;
                frame.color[at] = rgb;
            }
        }
    }
}

fn sample(model: &Model, texture: usize, uv: [f64; 2]) -> [f64; 4] {
    let Some(t) = model.textures.get(texture) else {
        return [1.0; 4];
    };
    let wrap = |v: f64, n: u32| ((v - v.floor()) * n as f64).min(n as f64 - 1.0).max(0.0) as usize;
    let texel = t.texels[wrap(uv[1], t.height) * t.width as usize + wrap(uv[0], t.width)];
    texel.map(f64::from)
}

fn shade(
    model: &Model,
    material: usize,
    camera: &Camera,
    lighting: &Lighting,
    p: Vec3,
    n: Vec3,
    uv: [f64; 2],
) -> Option<[f32; 3]> {
    let m = &model.materials[material.min(model.materials.len() - 1)];
    let mut base = m.base_color;
    if let Some(t) = m.texture {
        let texel = sample(model, t, uv);
        base = [0, 1, 2, 3].map(|i| base[i] * texel[i]);
    }
    // Alpha-cut texels (leaves, fences) are holes.
    if base[3] < 0.1 {
        return None;
    }
    let to_eye = normalize(sub(camera.position, p));
    // Both faces are lit: previews must not show holes for one-sided geometry.
    let n = if dot(n, to_eye) < 0.0 {
        [-n[0], -n[1], -n[2]]
    } else {
        n
    };
    let shininess = (2.0 / (m.roughness.clamp(0.05, 1.0).powi(4)) - 2.0).clamp(2.0, 512.0);
    let spec_color = [0, 1, 2].map(|i| 0.04 * (1.0 - m.metallic) + base[i] * m.metallic);
    let diffuse_weight = 1.0 - m.metallic;
    let mut rgb = [0, 1, 2].map(|i| lighting.ambient[i] * base[i]);
    for light in &lighting.lights {
        let (dir, radiance) = match light {
            Light::Directional {
                direction,
                color,
                intensity,
            } => (
                normalize([-direction[0], -direction[1], -direction[2]]),
                color.map(|c| c * intensity),
            ),
            Light::Point {
                position,
                color,
                intensity,
            } => {
                let d = sub(*position, p);
                let d2 = dot(d, d).max(1e-6);
                (normalize(d), color.map(|c| c * intensity / d2))
            }
            Light::Spot {
                position,
                direction,
                color,
                intensity,
                inner_cone,
                outer_cone,
            } => {
                let d = sub(*position, p);
                let d2 = dot(d, d).max(1e-6);
                let l = normalize(d);
                let cos = dot(normalize(*direction), [-l[0], -l[1], -l[2]]);
                let (ci, co) = (inner_cone.cos(), outer_cone.cos());
                let cone = ((cos - co) / (ci - co).max(1e-6)).clamp(0.0, 1.0);
                (l, color.map(|c| c * intensity * cone / d2))
            }
        };
        let lambert = dot(n, dir);
        if lambert <= 0.0 {
            continue;
        }
        let half = normalize([dir[0] + to_eye[0], dir[1] + to_eye[1], dir[2] + to_eye[2]]);
        let spec = dot(n, half).max(0.0).powf(shininess) * (shininess + 8.0)
            / (8.0 * std::f64::consts::PI);
        for i in 0..3 {
            rgb[i] += radiance[i] * lambert * (base[i] * diffuse_weight + spec_color[i] * spec);
        }
    }
    Some(rgb.map(|c| c as f32))
}
