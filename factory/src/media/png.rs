//! PNG encoding and the metadata chunks every stored PNG carries.
//!
//! Two text chunks go in after `IHDR`: `parameters`, in the AUTOMATIC1111 format that Civitai and
//! most viewers read, and `art-factory`, a JSON record of everything that made the image.
//! Chunks already there with those keys are replaced, so storing a file twice never stacks them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub const PNG_SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";
pub const PARAMETERS_KEY: &str = "parameters";
pub const ART_FACTORY_KEY: &str = "art-factory";

/// Encodes RGB8 pixels fast (speed matters more than the last few percent of size here).
pub fn encode_rgb(width: u32, height: u32, pixels: &[u8]) -> Result<Vec<u8>, png::EncodingError> {
    encode(width, height, png::ColorType::Rgb, pixels)
}

/// Encodes a picture with its alpha channel, as fast.
pub fn encode_rgba(image: &image::RgbaImage) -> Result<Vec<u8>, png::EncodingError> {
    encode(
        image.width(),
        image.height(),
        png::ColorType::Rgba,
        image.as_raw(),
    )
}

fn encode(
    width: u32,
    height: u32,
    color: png::ColorType,
    pixels: &[u8],
) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::with_capacity(pixels.len() / 2);
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(color);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(pixels)?;
    writer.finish()?;
    Ok(out)
}

/// What made an image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageMetadata {
    pub prompt: String,
    pub negative_prompt: String,
    pub provider: String,
    pub model: String,
    pub seed: i64,
    pub width: u32,
    pub height: u32,
    pub params: Map<String, Value>,
    /// Which value each prompt token chose (empty for a plain prompt).
    #[serde(default)]
    pub bindings: Map<String, Value>,
}

impl ImageMetadata {
    /// The AUTOMATIC1111 `parameters` text: prompt, `Negative prompt:` line, then one line of
    /// `Key: value` pairs, in A1111's order. `Steps` and `Sampler` are always there (Civitai and
    /// `sd-parsers` need them): the provider's figures when known, else marked as the provider's
    /// default rather than guessed. A pinned model (`owner/name:version`) is written as `Model`
    /// and `Model version`, so that readers splitting at colons keep the model.
    pub fn a1111_parameters(&self) -> String {
        const UNKNOWN: &str = "provider default";
        let (mut steps, mut sampler, mut cfg, mut strength) = (None, None, None, None);
        let mut rest: Vec<(String, String)> = Vec::new();
        for (name, value) in &self.params {
            let shown = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            match name.as_str() {
                "num_inference_steps" | "steps" => steps = Some(shown),
                "guidance_scale" | "cfg_scale" | "cfgScale" => cfg = Some(shown),
                "scheduler" | "sampler" => sampler = Some(shown),
                "strength" => strength = Some(shown),
                "width" | "height" | "seed" | "image_size" => {}
                _ => rest.push((title_case(name), shown)),
            }
        }
        let mut pairs: Vec<(String, String)> = vec![
            ("Steps".into(), steps.unwrap_or_else(|| UNKNOWN.into())),
            ("Sampler".into(), sampler.unwrap_or_else(|| UNKNOWN.into())),
        ];
        pairs.extend(cfg.map(|c| ("CFG scale".to_string(), c)));
        pairs.push(("Seed".into(), self.seed.to_string()));
        pairs.push(("Size".into(), format!("{}x{}", self.width, self.height)));
        pairs.extend(model_fields(&self.model));
        pairs.extend(strength.map(|s| ("Denoising strength".to_string(), s)));
        pairs.push(("Provider".into(), self.provider.clone()));
        pairs.extend(rest);
        pairs.push((
            "Version".into(),
            format!("art-factory {}", env!("CARGO_PKG_VERSION")),
        ));
        let line = pairs
            .into_iter()
            .map(|(k, v)| format!("{k}: {}", quote_if_needed(&v)))
            .collect::<Vec<_>>()
            .join(", ");
        let mut text = self.prompt.clone();
        if !self.negative_prompt.is_empty() {
            text.push_str("\nNegative prompt: ");
            text.push_str(&self.negative_prompt);
        }
        text.push('\n');
        text.push_str(&line);
        text
    }
}

