//! A scene as one GLB. Each asset's data (buffer views, accessors, images, samplers, textures,
//! materials, meshes) is appended once, its indices moved past what came before; each model node
//! then gets its own copy of the asset's node tree (a glTF node has one parent), with its skins
//! and animations, which name nodes. A model with a material override gets its own copy of the
//! materials and meshes. Lights become `KHR_lights_punctual` lights and cameras glTF cameras,
//! turned towards their targets; the environment colour is kept in the scene's `extras`.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::{look_rotation, CameraProjection, LightType, MaterialOverride, Node, SceneDoc, Vec3};
use crate::assets::gltf::{container, info::default_scene, pack::glb};

/// What to put in besides the models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Include {
    pub lights: bool,
    pub cameras: bool,
}

impl Include {
    pub const ALL: Include = Include {
        lights: true,
        cameras: true,
    };
    pub const MODELS: Include = Include {
        lights: false,
        cameras: false,
    };
}

/// Blender's conversion between its light units and glTF's (lumens per watt).
const LUMENS_PER_WATT: f64 = 683.0;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("node “{node}” places asset {asset}, whose model could not be read: {why}")]
    Asset {
        node: String,
        asset: i64,
        why: String,
    },
    #[error("node “{node}” places asset {asset}, which is not loaded")]
    Missing { node: String, asset: i64 },
}

/// An asset's document and binary chunk.
struct Source {
    json: Value,
    bin: Vec<u8>,
    scene_roots: Vec<usize>,
}

fn source(bytes: &[u8]) -> Result<Source, String> {
    let loaded =
        container::load(vec![("model.glb".into(), bytes.to_vec())]).map_err(|e| e.to_string())?;
    let roots = default_scene(&loaded.doc)
        .map(|s| loaded.doc.scenes[s].nodes.clone())
        .unwrap_or_default();
    Ok(Source {
        bin: loaded.bin().unwrap_or_default().to_vec(),
        json: loaded.json,
        scene_roots: roots,
    })
}

/// Where one merged copy of an asset's data starts in each of the output's arrays.
#[derive(Debug, Clone, Copy, Default)]
struct Offsets {
    accessors: usize,
    views: usize,
    images: usize,
    samplers: usize,
    textures: usize,
    materials: usize,
    meshes: usize,
}

struct Out {
    json: Map<String, Value>,
    bin: Vec<u8>,
    used: Vec<String>,
    required: Vec<String>,
}

fn array<'a>(json: &'a Value, key: &str) -> &'a [Value] {
    json.get(key)
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
}

fn shift(value: &mut Value, key: &str, by: usize) {
    if let Some(i) = value.get(key).and_then(Value::as_u64) {
        value[key] = json!(i as usize + by);
    }
}

/// Moves every texture reference in a material (`…Texture: {index}` at any depth, so the
/// extensions' textures too).
fn shift_textures(value: &mut Value, by: usize) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                if key.ends_with("Texture") && inner.is_object() {
                    shift(inner, "index", by);
                }
                shift_textures(inner, by);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| shift_textures(v, by)),
        _ => {}
    }
}

fn apply_override(material: &mut Value, o: &MaterialOverride) {
    let pbr = material
        .as_object_mut()
        .expect("materials are objects")
        .entry("pbrMetallicRoughness")
        .or_insert_with(|| json!({}));
    if let Some(c) = o.base_color {
        pbr["baseColorFactor"] = json!(c);
    }
    if let Some(m) = o.metallic {
        pbr["metallicFactor"] = json!(m);
    }
    if let Some(r) = o.roughness {
        pbr["roughnessFactor"] = json!(r);
    }
}

impl Out {
    fn push(&mut self, key: &str, value: Value) -> usize {
        let list = self
            .json
            .entry(key)
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .expect("output arrays");
        list.push(value);
        list.len() - 1
    }

    fn len(&self, key: &str) -> usize {
        self.json
            .get(key)
            .and_then(Value::as_array)
            .map_or(0, Vec::len)
    }

