//! The parts of a glTF 2.0 document this app reads, as typed values. Everything else a file
//! holds (extras, extensions, fields from later versions) is kept in the raw JSON and written
//! back unchanged when the asset is packed; these types only read.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Document {
    pub asset: Option<AssetField>,
    pub scene: Option<usize>,
    pub scenes: Vec<Scene>,
    pub nodes: Vec<Node>,
    pub meshes: Vec<Mesh>,
    pub accessors: Vec<Accessor>,
    pub buffer_views: Vec<BufferView>,
    pub buffers: Vec<Buffer>,
    pub materials: Vec<Material>,
    pub textures: Vec<Texture>,
    pub images: Vec<Image>,
    pub samplers: Vec<Value>,
    pub animations: Vec<Animation>,
    pub skins: Vec<Skin>,
    pub cameras: Vec<Value>,
    pub extensions_used: Vec<String>,
    pub extensions_required: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AssetField {
    pub version: String,
    pub min_version: Option<String>,
    pub generator: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Scene {
    pub name: Option<String>,
    pub nodes: Vec<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Node {
    pub name: Option<String>,
    pub children: Vec<usize>,
    pub mesh: Option<usize>,
    pub camera: Option<usize>,
    pub skin: Option<usize>,
    pub matrix: Option<[f64; 16]>,
    pub translation: Option<[f64; 3]>,
    /// A unit quaternion, x y z w.
    pub rotation: Option<[f64; 4]>,
    pub scale: Option<[f64; 3]>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Mesh {
    pub name: Option<String>,
    pub primitives: Vec<Primitive>,
}

#[derive(Debug, Deserialize)]
#[serde(default)]
pub struct Primitive {
    pub attributes: BTreeMap<String, usize>,
    pub indices: Option<usize>,
    pub material: Option<usize>,
    pub mode: u32,
    pub targets: Vec<BTreeMap<String, usize>>,
}

impl Default for Primitive {
    fn default() -> Self {
        Self {
            attributes: BTreeMap::new(),
            indices: None,
            material: None,
            mode: MODE_TRIANGLES,
            targets: Vec::new(),
        }
    }
}

pub const MODE_TRIANGLES: u32 = 4;
pub const MODE_TRIANGLE_STRIP: u32 = 5;
pub const MODE_TRIANGLE_FAN: u32 = 6;

impl Primitive {
    /// Triangles drawn from `elements` vertices or indices.
    pub fn triangles(&self, elements: u64) -> u64 {
        match self.mode {
            MODE_TRIANGLES => elements / 3,
            MODE_TRIANGLE_STRIP | MODE_TRIANGLE_FAN => elements.saturating_sub(2),
            _ => 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ElementType {
    #[serde(rename = "SCALAR")]
    Scalar,
    #[serde(rename = "VEC2")]
    Vec2,
    #[serde(rename = "VEC3")]
    Vec3,
    #[serde(rename = "VEC4")]
    Vec4,
    #[serde(rename = "MAT2")]
    Mat2,
    #[serde(rename = "MAT3")]
    Mat3,
    #[serde(rename = "MAT4")]
    Mat4,
}

impl ElementType {
    pub fn components(self) -> usize {
        match self {
            ElementType::Scalar => 1,
            ElementType::Vec2 => 2,
            ElementType::Vec3 => 3,
            ElementType::Vec4 | ElementType::Mat2 => 4,
            ElementType::Mat3 => 9,
            ElementType::Mat4 => 16,
        }
    }
}

/// An accessor's component type, by its GL enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    I8,
    U8,
    I16,
    U16,
    U32,
    F32,
}

impl Component {
    pub fn from_gl(code: u32) -> Option<Self> {
        Some(match code {
            5120 => Component::I8,
            5121 => Component::U8,
            5122 => Component::I16,
            5123 => Component::U16,
            5125 => Component::U32,
            5126 => Component::F32,
            _ => return None,
        })
    }

    pub fn size(self) -> usize {
        match self {
            Component::I8 | Component::U8 => 1,
            Component::I16 | Component::U16 => 2,
            Component::U32 | Component::F32 => 4,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Accessor {
    pub buffer_view: Option<usize>,
    #[serde(default)]
    pub byte_offset: u64,
    pub component_type: u32,
    #[serde(default)]
    pub normalized: bool,
    pub count: u64,
    #[serde(rename = "type")]
    pub element: ElementType,
    pub min: Option<Vec<f64>>,
    pub max: Option<Vec<f64>>,
    pub sparse: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BufferView {
    pub buffer: usize,
    #[serde(default)]
    pub byte_offset: u64,
    pub byte_length: u64,
    pub byte_stride: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Buffer {
    pub uri: Option<String>,
    pub byte_length: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Image {
    pub name: Option<String>,
    pub uri: Option<String>,
    pub mime_type: Option<String>,
    pub buffer_view: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Texture {
    pub source: Option<usize>,
    pub sampler: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Material {
    pub name: Option<String>,
    pub pbr_metallic_roughness: Option<Pbr>,
    pub normal_texture: Option<TextureRef>,
    pub occlusion_texture: Option<TextureRef>,
    pub emissive_texture: Option<TextureRef>,
    pub emissive_factor: Option<[f64; 3]>,
    pub double_sided: bool,
}

impl Material {
    pub fn texture_refs(&self) -> impl Iterator<Item = (&'static str, &TextureRef)> {
        let pbr = self.pbr_metallic_roughness.as_ref();
        [
            (
                "pbrMetallicRoughness/baseColorTexture",
                pbr.and_then(|p| p.base_color_texture.as_ref()),
            ),
            (
                "pbrMetallicRoughness/metallicRoughnessTexture",
                pbr.and_then(|p| p.metallic_roughness_texture.as_ref()),
            ),
            ("normalTexture", self.normal_texture.as_ref()),
            ("occlusionTexture", self.occlusion_texture.as_ref()),
            ("emissiveTexture", self.emissive_texture.as_ref()),
        ]
        .into_iter()
        .filter_map(|(at, r)| r.map(|r| (at, r)))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Pbr {
    pub base_color_factor: Option<[f64; 4]>,
    pub base_color_texture: Option<TextureRef>,
    pub metallic_factor: Option<f64>,
    pub roughness_factor: Option<f64>,
    pub metallic_roughness_texture: Option<TextureRef>,
}

#[derive(Debug, Deserialize)]
pub struct TextureRef {
    pub index: usize,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Animation {
    pub name: Option<String>,
    pub channels: Vec<Channel>,
    pub samplers: Vec<AnimationSampler>,
}

#[derive(Debug, Deserialize)]
pub struct Channel {
    pub sampler: usize,
}

#[derive(Debug, Deserialize)]
pub struct AnimationSampler {
    pub input: usize,
    pub output: usize,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Skin {
    pub name: Option<String>,
    pub joints: Vec<usize>,
}
