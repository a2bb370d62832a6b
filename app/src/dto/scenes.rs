//! Scenes and render jobs on the wire. The scene graph has the engine's shape field for field
//! (`factory::scenes`; the server converts through serde and a test holds the two together):
//! what the API takes is what the scene form edits.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::JobState;

pub type Vec3 = [f64; 3];

/// A scene as written and read: models placed with transforms, lights and cameras, as named
/// nodes whose parents are other nodes' names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SceneGraph {
    pub name: String,
    /// Light from every direction, linear RGB from 0 to 1.
    #[serde(default = "default_environment")]
    #[cfg_attr(feature = "ssr", schema(value_type = [f64]))]
    pub environment: Vec3,
    #[serde(default)]
    pub nodes: Vec<SceneNode>,
}

fn default_environment() -> Vec3 {
    [0.05, 0.05, 0.05]
}

/// One node: `kind` says which.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SceneNode {
    Model(ModelNode),
    Light(LightNode),
    Camera(CameraNode),
    /// Only a transform: moves its children together.
    Group(GroupNode),
}

/// Where a node sits in its parent's frame: metres, Y up; rotation in degrees about X, then
/// Y, then Z.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Transform {
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = [f64]))]
    pub translation: Vec3,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = [f64]))]
    pub rotation: Vec3,
    #[serde(default = "ones")]
    #[cfg_attr(feature = "ssr", schema(value_type = [f64]))]
    pub scale: Vec3,
}

fn ones() -> Vec3 {
    [1.0; 3]
}