    /// Appends an asset's data; with an override, its materials changed (and a material for
    /// primitives that had none).
    fn merge_data(&mut self, src: &Source, material: Option<&MaterialOverride>) -> Offsets {
        let at = Offsets {
            accessors: self.len("accessors"),
            views: self.len("bufferViews"),
            images: self.len("images"),
            samplers: self.len("samplers"),
            textures: self.len("textures"),
            materials: self.len("materials"),
            meshes: self.len("meshes"),
        };
        while !self.bin.len().is_multiple_of(8) {
            self.bin.push(0);
        }
        let base = self.bin.len();
        self.bin.extend_from_slice(&src.bin);
        for view in array(&src.json, "bufferViews") {
            let mut view = view.clone();
            view["buffer"] = json!(0);
            let offset = view.get("byteOffset").and_then(Value::as_u64).unwrap_or(0);
            view["byteOffset"] = json!(base as u64 + offset);
            self.push("bufferViews", view);
        }
        for accessor in array(&src.json, "accessors") {
            let mut accessor = accessor.clone();
            shift(&mut accessor, "bufferView", at.views);
            if let Some(sparse) = accessor.get_mut("sparse") {
                for part in ["indices", "values"] {
                    if let Some(p) = sparse.get_mut(part) {
                        shift(p, "bufferView", at.views);
                    }
                }
            }
            self.push("accessors", accessor);
        }
        for image in array(&src.json, "images") {
            let mut image = image.clone();
            shift(&mut image, "bufferView", at.views);
            self.push("images", image);
        }
        for sampler in array(&src.json, "samplers") {
            self.push("samplers", sampler.clone());
        }
        for texture in array(&src.json, "textures") {
            let mut texture = texture.clone();
            shift(&mut texture, "sampler", at.samplers);
            shift(&mut texture, "source", at.images);
            if let Some(ext) = texture.get_mut("extensions").and_then(Value::as_object_mut) {
                for inner in ext.values_mut() {
                    shift(inner, "source", at.images);
                }
            }
            self.push("textures", texture);
        }
        for material_json in array(&src.json, "materials") {
            let mut m = material_json.clone();
            shift_textures(&mut m, at.textures);
            if let Some(o) = material {
                apply_override(&mut m, o);
            }
            self.push("materials", m);
        }
        // Primitives without a material take the override as a material of their own.
        let bare = array(&src.json, "meshes").iter().any(|m| {
            array(m, "primitives")
                .iter()
                .any(|p| p.get("material").is_none())
        });
        let fallback = material.filter(|_| bare).map(|o| {
            let mut m = json!({"name": "override"});
            apply_override(&mut m, o);
            self.push("materials", m)
        });
        for mesh in array(&src.json, "meshes") {
            let mut mesh = mesh.clone();
            if let Some(prims) = mesh.get_mut("primitives").and_then(Value::as_array_mut) {
                for prim in prims {
                    if let Some(attrs) = prim.get_mut("attributes").and_then(Value::as_object_mut) {
                        for v in attrs.values_mut() {
                            *v = json!(v.as_u64().unwrap_or(0) as usize + at.accessors);
                        }
                    }
                    if let Some(targets) = prim.get_mut("targets").and_then(Value::as_array_mut) {
                        for target in targets.iter_mut().filter_map(Value::as_object_mut) {
                            for v in target.values_mut() {
                                *v = json!(v.as_u64().unwrap_or(0) as usize + at.accessors);
                            }
                        }
                    }
                    shift(prim, "indices", at.accessors);
                    if prim.get("material").is_some() {
                        shift(prim, "material", at.materials);
                    } else if let Some(f) = fallback {
                        prim["material"] = json!(f);
                    }
                }
            }
            self.push("meshes", mesh);
        }
        let list = |v: &Value, key: &str| -> Vec<String> {
            array(v, key)
                .iter()
                .filter_map(|e| e.as_str().map(str::to_string))
                .collect()
        };
        for e in list(&src.json, "extensionsUsed") {
            if e != "KHR_lights_punctual" && !self.used.contains(&e) {
                self.used.push(e);
            }
        }
        for e in list(&src.json, "extensionsRequired") {
            if e != "KHR_lights_punctual" && !self.required.contains(&e) {
                self.required.push(e);
            }
        }
        at
    }

