//! Models made in code: a UV sphere of any density, optionally textured and drawn by several
//! nodes, as a glTF JSON and its binary buffer. The tests, the benchmark and the stand-in
//! fixtures build their good and broken files from these.

use serde_json::{json, Value};

/// What to make.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Rings and segments of the sphere: about 2·rings·segments triangles.
    pub rings: u32,
    pub segments: u32,
    /// An embedded PNG as the base colour texture.
    pub texture: Option<Vec<u8>>,
    /// Nodes that draw the mesh, side by side along X.
    pub instances: u32,
    pub base_color: [f64; 4],
}

impl Default for Sample {
    fn default() -> Self {
        Self {
            rings: 8,
            segments: 12,
            texture: None,
            instances: 1,
            base_color: [0.8, 0.3, 0.2, 1.0],
        }
    }
}

/// The JSON and the binary buffer (buffer 0, no `uri`: the GLB's chunk).
pub fn build(sample: &Sample) -> (Value, Vec<u8>) {
    let (rings, segments) = (sample.rings.max(2), sample.segments.max(3));
    let mut positions: Vec<[f32; 3]> = Vec::new();
    let mut uvs: Vec<[f32; 2]> = Vec::new();
    for r in 0..=rings {
        let v = r as f32 / rings as f32;
        let theta = v * std::f32::consts::PI;
        for s in 0..=segments {
            let u = s as f32 / segments as f32;
            let phi = u * std::f32::consts::TAU;
            positions.push([
                theta.sin() * phi.cos(),
                theta.cos(),
                theta.sin() * phi.sin(),
            ]);
            uvs.push([u, v]);
        }
    }
    let row = segments + 1;
    let mut indices: Vec<u32> = Vec::new();
    for r in 0..rings {
        for s in 0..segments {
            let a = r * row + s;
            let b = a + row;
            indices.extend([a, a + 1, b, a + 1, b + 1, b]);
        }
    }
    let mut bin = Vec::new();
    let mut views = Vec::new();
    let mut push = |bin: &mut Vec<u8>, bytes: &[u8], target: Option<u32>| {
        while !bin.len().is_multiple_of(4) {
            bin.push(0);
        }
        let mut view = json!({"buffer": 0, "byteOffset": bin.len(), "byteLength": bytes.len()});
        if let Some(t) = target {
            view["target"] = json!(t);
        }
        bin.extend_from_slice(bytes);
        views.push(view);
        views.len() - 1
    };
    let floats = |v: &[f32]| v.iter().flat_map(|f| f.to_le_bytes()).collect::<Vec<u8>>();
    let flat_pos: Vec<f32> = positions.iter().flatten().copied().collect();
    // On a unit sphere the normal is the position.
    let pos_view = push(&mut bin, &floats(&flat_pos), Some(34962));
    let normal_view = push(&mut bin, &floats(&flat_pos), Some(34962));
    let flat_uv: Vec<f32> = uvs.iter().flatten().copied().collect();
    let uv_view = push(&mut bin, &floats(&flat_uv), Some(34962));
    let index_bytes: Vec<u8> = indices.iter().flat_map(|i| i.to_le_bytes()).collect();
    let index_view = push(&mut bin, &index_bytes, Some(34963));
    let min =
        [0, 1, 2].map(|c| positions.iter().map(|p| p[c]).fold(f32::INFINITY, f32::min) as f64);
    let max = [0, 1, 2].map(|c| {
        positions
            .iter()
            .map(|p| p[c])
            .fold(f32::NEG_INFINITY, f32::max) as f64
    });
    let count = positions.len();
    let mut doc = json!({
        "asset": {"version": "2.0", "generator": "Art Factory sample"},
        "scene": 0,
        "scenes": [{"name": "Scene", "nodes": (0..sample.instances).collect::<Vec<_>>()}],
        "nodes": (0..sample.instances).map(|i| json!({
            "name": format!("Sphere {i}"), "mesh": 0, "translation": [i as f64 * 2.5, 0.0, 0.0]
        })).collect::<Vec<_>>(),
        "meshes": [{"name": "Sphere", "primitives": [{
            "attributes": {"POSITION": 0, "NORMAL": 1, "TEXCOORD_0": 2},
            "indices": 3, "material": 0, "mode": 4
        }]}],
        "materials": [{"name": "Clay", "pbrMetallicRoughness": {
            "baseColorFactor": sample.base_color, "metallicFactor": 0.0, "roughnessFactor": 0.8
        }}],
        "accessors": [
            {"bufferView": pos_view, "componentType": 5126, "count": count, "type": "VEC3", "min": min, "max": max},
            {"bufferView": normal_view, "componentType": 5126, "count": count, "type": "VEC3"},
            {"bufferView": uv_view, "componentType": 5126, "count": count, "type": "VEC2"},
            {"bufferView": index_view, "componentType": 5125, "count": indices.len(), "type": "SCALAR"}
        ],
        "bufferViews": [],
        "buffers": [{"byteLength": 0}]
    });
    if let Some(png) = &sample.texture {
        let image_view = push(&mut bin, png, None);
        doc["images"] =
            json!([{"name": "Pattern", "bufferView": image_view, "mimeType": "image/png"}]);
        doc["samplers"] = json!([{}]);
        doc["textures"] = json!([{"source": 0, "sampler": 0}]);
        doc["materials"][0]["pbrMetallicRoughness"]["baseColorTexture"] = json!({"index": 0});
    }
    while bin.len() % 4 != 0 {
        bin.push(0);
    }
    doc["bufferViews"] = Value::Array(views);
    doc["buffers"][0]["byteLength"] = json!(bin.len());
    (doc, bin)
}

/// The sample as a GLB.
pub fn glb(sample: &Sample) -> Vec<u8> {
    let (doc, bin) = build(sample);
    super::pack::glb(&serde_json::to_vec(&doc).expect("JSON serialises"), &bin)
}

/// A small checkerboard PNG, for textures.
pub fn checker_png(size: u32) -> Vec<u8> {
    let mut rgb = Vec::with_capacity((size * size * 3) as usize);
    for y in 0..size {
        for x in 0..size {
            let on = ((x * 8 / size) + (y * 8 / size)).is_multiple_of(2);
            rgb.extend(if on { [230, 220, 200] } else { [40, 60, 90] });
        }
    }
    crate::media::png::encode_rgb(size, size, &rgb).expect("a PNG encodes")
}
