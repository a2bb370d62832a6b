//! Scenes: models placed with transforms, lights and cameras, as a graph of named nodes.
//!
//! - this module: the graph's types (the JSON the API and the UI send), its checks, and the
//!   world placement of every node;
//! - [`store`]: scenes in PostgreSQL (`scenes` and `scene_nodes`, whose foreign key refuses a
//!   node naming an asset that does not exist);
//! - [`export`]: the scene as one GLB, the asset models merged in with their indices moved,
//!   lights as `KHR_lights_punctual` and cameras as glTF cameras.
//!
//! Coordinates are glTF's: metres, Y up, a camera looking down its −Z. Rotations are Euler angles
//! in degrees applied X, then Y, then Z (Blender's default order). Light strengths are Blender's:
//! a directional light's irradiance in W/m² (a sun of 3 to 5 is daylight on a model), a point or
//! spot light's power in watts.

mod check;
pub mod export;
pub mod store;

pub use check::{Invalid, Problem};

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::assets::gltf::info::{local_matrix, mul, transform_point, Mat4, IDENTITY};

pub type Vec3 = [f64; 3];

/// The most nodes one scene holds.
pub const MAX_NODES: usize = 500;

/// A scene as it is written and read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SceneDoc {
    pub name: String,
    /// Light from every direction, linear RGB from 0 to 1 (Blender's world colour).
    #[serde(default = "default_environment")]
    pub environment: Vec3,
    #[serde(default)]
    pub nodes: Vec<Node>,
}