    /// A copy of the asset's default scene's node trees (and the skins and animations that
    /// name them); returns the copy's roots.
    fn instance(&mut self, src: &Source, at: Offsets) -> Vec<usize> {
        let nodes = array(&src.json, "nodes");
        let node_base = self.len("nodes");
        let skin_base = self.len("skins");
        // Every node of the asset is copied, so indices move by one amount.
        for node in nodes {
            let mut node = node.clone();
            let obj = node.as_object_mut().expect("nodes are objects");
            obj.remove("camera");
            if let Some(ext) = obj.get_mut("extensions").and_then(Value::as_object_mut) {
                ext.remove("KHR_lights_punctual");
            }
            if let Some(children) = obj.get_mut("children").and_then(Value::as_array_mut) {
                for c in children {
                    *c = json!(c.as_u64().unwrap_or(0) as usize + node_base);
                }
            }
            shift(&mut node, "mesh", at.meshes);
            shift(&mut node, "skin", skin_base);
            self.push("nodes", node);
        }
        for skin in array(&src.json, "skins") {
            let mut skin = skin.clone();
            shift(&mut skin, "inverseBindMatrices", at.accessors);
            shift(&mut skin, "skeleton", node_base);
            if let Some(joints) = skin.get_mut("joints").and_then(Value::as_array_mut) {
                for j in joints {
                    *j = json!(j.as_u64().unwrap_or(0) as usize + node_base);
                }
            }
            self.push("skins", skin);
        }
        for animation in array(&src.json, "animations") {
            let mut animation = animation.clone();
            if let Some(samplers) = animation.get_mut("samplers").and_then(Value::as_array_mut) {
                for s in samplers {
                    shift(s, "input", at.accessors);
                    shift(s, "output", at.accessors);
                }
            }
            if let Some(channels) = animation.get_mut("channels").and_then(Value::as_array_mut) {
                for c in channels {
                    if let Some(target) = c.get_mut("target") {
                        shift(target, "node", node_base);
                    }
                }
            }
            self.push("animations", animation);
        }
        src.scene_roots.iter().map(|r| r + node_base).collect()
    }
}

fn trs(translation: Vec3, rotation: [f64; 4], scale: Vec3) -> Map<String, Value> {
    let mut node = Map::new();
    node.insert("translation".into(), json!(translation));
    node.insert("rotation".into(), json!(rotation));
    node.insert("scale".into(), json!(scale));
    node
}

fn direction(from: Vec3, to: Vec3) -> Vec3 {
    [to[0] - from[0], to[1] - from[1], to[2] - from[2]]
}