impl Default for Transform {
    fn default() -> Self {
        Transform {
            translation: [0.0; 3],
            rotation: [0.0; 3],
            scale: [1.0; 3],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ModelNode {
    pub name: String,
    /// Another node's name; the scene's root when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// A 3D asset of the same project.
    pub asset_id: i64,
    #[serde(default)]
    pub transform: Transform,
    /// Replaces these factors in every material of the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub material: Option<MaterialOverride>,
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MaterialOverride {
    /// Linear RGBA from 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Vec<f64>>))]
    pub base_color: Option<[f64; 4]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metallic: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roughness: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LightType {
    Directional,
    Point,
    Spot,
}

impl LightType {
    pub const ALL: [LightType; 3] = [LightType::Directional, LightType::Point, LightType::Spot];

    pub fn as_str(self) -> &'static str {
        match self {
            LightType::Directional => "directional",
            LightType::Point => "point",
            LightType::Spot => "spot",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LightNode {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    pub light: LightType,
    /// Linear RGB from 0 to 1.
    #[serde(default = "ones")]
    #[cfg_attr(feature = "ssr", schema(value_type = [f64]))]
    pub color: Vec3,
    /// Blender's units: W/m² for a directional light (3 to 5 is daylight), W for a point or
    /// spot light (hundreds at a few metres).
    pub strength: f64,
    #[cfg_attr(feature = "ssr", schema(value_type = [f64]))]
    pub position: Vec3,
    /// Where a directional or spot light points.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = [f64]))]
    pub target: Vec3,
    /// A spot light's cones in degrees from its axis.
    #[serde(default = "inner_cone")]
    pub inner_cone: f64,
    #[serde(default = "outer_cone")]
    pub outer_cone: f64,
}

fn inner_cone() -> f64 {
    20.0
}
fn outer_cone() -> f64 {
    30.0
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum CameraProjection {
    /// `fov`: the vertical field of view in degrees.
    Perspective { fov: f64 },
    /// `height`: metres shown top to bottom.
    Orthographic { height: f64 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CameraNode {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    pub projection: CameraProjection,
    #[cfg_attr(feature = "ssr", schema(value_type = [f64]))]
    pub position: Vec3,
    #[cfg_attr(feature = "ssr", schema(value_type = [f64]))]
    pub target: Vec3,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GroupNode {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default)]
    pub transform: Transform,
}

impl SceneNode {
    pub fn name(&self) -> &str {
        match self {
            SceneNode::Model(n) => &n.name,
            SceneNode::Light(n) => &n.name,
            SceneNode::Camera(n) => &n.name,
            SceneNode::Group(n) => &n.name,
        }
    }

    pub fn kind_label(&self) -> &'static str {
        match self {
            SceneNode::Model(_) => "Model",
            SceneNode::Light(_) => "Light",
            SceneNode::Camera(_) => "Camera",
            SceneNode::Group(_) => "Group",
        }
    }
}

/// A stored scene.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SceneDto {
    pub id: i64,
    pub project_id: i64,
    /// Send it back with a change: a save based on an older revision is refused.
    pub revision: i32,
    pub scene: SceneGraph,
    /// The scene as one GLB (models, lights, cameras).
    pub export_url: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The scene a render was drawn from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SceneLinkDto {
    pub id: i64,
    pub name: String,
}

/// A scene in a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SceneSummaryDto {
    pub id: i64,
    pub name: String,
    pub nodes: i64,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum RenderEngine {
    Builtin,
    Blender,
}

impl RenderEngine {
    pub fn as_str(self) -> &'static str {
        match self {
            RenderEngine::Builtin => "builtin",
            RenderEngine::Blender => "blender",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum RenderFormat {
    Png,
    Jpeg,
    Exr,
}

/// An engine, whether it can render here, and if not what to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RenderEngineDto {
    pub engine: RenderEngine,
    pub name: String,
    pub available: bool,
    /// What it is (Blender's version), or how to install it.
    pub detail: String,
    pub formats: Vec<RenderFormat>,
    pub default_samples: u32,
    pub max_samples: u32,
}

/// A render to queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RenderOrderDto {
    pub scene_id: i64,
    /// The camera node's name; the scene's first camera when left out.
    #[serde(default)]
    pub camera: Option<String>,
    #[serde(default = "default_engine")]
    pub engine: RenderEngine,
    /// 16 to 4096 pixels.
    #[serde(default = "default_side")]
    pub width: u32,
    #[serde(default = "default_side")]
    pub height: u32,
    #[serde(default = "default_format")]
    pub format: RenderFormat,
    /// The engine's samples: a grid per pixel side for the built-in engine (1 to 4), paths per
    /// pixel for Blender; the engine's default when left out.
    #[serde(default)]
    pub samples: Option<u32>,
}

fn default_engine() -> RenderEngine {
    RenderEngine::Builtin
}
fn default_side() -> u32 {
    512
}
fn default_format() -> RenderFormat {
    RenderFormat::Png
}

/// One picture a render made: a gallery product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RenderOutputDto {
    pub product_id: i64,
    pub url: String,
    pub thumb_url: String,
    pub mime: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
}

/// A render job: its state in the queue and, once done, its pictures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RenderJobDto {
    pub id: i64,
    pub scene_id: i64,
    /// The scene's revision the job draws (it was copied when queued).
    pub scene_revision: i32,
    pub camera: String,
    pub engine: RenderEngine,
    pub state: JobState,
    /// From 0 to 1, when the engine says.
    pub progress: Option<f32>,
    /// What the engine is doing ("Cycles: sample 12 of 32, 00:03.10 left").
    pub status: Option<String>,
    pub error: Option<String>,
    pub attempts: i32,
    pub outputs: Vec<RenderOutputDto>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(feature = "ssr")]
mod convert {
    use super::*;
    use factory::scenes::store::{Scene, Summary};
    use factory::scenes::SceneDoc;

    /// The two graphs have one JSON shape (held by the test below).
    fn same<T: Serialize, U: serde::de::DeserializeOwned>(value: &T) -> U {
        serde_json::to_value(value)
            .and_then(serde_json::from_value)
            .expect("the wire graph and the engine's have one shape")
    }

    impl From<&SceneDoc> for SceneGraph {
        fn from(doc: &SceneDoc) -> Self {
            same(doc)
        }
    }

    impl From<&SceneGraph> for SceneDoc {
        fn from(graph: &SceneGraph) -> Self {
            same(graph)
        }
    }

    impl From<Scene> for SceneDto {
        fn from(s: Scene) -> Self {
            SceneDto {
                id: s.id,
                project_id: s.project_id,
                revision: s.revision,
                scene: (&s.doc).into(),
                export_url: format!("/api/v1/scenes/{}/export.glb", s.id),
                created_at: s.created_at,
                updated_at: s.updated_at,
            }
        }
    }

    impl From<Summary> for SceneSummaryDto {
        fn from(s: Summary) -> Self {
            SceneSummaryDto {
                id: s.id,
                name: s.name,
                nodes: s.nodes,
                updated_at: s.updated_at,
            }
        }
    }

    impl From<factory::render::engines::Engine> for RenderEngine {
        fn from(e: factory::render::engines::Engine) -> Self {
            match e {
                factory::render::engines::Engine::Builtin => RenderEngine::Builtin,
                factory::render::engines::Engine::Blender => RenderEngine::Blender,
            }
        }
    }

    impl From<RenderEngine> for factory::render::engines::Engine {
        fn from(e: RenderEngine) -> Self {
            match e {
                RenderEngine::Builtin => factory::render::engines::Engine::Builtin,
                RenderEngine::Blender => factory::render::engines::Engine::Blender,
            }
        }
    }

    impl From<RenderFormat> for factory::render::jobs::OutputFormat {
        fn from(f: RenderFormat) -> Self {
            match f {
                RenderFormat::Png => factory::render::jobs::OutputFormat::Png,
                RenderFormat::Jpeg => factory::render::jobs::OutputFormat::Jpeg,
                RenderFormat::Exr => factory::render::jobs::OutputFormat::Exr,
            }
        }
    }

    impl From<factory::render::jobs::OutputFormat> for RenderFormat {
        fn from(f: factory::render::jobs::OutputFormat) -> Self {
            match f {
                factory::render::jobs::OutputFormat::Png => RenderFormat::Png,
                factory::render::jobs::OutputFormat::Jpeg => RenderFormat::Jpeg,
                factory::render::jobs::OutputFormat::Exr => RenderFormat::Exr,
            }
        }
    }

    impl From<&RenderOrderDto> for factory::render::jobs::RenderOrder {
        fn from(o: &RenderOrderDto) -> Self {
            factory::render::jobs::RenderOrder {
                scene_id: o.scene_id,
                camera: o.camera.clone(),
                engine: o.engine.into(),
                width: o.width,
                height: o.height,
                format: o.format.into(),
                samples: o.samples,
            }
        }
    }

    impl From<factory::render::engines::EngineStatus> for RenderEngineDto {
        fn from(s: factory::render::engines::EngineStatus) -> Self {
            RenderEngineDto {
                engine: s.engine.into(),
                name: s.name,
                available: s.available,
                detail: s.detail,
                formats: s.formats.into_iter().map(Into::into).collect(),
                default_samples: s.default_samples,
                max_samples: s.max_samples,
            }
        }
    }

    impl From<factory::render::jobs::RenderJob> for RenderJobDto {
        fn from(r: factory::render::jobs::RenderJob) -> Self {
            let job = r.job;
            RenderJobDto {
                id: job.id,
                scene_id: r.scene_id,
                scene_revision: r.scene_revision,
                camera: r.camera,
                engine: r.engine.into(),
                state: job.state().into(),
                progress: job.progress,
                status: job.provider_status.clone(),
                error: job.error.clone(),
                attempts: job.attempts,
                outputs: r
                    .outputs
                    .into_iter()
                    .map(|p| {
                        let (url, thumb_url, _) = crate::dto::products::media_urls(
                            p.project_id,
                            &p.content_hash,
                            p.ext(),
                        );
                        RenderOutputDto {
                            product_id: p.id,
                            url,
                            thumb_url,
                            mime: p.mime.clone(),
                            width: p.width,
                            height: p.height,
                        }
                    })
                    .collect(),
                created_at: job.created_at,
                updated_at: job.updated_at,
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_wire_graph_and_the_engine_graph_read_each_other_whole() {
            let json = serde_json::json!({"name": "Hall", "environment": [0.1, 0.2, 0.3], "nodes": [
                {"kind": "group", "name": "g", "transform": {"translation": [1, 2, 3],
                 "rotation": [0, 45, 0], "scale": [2, 2, 2]}},
                {"kind": "model", "name": "m", "parent": "g", "asset_id": 4,
                 "material": {"base_color": [1, 0, 0, 1], "metallic": 0.5, "roughness": 0.2}},
                {"kind": "light", "name": "l", "light": "spot", "color": [1, 0.9, 0.8],
                 "strength": 300, "position": [0, 3, 0], "target": [0, 0, 0],
                 "inner_cone": 10, "outer_cone": 20},
                {"kind": "camera", "name": "c", "projection": {"type": "orthographic", "height": 3},
                 "position": [0, 1, 5], "target": [0, 1, 0]}
            ]});
            let wire: SceneGraph = serde_json::from_value(json.clone()).unwrap();
            let engine: SceneDoc = serde_json::from_value(json.clone()).unwrap();
            assert_eq!(
                serde_json::to_value(&wire).unwrap(),
                serde_json::to_value(&engine).unwrap()
            );
            assert_eq!(SceneDoc::from(&wire), engine);
            assert_eq!(SceneGraph::from(&engine), wire);
        }
    }
}
