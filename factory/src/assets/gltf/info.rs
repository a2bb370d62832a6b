//! What a person wants to know about a model before using it: how heavy it is (vertices,
//! triangles, draw calls, per mesh and per scene counting instances, an estimate of GPU memory),
//! how big it is (the world-space bounding box of the default scene), and what it holds
//! (materials, textures with their sizes, animations, skins).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::check::Checked;
use super::container::{Container, Loaded};
use super::doc::{Document, Node};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Info {
    /// `glb` or `gltf`: how it was uploaded (it is stored as one GLB either way).
    pub container: String,
    pub generator: Option<String>,
    /// Bytes uploaded (unpacked).
    pub file_bytes: u64,
    pub meshes: Vec<MeshInfo>,
    /// Every mesh once, as Khronos's validator counts.
    pub totals: Counts,
    /// The default scene as drawn: a mesh used by three nodes counts three times.
    pub scene: Option<SceneInfo>,
    pub materials: Vec<MaterialInfo>,
    pub textures: Vec<TextureInfo>,
    pub gpu: GpuEstimate,
    pub animations: Vec<AnimationInfo>,
    pub skins: Vec<SkinInfo>,
    pub cameras: usize,
    pub extensions_used: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub vertices: u64,
    pub triangles: u64,
    pub draw_calls: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MeshInfo {
    pub name: Option<String>,
    pub primitives: u64,
    pub vertices: u64,
    pub triangles: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SceneInfo {
    pub index: usize,
    pub name: Option<String>,
    pub nodes: u64,
    /// Nodes that draw a mesh.
    pub instances: u64,
    pub counts: Counts,
    /// World space, metres by glTF's convention; `None` when the scene draws nothing.
    pub bounds: Option<Bounds>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Bounds {
    pub min: [f64; 3],
    pub max: [f64; 3],
}

impl Bounds {
    pub fn size(&self) -> [f64; 3] {
        [0, 1, 2].map(|i| self.max[i] - self.min[i])
    }

    pub fn center(&self) -> [f64; 3] {
        [0, 1, 2].map(|i| (self.max[i] + self.min[i]) / 2.0)
    }

    /// Grows `this` (or starts it) to hold point `p`.
    pub fn include(this: &mut Option<Bounds>, p: [f64; 3]) {
        let b = this.get_or_insert(Bounds { min: p, max: p });
        for (i, v) in p.into_iter().enumerate() {
            b.min[i] = b.min[i].min(v);
            b.max[i] = b.max[i].max(v);
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MaterialInfo {
    pub name: Option<String>,
    /// Linear RGBA.
    pub base_color: [f64; 4],
    pub base_color_texture: Option<usize>,
    pub metallic: f64,
    pub roughness: f64,
    pub double_sided: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TextureInfo {
    pub image: usize,
    pub name: Option<String>,
    pub mime: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    /// Uncompressed RGBA8 with a full mip chain.
    pub gpu_bytes: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpuEstimate {
    pub textures: u64,
    /// Vertex and index buffers the meshes use.
    pub geometry: u64,
    pub total: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AnimationInfo {
    pub name: Option<String>,
    pub channels: usize,
    pub seconds: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SkinInfo {
    pub name: Option<String>,
    pub joints: usize,
}

/// A 4×4 matrix, column-major as glTF writes it.
pub type Mat4 = [f64; 16];

pub const IDENTITY: Mat4 = [
    1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0,
];

pub fn mul(a: &Mat4, b: &Mat4) -> Mat4 {
    let mut out = [0.0; 16];
    for col in 0..4 {
        for row in 0..4 {
            out[col * 4 + row] = (0..4).map(|k| a[k * 4 + row] * b[col * 4 + k]).sum();
        }
    }
    out
}

pub fn transform_point(m: &Mat4, p: [f64; 3]) -> [f64; 3] {
    [0, 1, 2].map(|r| m[r] * p[0] + m[4 + r] * p[1] + m[8 + r] * p[2] + m[12 + r])
}

/// A node's own transform: its matrix, or translation × rotation × scale.
pub fn local_matrix(node: &Node) -> Mat4 {
    if let Some(m) = node.matrix {
        return m;
    }
    let [tx, ty, tz] = node.translation.unwrap_or([0.0; 3]);
    let [x, y, z, w] = node.rotation.unwrap_or([0.0, 0.0, 0.0, 1.0]);
    let [sx, sy, sz] = node.scale.unwrap_or([1.0; 3]);
    let r = [
        1.0 - 2.0 * (y * y + z * z),
        2.0 * (x * y + z * w),
        2.0 * (x * z - y * w),
        2.0 * (x * y - z * w),
        1.0 - 2.0 * (x * x + z * z),
        2.0 * (y * z + x * w),
        2.0 * (x * z + y * w),
        2.0 * (y * z - x * w),
        1.0 - 2.0 * (x * x + y * y),
    ];
    [
        r[0] * sx,
        r[1] * sx,
        r[2] * sx,
        0.0,
        r[3] * sy,
        r[4] * sy,
        r[5] * sy,
        0.0,
        r[6] * sz,
        r[7] * sz,
        r[8] * sz,
        0.0,
        tx,
        ty,
        tz,
        1.0,
    ]
}

/// The default scene's index: `scene`, or the first when none is named.
pub fn default_scene(doc: &Document) -> Option<usize> {
    doc.scene.or((!doc.scenes.is_empty()).then_some(0))
}

/// Every node the scene draws with its world matrix, parents before children. Checked
/// documents are trees, so this ends.
pub fn walk(doc: &Document, scene: usize) -> Vec<(usize, Mat4)> {
    let mut out = Vec::new();
    let mut stack: Vec<(usize, Mat4)> = doc.scenes[scene]
        .nodes
        .iter()
        .rev()
        .map(|&n| (n, IDENTITY))
        .collect();
    while let Some((n, parent)) = stack.pop() {
        let world = mul(&parent, &local_matrix(&doc.nodes[n]));
        out.push((n, world));
        stack.extend(doc.nodes[n].children.iter().rev().map(|&c| (c, world)));
    }
    out
}

/// The metadata of a document that passed the checks.
pub fn info(loaded: &Loaded, checked: &Checked<'_>) -> Info {
    let doc = &loaded.doc;
    let meshes: Vec<MeshInfo> = doc
        .meshes
        .iter()
        .map(|mesh| {
            let mut m = MeshInfo {
                name: mesh.name.clone(),
                primitives: mesh.primitives.len() as u64,
                ..MeshInfo::default()
            };
            for p in &mesh.primitives {
                let vertices = p
                    .attributes
                    .get("POSITION")
                    .map_or(0, |&a| doc.accessors[a].count);
                let elements = p.indices.map_or(vertices, |i| doc.accessors[i].count);
                m.vertices += vertices;
                m.triangles += p.triangles(elements);
            }
            m
        })
        .collect();
    let totals = meshes.iter().fold(Counts::default(), |c, m| Counts {
        vertices: c.vertices + m.vertices,
        triangles: c.triangles + m.triangles,
        draw_calls: c.draw_calls + m.primitives,
    });
    let scene = default_scene(doc).map(|index| scene_info(loaded, checked, index, &meshes));
    let materials = doc
        .materials
        .iter()
        .map(|m| {
            let pbr = m.pbr_metallic_roughness.as_ref();
            MaterialInfo {
                name: m.name.clone(),
                base_color: pbr.and_then(|p| p.base_color_factor).unwrap_or([1.0; 4]),
                base_color_texture: pbr
                    .and_then(|p| p.base_color_texture.as_ref())
                    .map(|t| t.index),
                metallic: pbr.and_then(|p| p.metallic_factor).unwrap_or(1.0),
                roughness: pbr.and_then(|p| p.roughness_factor).unwrap_or(1.0),
                double_sided: m.double_sided,
            }
        })
        .collect();
    let textures: Vec<TextureInfo> = checked
        .images
        .iter()
        .enumerate()
        .filter_map(|(i, facts)| {
            let f = facts.as_ref()?;
            Some(TextureInfo {
                image: i,
                name: doc.images[i].name.clone(),
                mime: f.mime.to_string(),
                width: f.width,
                height: f.height,
                bytes: f.bytes,
                gpu_bytes: f.width as u64 * f.height as u64 * 4 * 4 / 3,
            })
        })
        .collect();
    let mut views = BTreeSet::new();
    for p in doc.meshes.iter().flat_map(|m| &m.primitives) {
        for &a in p.attributes.values().chain(p.indices.iter()) {
            views.extend(doc.accessors[a].buffer_view);
        }
    }
    let geometry = views.iter().map(|&v| doc.buffer_views[v].byte_length).sum();
    let texture_bytes = textures.iter().map(|t| t.gpu_bytes).sum();
    let animations = doc
        .animations
        .iter()
        .map(|a| AnimationInfo {
            name: a.name.clone(),
            channels: a.channels.len(),
            seconds: a
                .samplers
                .iter()
                .filter_map(|s| {
                    checked
                        .summaries
                        .get(s.input)?
                        .as_ref()?
                        .max
                        .first()
                        .copied()
                })
                .fold(0.0, f64::max),
        })
        .collect();
    Info {
        container: match loaded.container {
            Container::Glb => "glb",
            Container::Gltf => "gltf",
        }
        .to_string(),
        generator: doc.asset.as_ref().and_then(|a| a.generator.clone()),
        file_bytes: loaded.file_bytes,
        meshes,
        totals,
        scene,
        materials,
        textures,
        gpu: GpuEstimate {
            textures: texture_bytes,
            geometry,
            total: texture_bytes + geometry,
        },
        animations,
        skins: doc
            .skins
            .iter()
            .map(|s| SkinInfo {
                name: s.name.clone(),
                joints: s.joints.len(),
            })
            .collect(),
        cameras: doc.cameras.len(),
        extensions_used: doc.extensions_used.clone(),
    }
}

fn scene_info(
    loaded: &Loaded,
    checked: &Checked<'_>,
    index: usize,
    meshes: &[MeshInfo],
) -> SceneInfo {
    let doc = &loaded.doc;
    let nodes = walk(doc, index);
    let mut info = SceneInfo {
        index,
        name: doc.scenes[index].name.clone(),
        nodes: nodes.len() as u64,
        ..SceneInfo::default()
    };
    for (n, world) in &nodes {
        let Some(m) = doc.nodes[*n].mesh else {
            continue;
        };
        info.instances += 1;
        info.counts.vertices += meshes[m].vertices;
        info.counts.triangles += meshes[m].triangles;
        info.counts.draw_calls += meshes[m].primitives;
        // The corners of each primitive's true bounds, moved into the world.
        for p in &doc.meshes[m].primitives {
            let Some(summary) = p
                .attributes
                .get("POSITION")
                .and_then(|&a| checked.summaries.get(a)?.as_ref())
            else {
                continue;
            };
            if summary.min.len() < 3 || !summary.min[0].is_finite() {
                continue;
            }
            for corner in 0..8 {
                let pick = |axis: usize| {
                    if corner & (1 << axis) == 0 {
                        summary.min[axis]
                    } else {
                        summary.max[axis]
                    }
                };
                Bounds::include(
                    &mut info.bounds,
                    transform_point(world, [pick(0), pick(1), pick(2)]),
                );
            }
        }
    }
    info
}
