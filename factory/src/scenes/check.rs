//! A scene's own checks: every problem named at its JSON pointer (the assets are checked
//! against the database by [`super::store`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{CameraProjection, LightType, Node, SceneDoc, Transform, Vec3, MAX_NODES};

/// One problem with a scene, at its JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub pointer: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.pointer, self.message)
    }
}

/// What is wrong with a scene, every problem listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("The scene cannot be saved: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct Invalid(pub Vec<Problem>);

fn finite(v: &[f64]) -> bool {
    v.iter().all(|c| c.is_finite())
}

fn distance(a: Vec3, b: Vec3) -> f64 {
    (0..3).map(|i| (a[i] - b[i]).powi(2)).sum::<f64>().sqrt()
}

impl SceneDoc {
    /// The name trimmed, and every problem the graph has on its own (the assets are checked
    /// against the database by [`store`]).
    pub fn check(&mut self) -> Result<(), Invalid> {
        let mut problems = Vec::new();
        let mut problem = |pointer: String, message: &str| {
            problems.push(Problem {
                pointer,
                message: message.to_string(),
            })
        };
        self.name = self.name.trim().to_string();
        if self.name.is_empty() || self.name.chars().count() > 200 {
            problem(
                "/name".into(),
                "a scene needs a name of 1 to 200 characters",
            );
        }
        if !finite(&self.environment) || self.environment.iter().any(|c| !(0.0..=1.0).contains(c)) {
            problem(
                "/environment".into(),
                "the environment colour is three numbers from 0 to 1",
            );
        }
        if self.nodes.len() > MAX_NODES {
            problem(
                "/nodes".into(),
                &format!("a scene holds at most {MAX_NODES} nodes"),
            );
        }
        let mut names = BTreeMap::new();
        for (i, node) in self.nodes.iter().enumerate() {
            let at = |field: &str| format!("/nodes/{i}/{field}");
            let name = node.name();
            if name.trim().is_empty() || name.chars().count() > 100 || name.trim() != name {
                problem(
                    at("name"),
                    "a node needs a name of 1 to 100 characters, without spaces around it",
                );
            } else if names.insert(name.to_string(), i).is_some() {
                problem(at("name"), &format!("another node is named “{name}” already; names are how nodes are found, so each must be different"));
            }
            match node {
                Node::Model(m) => check_transform(&m.transform, &at("transform"), &mut problem),
                Node::Group(g) => check_transform(&g.transform, &at("transform"), &mut problem),
                Node::Light(l) => {
                    if !finite(&l.position) || !finite(&l.target) {
                        problem(at("position"), "positions are finite numbers");
                    }
                    if !finite(&l.color) || l.color.iter().any(|c| !(0.0..=1.0).contains(c)) {
                        problem(at("color"), "a colour is three numbers from 0 to 1");
                    }
                    if !(0.0..=1.0e6).contains(&l.strength) {
                        problem(at("strength"), "the strength is from 0 to 1,000,000");
                    }
                    if l.light != LightType::Point && distance(l.position, l.target) < 1e-6 {
                        problem(at("target"), "a directional or spot light needs a target away from its position, to know where it points");
                    }
                    if l.light == LightType::Spot
                        && !(0.0 <= l.inner_cone
                            && l.inner_cone < l.outer_cone
                            && l.outer_cone <= 90.0)
                    {
                        problem(at("outer_cone"), "a spot light's cones are angles from its axis with 0 ≤ inner < outer ≤ 90 degrees");
                    }
                }
                Node::Camera(c) => {
                    if !finite(&c.position) || !finite(&c.target) {
                        problem(at("position"), "positions are finite numbers");
                    } else if distance(c.position, c.target) < 1e-6 {
                        problem(
                            at("target"),
                            "a camera needs a target away from its position, to know where it looks",
                        );
                    }
                    match c.projection {
                        CameraProjection::Perspective { fov } if !(1.0..=170.0).contains(&fov) => {
                            problem(
                                at("projection/fov"),
                                "the field of view is from 1 to 170 degrees",
                            )
                        }
                        CameraProjection::Orthographic { height }
                            if !(height > 0.0 && height <= 1.0e6) =>
                        {
                            problem(
                                at("projection/height"),
                                "an orthographic camera shows more than 0 metres",
                            )
                        }
                        _ => {}
                    }
                }
            }
            if let Node::Model(m) = node {
                if let Some(o) = m.material {
                    let unit = |v: f64| (0.0..=1.0).contains(&v);
                    if o.base_color.is_some_and(|c| !c.iter().all(|v| unit(*v)))
                        || o.metallic.is_some_and(|v| !unit(v))
                        || o.roughness.is_some_and(|v| !unit(v))
                    {
                        problem(at("material"), "material factors are numbers from 0 to 1");
                    }
                }
            }
        }
        for (i, node) in self.nodes.iter().enumerate() {
            let Some(parent) = node.parent() else {
                continue;
            };
            if !names.contains_key(parent) {
                problem(
                    format!("/nodes/{i}/parent"),
                    &format!("there is no node named “{parent}” in this scene"),
                );
            }
        }
        if problems.is_empty() {
            if let Some(i) = self.cycle(&names) {
                problems.push(Problem {
                    pointer: format!("/nodes/{i}/parent"),
                    message:
                        "the parents go round in a loop; one node of the loop must be at the root"
                            .into(),
                });
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Invalid(problems))
        }
    }

