//! A glTF's default scene as world-space triangles and materials, ready to rasterise: every
//! node's meshes moved by its world matrix, strips and fans unrolled, missing normals made flat,
//! base colour textures decoded once into linear light.

use crate::assets::gltf::check::{check, Checked};
use crate::assets::gltf::container::{load, Loaded};
use crate::assets::gltf::doc::{MODE_TRIANGLES, MODE_TRIANGLE_FAN, MODE_TRIANGLE_STRIP};
use crate::assets::gltf::info::{default_scene, transform_point, walk, Bounds, Mat4};
use crate::media::ImageFormat;

pub type Vec3 = [f64; 3];

#[derive(Debug, Clone, Copy)]
pub struct Vertex {
    pub position: Vec3,
    pub normal: Vec3,
    pub uv: [f64; 2],
}

#[derive(Debug, Clone, Copy)]
pub struct Triangle {
    pub v: [Vertex; 3],
    pub material: usize,
}

/// A texture in linear light, RGBA.
#[derive(Debug, Clone)]
pub struct Texture {
    pub width: u32,
    pub height: u32,
    pub texels: Vec<[f32; 4]>,
}

#[derive(Debug, Clone)]
pub struct Material {
    /// Linear RGBA.
    pub base_color: [f64; 4],
    pub texture: Option<usize>,
    pub roughness: f64,
    pub metallic: f64,
}

