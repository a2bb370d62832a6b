//! One self-contained GLB from a checked upload: every buffer joined into the binary chunk and
//! every image file embedded as a buffer view, the rest of the JSON (extensions, extras) kept as
//! it was. A GLB that is self-contained already is kept byte for byte.

use serde_json::{json, Value};

use super::check::Checked;
use super::container::{resolve, Container, Loaded};
use crate::media::ImageFormat;

const CHUNK_JSON: u32 = 0x4E4F_534A;
const CHUNK_BIN: u32 = 0x004E_4942;

fn pad(bin: &mut Vec<u8>) {
    while !bin.len().is_multiple_of(4) {
        bin.push(0);
    }
}

pub fn pack(loaded: &Loaded, checked: &Checked<'_>) -> Vec<u8> {
    let doc = &loaded.doc;
    let self_contained = loaded.container == Container::Glb
        && doc.buffers.len() <= 1
        && doc.buffers.iter().all(|b| b.uri.is_none())
        && doc.images.iter().all(|i| i.uri.is_none());
    if self_contained {
        return loaded.main.clone();
    }
    let mut json = loaded.json.clone();
    let mut bin = Vec::new();
    let mut base = Vec::with_capacity(doc.buffers.len());
    for (i, buffer) in doc.buffers.iter().enumerate() {
        pad(&mut bin);
        base.push(bin.len() as u64);
        let data = &checked.buffers[i];
        bin.extend_from_slice(&data[..(buffer.byte_length as usize).min(data.len())]);
    }
    if let Some(views) = json.get_mut("bufferViews").and_then(Value::as_array_mut) {
        for (view, parsed) in views.iter_mut().zip(&doc.buffer_views) {
            view["buffer"] = json!(0);
            view["byteOffset"] = json!(base[parsed.buffer] + parsed.byte_offset);
        }
    }
    for (i, image) in doc.images.iter().enumerate() {
        let Some(uri) = &image.uri else { continue };
        let bytes = resolve(uri, &loaded.files).expect("checked images resolve");
        pad(&mut bin);
        let view = json!({"buffer": 0, "byteOffset": bin.len(), "byteLength": bytes.len()});
        bin.extend_from_slice(&bytes);
        let views = json
            .as_object_mut()
            .expect("checked: an object")
            .entry("bufferViews")
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .expect("checked: an array");
        views.push(view);
        let index = views.len() - 1;
        let entry = json["images"][i]
            .as_object_mut()
            .expect("checked: an object");
        entry.remove("uri");
        entry.insert("bufferView".into(), json!(index));
        let mime = ImageFormat::sniff(&bytes).map_or("image/png", |f| f.mime());
        entry.insert("mimeType".into(), json!(mime));
    }
    let object = json.as_object_mut().expect("checked: an object");
    if bin.is_empty() {
        object.remove("buffers");
    } else {
        pad(&mut bin);
        object.insert("buffers".into(), json!([{"byteLength": bin.len()}]));
    }
    glb(
        &serde_json::to_vec(&json).expect("JSON values serialise"),
        &bin,
    )
}

/// A GLB of a JSON chunk and an optional binary chunk.
pub fn glb(json: &[u8], bin: &[u8]) -> Vec<u8> {
    let json_len = json.len().div_ceil(4) * 4;
    let bin_len = bin.len().div_ceil(4) * 4;
    let total = 12 + 8 + json_len + if bin.is_empty() { 0 } else { 8 + bin_len };
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"glTF");
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&(json_len as u32).to_le_bytes());
    out.extend_from_slice(&CHUNK_JSON.to_le_bytes());
    out.extend_from_slice(json);
    out.resize(20 + json_len, b' ');
    if !bin.is_empty() {
        out.extend_from_slice(&(bin_len as u32).to_le_bytes());
        out.extend_from_slice(&CHUNK_BIN.to_le_bytes());
        out.extend_from_slice(bin);
        out.resize(total, 0);
    }
    out
}