fn default_environment() -> Vec3 {
    [0.05, 0.05, 0.05]
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Node {
    Model(ModelNode),
    Light(LightNode),
    Camera(CameraNode),
    /// Only a transform: moves its children together.
    Group(GroupNode),
}

/// Where a node sits in its parent's frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transform {
    #[serde(default)]
    pub translation: Vec3,
    /// Degrees about X, then Y, then Z.
    #[serde(default)]
    pub rotation: Vec3,
    #[serde(default = "ones")]
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
#[serde(deny_unknown_fields)]
pub struct ModelNode {
    pub name: String,
    /// Another node's name; the scene's root when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    pub asset_id: i64,
    #[serde(default)]
    pub transform: Transform,
    /// Replaces these factors in every material of the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub material: Option<MaterialOverride>,
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaterialOverride {
    /// Linear RGBA from 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_color: Option<[f64; 4]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metallic: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roughness: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LightType {
    Directional,
    Point,
    Spot,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LightNode {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    pub light: LightType,
    /// Linear RGB from 0 to 1.
    #[serde(default = "ones")]
    pub color: Vec3,
    /// W/m² for a directional light, W for a point or spot light.
    pub strength: f64,
    pub position: Vec3,
    /// Where a directional or spot light points (a point light shines everywhere).
    #[serde(default)]
    pub target: Vec3,
    /// A spot light's cone, in degrees from its axis: full inside the inner cone, none past the
    /// outer one.
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
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum CameraProjection {
    /// `fov`: the vertical field of view in degrees.
    Perspective { fov: f64 },
    /// `height`: how many metres the picture shows top to bottom.
    Orthographic { height: f64 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraNode {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    pub projection: CameraProjection,
    pub position: Vec3,
    pub target: Vec3,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupNode {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default)]
    pub transform: Transform,
}

impl Node {
    pub fn name(&self) -> &str {
        match self {
            Node::Model(n) => &n.name,
            Node::Light(n) => &n.name,
            Node::Camera(n) => &n.name,
            Node::Group(n) => &n.name,
        }
    }

    pub fn parent(&self) -> Option<&str> {
        match self {
            Node::Model(n) => n.parent.as_deref(),
            Node::Light(n) => n.parent.as_deref(),
            Node::Camera(n) => n.parent.as_deref(),
            Node::Group(n) => n.parent.as_deref(),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Node::Model(_) => "model",
            Node::Light(_) => "light",
            Node::Camera(_) => "camera",
            Node::Group(_) => "group",
        }
    }

    pub fn asset_id(&self) -> Option<i64> {
        match self {
            Node::Model(n) => Some(n.asset_id),
            _ => None,
        }
    }

    /// The node's own frame in its parent's: models and groups have a transform; cameras and
    /// lights give their position and target in the parent's frame, so theirs is the identity.
    pub fn local(&self) -> Mat4 {
        match self {
            Node::Model(ModelNode { transform, .. }) | Node::Group(GroupNode { transform, .. }) => {
                transform.matrix()
            }
            Node::Light(_) | Node::Camera(_) => IDENTITY,
        }
    }
}

impl Transform {
    pub fn quaternion(&self) -> [f64; 4] {
        euler_quaternion(self.rotation)
    }

    pub fn matrix(&self) -> Mat4 {
        local_matrix(&crate::assets::gltf::doc::Node {
            translation: Some(self.translation),
            rotation: Some(self.quaternion()),
            scale: Some(self.scale),
            ..Default::default()
        })
    }
}

/// Euler angles in degrees (about X, then Y, then Z) as a unit quaternion, x y z w.
pub fn euler_quaternion(degrees: Vec3) -> [f64; 4] {
    let [x, y, z] = degrees.map(|d| d.to_radians() / 2.0);
    let (sx, cx, sy, cy, sz, cz) = (x.sin(), x.cos(), y.sin(), y.cos(), z.sin(), z.cos());
    // q = qz · qy · qx
    [
        sx * cy * cz - cx * sy * sz,
        cx * sy * cz + sx * cy * sz,
        cx * cy * sz - sx * sy * cz,
        cx * cy * cz + sx * sy * sz,
    ]
}

/// The rotation that turns −Z towards `direction` with +Y kept as near up as it can be (how a
/// glTF camera or light looks at its target), as a quaternion x y z w.
pub fn look_rotation(direction: Vec3) -> [f64; 4] {
    use crate::render::model::{cross, normalize};
    let back = normalize([-direction[0], -direction[1], -direction[2]]);
    let up = if back[1].abs() > 0.999 {
        [0.0, 0.0, -back[1].signum()]
    } else {
        [0.0, 1.0, 0.0]
    };
    let right = normalize(cross(up, back));
    let up = cross(back, right);
    // The rotation matrix's columns are right, up, back.
    let (m00, m11, m22) = (right[0], up[1], back[2]);
    let trace = m00 + m11 + m22;
    let q = if trace > 0.0 {
        let s = (trace + 1.0).sqrt() * 2.0;
        [
            (up[2] - back[1]) / s,
            (back[0] - right[2]) / s,
            (right[1] - up[0]) / s,
            s / 4.0,
        ]
    } else if m00 > m11 && m00 > m22 {
        let s = (1.0 + m00 - m11 - m22).sqrt() * 2.0;
        [
            s / 4.0,
            (up[0] + right[1]) / s,
            (back[0] + right[2]) / s,
            (up[2] - back[1]) / s,
        ]
    } else if m11 > m22 {
        let s = (1.0 + m11 - m00 - m22).sqrt() * 2.0;
        [
            (up[0] + right[1]) / s,
            s / 4.0,
            (back[1] + up[2]) / s,
            (back[0] - right[2]) / s,
        ]
    } else {
        let s = (1.0 + m22 - m00 - m11).sqrt() * 2.0;
        [
            (back[0] + right[2]) / s,
            (back[1] + up[2]) / s,
            s / 4.0,
            (right[1] - up[0]) / s,
        ]
    };
    let n = q.iter().map(|c| c * c).sum::<f64>().sqrt();
    q.map(|c| c / n)
}

impl SceneDoc {
    /// Each node's parent, by index.
    pub fn parents(&self) -> Vec<Option<usize>> {
        let names: BTreeMap<&str, usize> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name(), i))
            .collect();
        self.nodes
            .iter()
            .map(|n| n.parent().and_then(|p| names.get(p).copied()))
            .collect()
    }

    /// Each node's frame in the world (a checked scene has no loops).
    pub fn world(&self) -> Vec<Mat4> {
        let parents = self.parents();
        let mut world: Vec<Option<Mat4>> = vec![None; self.nodes.len()];
        fn resolve(
            i: usize,
            doc: &SceneDoc,
            parents: &[Option<usize>],
            world: &mut Vec<Option<Mat4>>,
        ) -> Mat4 {
            if let Some(m) = world[i] {
                return m;
            }
            let parent = parents[i].map_or(IDENTITY, |p| resolve(p, doc, parents, world));
            let m = mul(&parent, &doc.nodes[i].local());
            world[i] = Some(m);
            m
        }
        (0..self.nodes.len())
            .map(|i| resolve(i, self, &parents, &mut world))
            .collect()
    }

    /// The assets the scene places, each once.
    pub fn asset_ids(&self) -> BTreeSet<i64> {
        self.nodes.iter().filter_map(Node::asset_id).collect()
    }

    pub fn cameras(&self) -> impl Iterator<Item = &CameraNode> {
        self.nodes.iter().filter_map(|n| match n {
            Node::Camera(c) => Some(c),
            _ => None,
        })
    }

    /// Camera `name`'s position, target and projection in the world; the first camera when no
    /// name is given.
    pub fn camera(&self, name: Option<&str>) -> Option<(Vec3, Vec3, CameraProjection)> {
        let world = self.world();
        self.nodes.iter().enumerate().find_map(|(i, n)| match n {
            // A camera's own frame is its parent's (see `Node::local`).
            Node::Camera(c) if name.is_none_or(|want| want == c.name) => Some((
                transform_point(&world[i], c.position),
                transform_point(&world[i], c.target),
                c.projection,
            )),
            _ => None,
        })
    }

    /// The lights with their positions and targets in the world.
    pub fn world_lights(&self) -> Vec<(LightNode, Vec3, Vec3)> {
        let world = self.world();
        self.nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| match n {
                Node::Light(l) => Some((
                    l.clone(),
                    transform_point(&world[i], l.position),
                    transform_point(&world[i], l.target),
                )),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(nodes: serde_json::Value) -> SceneDoc {
        serde_json::from_value(serde_json::json!({"name": "Test", "nodes": nodes})).unwrap()
    }

    #[test]
    fn a_scene_reads_from_json_with_defaults_and_refuses_unknown_fields() {
        let scene = doc(serde_json::json!([
            {"kind": "model", "name": "chair", "asset_id": 3},
            {"kind": "light", "name": "sun", "light": "directional", "strength": 3.0,
             "position": [1, 4, 2]},
            {"kind": "camera", "name": "front", "projection": {"type": "perspective", "fov": 40},
             "position": [0, 1, 5], "target": [0, 0, 0]}
        ]));
        assert_eq!(scene.environment, default_environment());
        let Node::Model(m) = &scene.nodes[0] else {
            panic!()
        };
        assert_eq!(m.transform, Transform::default());
        let wrong = serde_json::from_value::<SceneDoc>(serde_json::json!({"name": "x", "nodes": [
            {"kind": "model", "name": "a", "asset_id": 1, "colour": 3}]}));
        assert!(wrong.unwrap_err().to_string().contains("colour"));
    }

    #[test]
    fn children_move_with_their_parents() {
        let mut scene = doc(serde_json::json!([
            {"kind": "group", "name": "table", "transform": {"translation": [2, 0, 0],
             "rotation": [0, 90, 0]}},
            {"kind": "model", "name": "cup", "parent": "table", "asset_id": 1,
             "transform": {"translation": [1, 1, 0]}},
            {"kind": "camera", "name": "cam", "parent": "table",
             "projection": {"type": "orthographic", "height": 2},
             "position": [0, 0, 3], "target": [0, 0, 0]}
        ]));
        scene.check().unwrap();
        let world = scene.world();
        let cup = transform_point(&world[1], [0.0; 3]);
        // Turning 90° about Y takes +X to −Z.
        for (got, want) in cup.iter().zip([2.0, 1.0, -1.0]) {
            assert!((got - want).abs() < 1e-9, "{cup:?}");
        }
        let (position, target, _) = scene.camera(Some("cam")).unwrap();
        for (got, want) in position.iter().zip([5.0, 0.0, 0.0]) {
            assert!((got - want).abs() < 1e-9, "{position:?}");
        }
        assert!((target[0] - 2.0).abs() < 1e-9);
    }

    #[test]
    fn a_look_rotation_turns_minus_z_towards_the_target() {
        for direction in [
            [1.0, 0.0, 0.0],
            [0.0, -1.0, 0.0],
            [0.3, -0.5, -0.8],
            [0.0, 0.0, 1.0],
        ] {
            let q = look_rotation(direction);
            let m = local_matrix(&crate::assets::gltf::doc::Node {
                rotation: Some(q),
                ..Default::default()
            });
            let forward = transform_point(&m, [0.0, 0.0, -1.0]);
            let want = crate::render::model::normalize(direction);
            for i in 0..3 {
                assert!(
                    (forward[i] - want[i]).abs() < 1e-9,
                    "{direction:?}: {forward:?}"
                );
            }
        }
    }
}