impl Default for Material {
    fn default() -> Self {
        Self {
            base_color: [0.8, 0.8, 0.8, 1.0],
            texture: None,
            roughness: 0.8,
            metallic: 0.0,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Model {
    pub triangles: Vec<Triangle>,
    pub materials: Vec<Material>,
    pub textures: Vec<Texture>,
    pub bounds: Option<Bounds>,
}

pub fn sub(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

pub fn cross(a: Vec3, b: Vec3) -> Vec3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

pub fn normalize(v: Vec3) -> Vec3 {
    let len = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    if len > 0.0 {
        [v[0] / len, v[1] / len, v[2] / len]
    } else {
        [0.0, 1.0, 0.0]
    }
}

/// Normals move by the inverse transpose; for rotation and scale, the cofactor matrix.
fn normal_matrix(m: &Mat4) -> [Vec3; 3] {
    let c0 = [m[0], m[1], m[2]];
    let c1 = [m[4], m[5], m[6]];
    let c2 = [m[8], m[9], m[10]];
    [cross(c1, c2), cross(c2, c0), cross(c0, c1)]
}

fn transform_normal(n: &[Vec3; 3], v: Vec3) -> Vec3 {
    normalize([0, 1, 2].map(|r| n[0][r] * v[0] + n[1][r] * v[1] + n[2][r] * v[2]))
}

impl Model {
    /// The model in a GLB (or any upload [`load`] reads); `None` when it does not pass the checks.
    pub fn from_glb(bytes: &[u8]) -> Result<Model, String> {
        let loaded = load(vec![("model.glb".into(), bytes.to_vec())]).map_err(|e| e.to_string())?;
        let checked = check(&loaded);
        if !checked.report.is_valid() {
            return Err(crate::assets::gltf::Refused::Invalid(checked.report).to_string());
        }
        Ok(Self::build(&loaded, &checked))
    }

    pub fn build(loaded: &Loaded, checked: &Checked<'_>) -> Model {
        let doc = &loaded.doc;
        let mut model = Model {
            materials: doc
                .materials
                .iter()
                .map(|m| {
                    let pbr = m.pbr_metallic_roughness.as_ref();
                    Material {
                        base_color: pbr.and_then(|p| p.base_color_factor).unwrap_or([1.0; 4]),
                        texture: pbr
                            .and_then(|p| p.base_color_texture.as_ref())
                            .and_then(|t| doc.textures[t.index].source),
                        roughness: pbr.and_then(|p| p.roughness_factor).unwrap_or(1.0),
                        metallic: pbr.and_then(|p| p.metallic_factor).unwrap_or(1.0),
                    }
                })
                .collect(),
            ..Model::default()
        };
        let default_material = model.materials.len();
        model.materials.push(Material::default());
        model.textures = (0..doc.images.len())
            .map(|i| texture(loaded, checked, i))
            .collect();
        let Some(scene) = default_scene(doc) else {
            return model;
        };
        for (node, world) in walk(doc, scene) {
            let Some(mesh) = doc.nodes[node].mesh else {
                continue;
            };
            let normals = normal_matrix(&world);
            for p in &doc.meshes[mesh].primitives {
                let Some(positions) = p
                    .attributes
                    .get("POSITION")
                    .and_then(|&a| checked.elements(doc, a))
                else {
                    continue;
                };
                let normal_data = p
                    .attributes
                    .get("NORMAL")
                    .and_then(|&a| checked.elements(doc, a));
                let uv_data = p
                    .attributes
                    .get("TEXCOORD_0")
                    .and_then(|&a| checked.elements(doc, a));
                let vertex = |i: usize| {
                    let [x, y, z, _] = positions.vec(i);
                    Vertex {
                        position: transform_point(&world, [x, y, z]),
                        normal: normal_data.map_or([0.0; 3], |n| {
                            let [x, y, z, _] = n.vec(i);
                            transform_normal(&normals, [x, y, z])
                        }),
                        uv: uv_data.map_or([0.0; 2], |t| {
                            let [u, v, _, _] = t.vec(i);
                            [u, v]
                        }),
                    }
                };
                let count = match p.indices {
                    Some(i) => doc.accessors[i].count as usize,
                    None => positions.count,
                };
                let indices = p.indices.and_then(|i| checked.elements(doc, i));
                let index = |k: usize| indices.map_or(k, |e| e.index(k) as usize);
                let corners: Box<dyn Iterator<Item = [usize; 3]>> = match p.mode {
                    MODE_TRIANGLES => {
                        Box::new((0..count / 3).map(|t| [3 * t, 3 * t + 1, 3 * t + 2]))
                    }
                    MODE_TRIANGLE_STRIP => Box::new((0..count.saturating_sub(2)).map(|t| {
                        if t % 2 == 0 {
                            [t, t + 1, t + 2]
                        } else {
                            [t + 1, t, t + 2]
                        }
                    })),
                    MODE_TRIANGLE_FAN => {
                        Box::new((1..count.saturating_sub(1)).map(|t| [0, t, t + 1]))
                    }
                    _ => Box::new(std::iter::empty()),
                };
                let material = p.material.unwrap_or(default_material);
                for k in corners {
                    let mut v = k.map(|k| vertex(index(k)));
                    if normal_data.is_none() {
                        let flat = normalize(cross(
                            sub(v[1].position, v[0].position),
                            sub(v[2].position, v[0].position),
                        ));
                        for vertex in &mut v {
                            vertex.normal = flat;
                        }
                    }
                    for vertex in &v {
                        Bounds::include(&mut model.bounds, vertex.position);
                    }
                    model.triangles.push(Triangle { v, material });
                }
            }
        }
        model
    }
}

fn texture(loaded: &Loaded, checked: &Checked<'_>, image: usize) -> Texture {
    let blank = Texture {
        width: 1,
        height: 1,
        texels: vec![[1.0; 4]],
    };
    let doc = &loaded.doc;
    let bytes: Option<Vec<u8>> = match (&doc.images[image].uri, doc.images[image].buffer_view) {
        (Some(uri), _) => crate::assets::gltf::container::resolve(uri, &loaded.files)
            .ok()
            .map(|c| c.into_owned()),
        (None, Some(v)) => {
            let view = &doc.buffer_views[v];
            checked.buffers.get(view.buffer).and_then(|b| {
                b.get(view.byte_offset as usize..(view.byte_offset + view.byte_length) as usize)
                    .map(<[u8]>::to_vec)
            })
        }
        _ => None,
    };
    let Some(rgba) = bytes.and_then(|b| {
        let format = ImageFormat::sniff(&b)?;
        crate::media::decode_image(&b, format).ok()
    }) else {
        return blank;
    };
    // Large textures are sampled at most at 1024 texels a side: enough for any preview.
    let rgba = if rgba.width() > 1024 || rgba.height() > 1024 {
        rgba.thumbnail(1024, 1024)
    } else {
        rgba
    }
    .to_rgba8();
    let lut: Vec<f32> = (0..256)
        .map(|c| crate::media::srgb::decode(c as f32 / 255.0))
        .collect();
    Texture {
        width: rgba.width(),
        height: rgba.height(),
        texels: rgba
            .pixels()
            .map(|p| {
                [
                    lut[p[0] as usize],
                    lut[p[1] as usize],
                    lut[p[2] as usize],
                    p[3] as f32 / 255.0,
                ]
            })
            .collect(),
    }
}