/// The scene as one GLB. `assets` holds the GLB of every asset the scene places.
pub fn export(
    doc: &SceneDoc,
    assets: &BTreeMap<i64, Vec<u8>>,
    include: Include,
) -> Result<Vec<u8>, ExportError> {
    let mut out = Out {
        json: Map::new(),
        bin: Vec::new(),
        used: Vec::new(),
        required: Vec::new(),
    };
    out.json.insert(
        "asset".into(),
        json!({"version": "2.0", "generator": "Art Factory scene export"}),
    );
    let mut sources: BTreeMap<i64, Source> = BTreeMap::new();
    let mut shared: BTreeMap<i64, Offsets> = BTreeMap::new();
    let mut lights: Vec<Value> = Vec::new();
    // Scene nodes first, in order, so node i of the scene is node i of the file.
    for node in &doc.nodes {
        out.push("nodes", json!({"name": node.name()}));
    }
    for (i, node) in doc.nodes.iter().enumerate() {
        let mut gltf_node = match node {
            Node::Model(m) => {
                let t = &m.transform;
                trs(t.translation, t.quaternion(), t.scale)
            }
            Node::Group(g) => {
                let t = &g.transform;
                trs(t.translation, t.quaternion(), t.scale)
            }
            Node::Camera(c) => trs(
                c.position,
                look_rotation(direction(c.position, c.target)),
                [1.0; 3],
            ),
            Node::Light(l) => trs(
                l.position,
                if l.light == LightType::Point {
                    [0.0, 0.0, 0.0, 1.0]
                } else {
                    look_rotation(direction(l.position, l.target))
                },
                [1.0; 3],
            ),
        };
        gltf_node.insert("name".into(), json!(node.name()));
        match node {
            Node::Model(m) => {
                if let std::collections::btree_map::Entry::Vacant(slot) = sources.entry(m.asset_id)
                {
                    let bytes = assets
                        .get(&m.asset_id)
                        .ok_or_else(|| ExportError::Missing {
                            node: m.name.clone(),
                            asset: m.asset_id,
                        })?;
                    let src = source(bytes).map_err(|why| ExportError::Asset {
                        node: m.name.clone(),
                        asset: m.asset_id,
                        why,
                    })?;
                    slot.insert(src);
                }
                let src = &sources[&m.asset_id];
                let at = match &m.material {
                    Some(o) => out.merge_data(src, Some(o)),
                    None => *shared
                        .entry(m.asset_id)
                        .or_insert_with(|| out.merge_data(src, None)),
                };
                let roots = out.instance(src, at);
                gltf_node.insert("children".into(), json!(roots));
            }
            Node::Camera(c) if include.cameras => {
                let camera = match c.projection {
                    CameraProjection::Perspective { fov } => json!({
                        "type": "perspective", "name": c.name,
                        "perspective": {"yfov": fov.to_radians(), "znear": 0.01}
                    }),
                    CameraProjection::Orthographic { height } => json!({
                        "type": "orthographic", "name": c.name,
                        "orthographic": {"xmag": height / 2.0, "ymag": height / 2.0,
                                         "znear": 0.01, "zfar": 10000.0}
                    }),
                };
                let index = out.push("cameras", camera);
                gltf_node.insert("camera".into(), json!(index));
            }
            Node::Light(l) if include.lights => {
                let (kind, intensity) = match l.light {
                    // Blender reads a sun's lux as its W/m².
                    LightType::Directional => ("directional", l.strength),
                    // Watts to candela, as Blender converts them.
                    LightType::Point | LightType::Spot => (
                        if l.light == LightType::Point {
                            "point"
                        } else {
                            "spot"
                        },
                        l.strength * LUMENS_PER_WATT / (4.0 * std::f64::consts::PI),
                    ),
                };
                let mut light = json!({"type": kind, "name": l.name, "color": l.color,
                                       "intensity": intensity});
                if l.light == LightType::Spot {
                    light["spot"] = json!({"innerConeAngle": l.inner_cone.to_radians(),
                                           "outerConeAngle": l.outer_cone.to_radians()});
                }
                lights.push(light);
                gltf_node.insert(
                    "extensions".into(),
                    json!({"KHR_lights_punctual": {"light": lights.len() - 1}}),
                );
            }
            _ => {}
        }
        out.json["nodes"][i] = Value::Object(gltf_node);
    }
    let parents = doc.parents();
    let mut roots = Vec::new();
    for (i, parent) in parents.iter().enumerate() {
        match parent {
            Some(p) => {
                let node = out.json["nodes"][*p]
                    .as_object_mut()
                    .expect("nodes are objects");
                node.entry("children")
                    .or_insert_with(|| json!([]))
                    .as_array_mut()
                    .expect("children are arrays")
                    .push(json!(i));
            }
            None => roots.push(i),
        }
    }
    out.json.insert("scene".into(), json!(0));
    out.json.insert(
        "scenes".into(),
        json!([{"name": doc.name, "nodes": roots,
                "extras": {"environment": doc.environment}}]),
    );
    if !lights.is_empty() {
        out.used.push("KHR_lights_punctual".into());
        out.json.insert(
            "extensions".into(),
            json!({"KHR_lights_punctual": {"lights": lights}}),
        );
    }
    if !out.used.is_empty() {
        out.json.insert("extensionsUsed".into(), json!(out.used));
    }
    if !out.required.is_empty() {
        out.json
            .insert("extensionsRequired".into(), json!(out.required));
    }
    while !out.bin.len().is_multiple_of(4) {
        out.bin.push(0);
    }
    if !out.bin.is_empty() {
        out.json
            .insert("buffers".into(), json!([{"byteLength": out.bin.len()}]));
    }
    let json = serde_json::to_vec(&Value::Object(out.json)).expect("JSON values serialise");
    Ok(glb(&json, &out.bin))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assets::gltf::sample::{self, Sample};

    fn scene() -> SceneDoc {
        serde_json::from_value(json!({"name": "Table", "environment": [0.1, 0.1, 0.12], "nodes": [
            {"kind": "group", "name": "table", "transform": {"translation": [0, 1, 0]}},
            {"kind": "model", "name": "left", "parent": "table", "asset_id": 1,
             "transform": {"translation": [-2, 0, 0]}},
            {"kind": "model", "name": "right", "parent": "table", "asset_id": 1,
             "transform": {"translation": [2, 0, 0], "scale": [0.5, 0.5, 0.5]},
             "material": {"base_color": [0.1, 0.6, 0.2, 1.0], "roughness": 0.3}},
            {"kind": "model", "name": "ball", "asset_id": 2},
            {"kind": "light", "name": "sun", "light": "directional", "strength": 4,
             "position": [3, 5, 2], "target": [0, 0, 0]},
            {"kind": "light", "name": "spot", "light": "spot", "strength": 500,
             "position": [0, 3, 3], "target": [0, 0, 0], "inner_cone": 10, "outer_cone": 25},
            {"kind": "camera", "name": "front", "projection": {"type": "perspective", "fov": 40},
             "position": [0, 2, 8], "target": [0, 1, 0]}
        ]}))
        .unwrap()
    }

    fn assets() -> BTreeMap<i64, Vec<u8>> {
        let textured = Sample {
            texture: Some(sample::checker_png(16)),
            base_color: [1.0; 4],
            ..Sample::default()
        };
        BTreeMap::from([
            (1, sample::glb(&textured)),
            (2, sample::glb(&Sample::default())),
        ])
    }

    #[test]
    fn the_export_is_one_valid_glb_with_every_model_light_and_camera() {
        let bytes = export(&scene(), &assets(), Include::ALL).unwrap();
        let accepted = crate::assets::gltf::read(vec![("scene.glb".into(), bytes)]).unwrap();
        let info = &accepted.info;
        let one = crate::assets::gltf::read(vec![("a.glb".into(), assets()[&1].clone())])
            .unwrap()
            .info;
        let two = crate::assets::gltf::read(vec![("b.glb".into(), assets()[&2].clone())])
            .unwrap()
            .info;
        let (all, one, two) = (
            info.scene.clone().unwrap(),
            one.scene.unwrap(),
            two.scene.unwrap(),
        );
        assert_eq!(
            all.instances,
            one.instances * 2 + two.instances,
            "every placement is drawn"
        );
        assert_eq!(
            all.counts.triangles,
            one.counts.triangles * 2 + two.counts.triangles
        );
        // The shared asset's data is merged twice (once with its override), the other once.
        assert_eq!(info.materials.len(), 3);
        assert_eq!(info.textures.len(), 2);
        assert_eq!(info.cameras, 1);
        assert!(info
            .extensions_used
            .contains(&"KHR_lights_punctual".to_string()));
        assert!(accepted.report.errors().next().is_none());
    }

    #[test]
    fn a_missing_asset_is_named() {
        let e = export(&scene(), &BTreeMap::new(), Include::ALL).unwrap_err();
        assert!(e.to_string().contains("“left”"), "{e}");
    }

    #[test]
    fn models_only_leaves_lights_and_cameras_out() {
        let bytes = export(&scene(), &assets(), Include::MODELS).unwrap();
        let info = crate::assets::gltf::read(vec![("s.glb".into(), bytes)])
            .unwrap()
            .info;
        assert_eq!(info.cameras, 0);
        assert!(info.extensions_used.is_empty());
    }
}