    /// A node whose parents lead back to it.
    fn cycle(&self, names: &BTreeMap<String, usize>) -> Option<usize> {
        (0..self.nodes.len()).find(|&start| {
            let mut seen = BTreeSet::new();
            let mut at = start;
            while let Some(parent) = self.nodes[at].parent() {
                if !seen.insert(at) {
                    return true;
                }
                at = names[parent];
            }
            false
        })
    }
}

fn check_transform(t: &Transform, at: &str, problem: &mut impl FnMut(String, &str)) {
    if !finite(&t.translation) || !finite(&t.rotation) || !finite(&t.scale) {
        problem(at.to_string(), "a transform holds finite numbers");
    } else if t.scale.iter().any(|s| s.abs() < 1e-9 || s.abs() > 1e6) {
        problem(
            format!("{at}/scale"),
            "a scale is not 0 (the model would vanish) and at most 1,000,000",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(nodes: serde_json::Value) -> SceneDoc {
        serde_json::from_value(serde_json::json!({"name": "Test", "nodes": nodes})).unwrap()
    }

    #[test]
    fn every_problem_is_named_at_its_pointer() {
        let mut scene = doc(serde_json::json!([
            {"kind": "model", "name": "a", "asset_id": 1, "transform": {"scale": [0, 1, 1]}},
            {"kind": "model", "name": "a", "asset_id": 1, "parent": "nowhere"},
            {"kind": "camera", "name": "c", "projection": {"type": "perspective", "fov": 400},
             "position": [1, 1, 1], "target": [1, 1, 1]},
            {"kind": "light", "name": "s", "light": "spot", "strength": 10, "position": [0, 1, 0],
             "target": [0, 0, 0], "inner_cone": 40, "outer_cone": 30}
        ]));
        let Invalid(problems) = scene.check().unwrap_err();
        let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/nodes/0/transform/scale",
                "/nodes/1/name",
                "/nodes/2/target",
                "/nodes/2/projection/fov",
                "/nodes/3/outer_cone",
                "/nodes/1/parent"
            ]
        );
        assert!(problems[5].message.contains("“nowhere”"));
    }

    #[test]
    fn a_parent_loop_is_refused() {
        let mut scene = doc(serde_json::json!([
            {"kind": "group", "name": "a", "parent": "b"},
            {"kind": "group", "name": "b", "parent": "a"}
        ]));
        let Invalid(problems) = scene.check().unwrap_err();
        assert!(problems[0].message.contains("loop"), "{problems:?}");
    }
}