/// `Model` without colons (readers split pairs at them), and what the colons separated: a
/// Civitai AIR (`urn:air:sdxl:checkpoint:civitai:101055@128078`) keeps its parts in the name and
/// the whole in `Model AIR`; a pinned Replicate model (`owner/name:version`) its version in
/// `Model version`.
fn model_fields(model: &str) -> Vec<(String, String)> {
    if let Some(air) = model.strip_prefix("urn:air:") {
        return vec![
            ("Model".into(), air.replace(':', " ")),
            ("Model AIR".into(), model.to_string()),
        ];
    }
    match model.split_once(':') {
        Some((name, version)) => vec![
            ("Model".into(), name.to_string()),
            ("Model version".into(), version.to_string()),
        ],
        None => vec![("Model".into(), model.to_string())],
    }
}

fn title_case(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

/// AUTOMATIC1111 quotes values that contain the separators.
fn quote_if_needed(v: &str) -> String {
    if v.contains(',') || v.contains(':') || v.contains('"') {
        serde_json::to_string(v).unwrap_or_default()
    } else {
        v.to_string()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PngChunkError {
    #[error("not a PNG file")]
    NotPng,
    #[error("the PNG is truncated or its chunks are damaged")]
    Damaged,
}

/// Returns `png` with the two metadata chunks set (after `IHDR`, replacing older ones).
pub fn embed_metadata(png: &[u8], meta: &ImageMetadata) -> Result<Vec<u8>, PngChunkError> {
    let chunks = split_chunks(png)?;
    let json = serde_json::to_string(meta).expect("metadata serialises");
    let mut out = Vec::with_capacity(png.len() + json.len() * 2 + 256);
    out.extend_from_slice(PNG_SIGNATURE);
    for chunk in chunks {
        if is_text_chunk_with_key(&chunk, PARAMETERS_KEY)
            || is_text_chunk_with_key(&chunk, ART_FACTORY_KEY)
        {
            continue;
        }
        let is_header = &chunk.kind == b"IHDR";
        write_chunk(&mut out, &chunk.kind, &chunk.data);
        if is_header {
            write_text_chunk(&mut out, PARAMETERS_KEY, &meta.a1111_parameters());
            write_text_chunk(&mut out, ART_FACTORY_KEY, &json);
        }
    }
    Ok(out)
}

/// The size in a PNG's header.
pub fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    if !png.starts_with(PNG_SIGNATURE) || png.get(12..16)? != b"IHDR" {
        return None;
    }
    let side = |at: usize| Some(u32::from_be_bytes(png.get(at..at + 4)?.try_into().ok()?));
    Some((side(16)?, side(20)?))
}

/// Reads a text chunk's value by key (tEXt or uncompressed iTXt).
pub fn read_text(png: &[u8], key: &str) -> Option<String> {
    split_chunks(png)
        .ok()?
        .into_iter()
        .find_map(|c| text_value(&c, key))
}

struct Chunk {
    kind: [u8; 4],
    data: Vec<u8>,
}

fn split_chunks(png: &[u8]) -> Result<Vec<Chunk>, PngChunkError> {
    let body = png
        .strip_prefix(PNG_SIGNATURE.as_slice())
        .ok_or(PngChunkError::NotPng)?;
    let mut chunks = Vec::new();
    let mut at = 0;
    while at < body.len() {
        let header = body.get(at..at + 8).ok_or(PngChunkError::Damaged)?;
        let len = u32::from_be_bytes(header[..4].try_into().unwrap()) as usize;
        let kind: [u8; 4] = header[4..8].try_into().unwrap();
        let data = body
            .get(at + 8..at + 8 + len)
            .ok_or(PngChunkError::Damaged)?;
        body.get(at + 8 + len..at + 12 + len)
            .ok_or(PngChunkError::Damaged)?;
        chunks.push(Chunk {
            kind,
            data: data.to_vec(),
        });
        at += 12 + len;
        if &kind == b"IEND" {
            break;
        }
    }
    if chunks.first().map(|c| &c.kind) != Some(b"IHDR") {
        return Err(PngChunkError::Damaged);
    }
    Ok(chunks)
}

fn write_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

/// tEXt when the text is Latin-1, uncompressed iTXt (UTF-8) otherwise.
fn write_text_chunk(out: &mut Vec<u8>, key: &str, text: &str) {
    let mut data = key.as_bytes().to_vec();
    data.push(0);
    if text.chars().all(|c| (c as u32) < 256) {
        data.extend(text.chars().map(|c| c as u8));
        write_chunk(out, b"tEXt", &data);
    } else {
        // compression flag 0, method 0, empty language tag, empty translated keyword
        data.extend_from_slice(&[0, 0, 0, 0]);
        data.extend_from_slice(text.as_bytes());
        write_chunk(out, b"iTXt", &data);
    }
}

fn is_text_chunk_with_key(chunk: &Chunk, key: &str) -> bool {
    (&chunk.kind == b"tEXt" || &chunk.kind == b"iTXt" || &chunk.kind == b"zTXt")
        && chunk.data.split(|b| *b == 0).next() == Some(key.as_bytes())
}

fn text_value(chunk: &Chunk, key: &str) -> Option<String> {
    if !is_text_chunk_with_key(chunk, key) {
        return None;
    }
    let rest = &chunk.data[key.len() + 1..];
    match &chunk.kind {
        b"tEXt" => Some(rest.iter().map(|b| *b as char).collect()),
        b"iTXt" => {
            let (flag, rest) = rest.split_first()?;
            if *flag != 0 {
                return None;
            }
            let rest = rest.get(1..)?; // compression method
            let lang_end = rest.iter().position(|b| *b == 0)?;
            let rest = &rest[lang_end + 1..];
            let tkey_end = rest.iter().position(|b| *b == 0)?;
            String::from_utf8(rest[tkey_end + 1..].to_vec()).ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(prompt: &str) -> ImageMetadata {
        ImageMetadata {
            prompt: prompt.into(),
            negative_prompt: "blurry, low quality".into(),
            provider: "local".into(),
            model: "aurora".into(),
            seed: 1234,
            width: 8,
            height: 4,
            params:
                json!({"num_inference_steps": 4, "guidance_scale": 3.5, "output_format": "png"})
                    .as_object()
                    .unwrap()
                    .clone(),
            bindings: Map::new(),
        }
    }

    #[test]
    fn the_a1111_parameters_text_has_prompt_negative_prompt_and_settings_lines() {
        let text = meta("a fox, at dusk").a1111_parameters();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "a fox, at dusk");
        assert_eq!(lines[1], "Negative prompt: blurry, low quality");
        assert!(
            lines[2].starts_with("Steps: 4, Sampler: provider default, CFG scale: 3.5, Seed: 1234, Size: 8x4, Model: aurora, Provider: local, Output format: png, Version: art-factory"),
            "{}",
            lines[2]
        );
    }

    #[test]
    fn embedded_chunks_decode_and_replace_older_ones() {
        let png = encode_rgb(8, 4, &[200u8; 8 * 4 * 3]).unwrap();
        let once = embed_metadata(&png, &meta("a fox")).unwrap();
        let twice = embed_metadata(&once, &meta("a fox")).unwrap();
        assert_eq!(once, twice, "re-embedding is idempotent");
        let decoded = image::load_from_memory(&once).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (8, 4));
        let json: ImageMetadata =
            serde_json::from_str(&read_text(&once, ART_FACTORY_KEY).unwrap()).unwrap();
        assert_eq!(json, meta("a fox"));
        assert!(read_text(&once, PARAMETERS_KEY)
            .unwrap()
            .starts_with("a fox\nNegative prompt:"));
    }

    #[test]
    fn non_latin_prompts_are_stored_as_utf8_itxt() {
        let png = encode_rgb(8, 4, &[0u8; 96]).unwrap();
        let with = embed_metadata(&png, &meta("夜の狐 🦊")).unwrap();
        assert!(read_text(&with, PARAMETERS_KEY)
            .unwrap()
            .starts_with("夜の狐 🦊\n"));
        assert!(image::load_from_memory(&with).is_ok());
    }

    #[test]
    fn damaged_files_are_refused() {
        assert!(matches!(
            embed_metadata(b"GIF89a", &meta("x")),
            Err(PngChunkError::NotPng)
        ));
        let png = encode_rgb(8, 4, &[0u8; 96]).unwrap();
        assert!(matches!(
            embed_metadata(&png[..30], &meta("x")),
            Err(PngChunkError::Damaged)
        ));
    }
}
