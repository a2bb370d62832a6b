//! 3D assets on the wire: a stored model with its metadata and warnings, and the problems that
//! refused an upload. The metadata has the engine's shape field for field (the server converts
//! through serde; a test holds the two together).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AssetDto {
    pub id: i64,
    /// The gallery product that holds the GLB and its preview.
    pub product_id: i64,
    pub project_id: i64,
    pub name: String,
    pub info: AssetInfo,
    /// Problems that did not stop the upload.
    pub warnings: Vec<AssetIssue>,
    /// The stored GLB's size in bytes.
    pub bytes: i64,
    /// The GLB (content-addressed, cached forever).
    pub model_url: String,
    /// The rendered preview, 256 and 768 pixels.
    pub thumb_url: String,
    pub preview_url: String,
    pub placeholder: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The asset a gallery product holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AssetLinkDto {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum IssueSeverity {
    Error,
    Warning,
}

/// One problem in a model: where (a JSON pointer into the glTF) and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AssetIssue {
    pub severity: IssueSeverity,
    /// Khronos's glTF validator's code where it has one (`ACCESSOR_INDEX_OOB`, ...).
    pub code: String,
    pub pointer: String,
    pub message: String,
}

/// What was measured in a model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AssetInfo {
    /// `glb` or `gltf`: how it was uploaded (it is stored as one GLB either way).
    pub container: String,
    pub generator: Option<String>,
    /// Bytes uploaded (unpacked).
    pub file_bytes: u64,
    pub meshes: Vec<MeshInfo>,
    /// Every mesh once (as Khronos's validator counts).
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
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Counts {
    pub vertices: u64,
    pub triangles: u64,
    pub draw_calls: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MeshInfo {
    pub name: Option<String>,
    pub primitives: u64,
    pub vertices: u64,
    pub triangles: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SceneInfo {
    pub index: usize,
    pub name: Option<String>,
    pub nodes: u64,
    /// Nodes that draw a mesh.
    pub instances: u64,
    pub counts: Counts,
    /// World space (metres by glTF's convention); none when the scene draws nothing.
    pub bounds: Option<Bounds>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Bounds {
    pub min: [f64; 3],
    pub max: [f64; 3],
}

impl Bounds {
    pub fn size(&self) -> [f64; 3] {
        [0, 1, 2].map(|i| self.max[i] - self.min[i])
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GpuEstimate {
    pub textures: u64,
    /// Vertex and index buffers the meshes use.
    pub geometry: u64,
    pub total: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AnimationInfo {
    pub name: Option<String>,
    pub channels: usize,
    pub seconds: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SkinInfo {
    pub name: Option<String>,
    pub joints: usize,
}

/// Bytes as people read them: 1.4 MB, 820 KB.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

#[cfg(feature = "ssr")]
impl From<factory::assets::store::Asset> for AssetDto {
    fn from(a: factory::assets::store::Asset) -> Self {
        let (url, thumb_url, preview_url) =
            super::products::media_urls(a.project_id, &a.content_hash, "glb");
        Self {
            id: a.id,
            product_id: a.product_id,
            project_id: a.project_id,
            name: a.name,
            info: same_shape(&a.info),
            warnings: same_shape(&a.warnings),
            bytes: a.bytes,
            model_url: url,
            thumb_url,
            preview_url,
            placeholder: a
                .thumbhash
                .as_deref()
                .and_then(factory::media::placeholder_color),
            created_at: a.created_at,
        }
    }
}

/// The engine's value as the wire's: the same fields and names, so serde carries it over.
#[cfg(feature = "ssr")]
pub fn same_shape<T: Serialize, U: serde::de::DeserializeOwned + Default>(value: &T) -> U {
    serde_json::to_value(value)
        .and_then(serde_json::from_value)
        .unwrap_or_default()
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn the_engine_metadata_and_issues_cross_the_wire_whole() {
        use factory::assets::gltf::{self, sample};
        let glb = sample::glb(&sample::Sample {
            instances: 2,
            texture: Some(sample::checker_png(16)),
            ..Default::default()
        });
        let accepted = gltf::read(vec![("m.glb".into(), glb)]).unwrap();
        let wire: AssetInfo = same_shape(&accepted.info);
        assert_eq!(
            serde_json::to_value(&wire).unwrap(),
            serde_json::to_value(&accepted.info).unwrap()
        );
        let report = gltf::Report {
            issues: vec![gltf::Issue {
                severity: gltf::Severity::Warning,
                code: "IMAGE_MIME_TYPE_INVALID".into(),
                pointer: "/images/0/mimeType".into(),
                message: "declares image/jpeg but holds image/png".into(),
            }],
        };
        let issues: Vec<AssetIssue> = same_shape(&report.issues);
        assert_eq!(
            serde_json::to_value(&issues).unwrap(),
            serde_json::to_value(&report.issues).unwrap()
        );
    }

    #[test]
    fn bytes_read_like_a_file_manager() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1_400_000), "1.4 MB");
        assert_eq!(human_bytes(820_000), "820 KB");
    }
}
