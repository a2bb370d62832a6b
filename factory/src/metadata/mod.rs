//! Generation metadata in image files made by other tools (and by this one): which tool wrote
//! it, and the prompt, negative prompt, seed, model, size and parameters it recorded.
//!
//! [`read`] looks in the file's containers ([`containers`]) and hands each text to the format
//! that owns it, most specific first: Art Factory's own record, ComfyUI's graphs, InvokeAI,
//! NovelAI, the JSON `parameters` of SwarmUI and Fooocus, then the AUTOMATIC1111 text (also in
//! EXIF). [`read_stealth`] looks in the pixels, for files with nothing else.

pub mod a1111;
pub mod comfy;
pub mod containers;
pub mod tools;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::media::ImageFormat;

/// The tool that wrote a file's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tool {
    Automatic1111,
    ComfyUi,
    InvokeAi,
    Fooocus,
    NovelAi,
    SwarmUi,
    ArtFactory,
}

impl Tool {
    pub fn name(self) -> &'static str {
        match self {
            Tool::Automatic1111 => "AUTOMATIC1111",
            Tool::ComfyUi => "ComfyUI",
            Tool::InvokeAi => "InvokeAI",
            Tool::Fooocus => "Fooocus",
            Tool::NovelAi => "NovelAI",
            Tool::SwarmUi => "SwarmUI",
            Tool::ArtFactory => "Art Factory",
        }
    }
}

/// What a file says about how it was made. Unknown fields are empty, never guessed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Generation {
    pub prompt: String,
    pub negative_prompt: String,
    pub seed: Option<i64>,
    pub model: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Every other setting, under snake_case names (ComfyUI's graphs whole).
    pub params: Map<String, Value>,
    /// Which value each prompt token chose (Art Factory's files only).
    pub bindings: Map<String, Value>,
    /// The provider that made it (Art Factory's files only; others are "imported: <tool>").
    pub provider: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub tool: Tool,
    pub generation: Generation,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error("{0}")]
    Damaged(&'static str),
    #[error(
        "its text chunk “{key}” is {:.1} MB, over the {} MB this app reads",
        *.bytes as f64 / 1_048_576.0,
        containers::MAX_TEXT_BYTES / 1_048_576
    )]
    TextTooLarge { key: String, bytes: usize },
}

/// The metadata a file carries in its containers; `Ok(None)` when it has none this app reads.
/// Does not decode pixels.
pub fn read(bytes: &[u8]) -> Result<Option<Found>, MetadataError> {
    let texts: Vec<(String, String)> = match ImageFormat::sniff(bytes) {
        Some(ImageFormat::Png) => containers::png_texts(bytes)?,
        Some(ImageFormat::Jpeg) => {
            let (exif, comment) = containers::jpeg_segments(bytes);
            let mut texts = Vec::new();
            if let Some(text) = exif.and_then(containers::exif_text) {
                texts.push(("parameters".to_string(), text));
            }
            if let Some(comment) = comment {
                texts.push(("comment".to_string(), comment));
            }
            texts
        }
        Some(ImageFormat::Webp) => containers::webp_exif(bytes)
            .and_then(containers::exif_text)
            .map(|t| vec![("parameters".to_string(), t)])
            .unwrap_or_default(),
        // Art Factory writes no settings into an OpenEXR's header (they are in the database
        // and the project's export).
        Some(ImageFormat::Exr) => Vec::new(),
        None => {
            return Err(MetadataError::Damaged(
                "it is not a PNG, JPEG, WebP or OpenEXR image",
            ))
        }
    };
    Ok(from_texts(&texts))
}

/// Reads text hidden in the pixels (RGBA, row by row) as AUTOMATIC1111 `parameters`.
pub fn read_stealth(width: u32, height: u32, rgba: &[u8]) -> Option<Found> {
    let text = containers::stealth_text(width, height, rgba)?;
    from_texts(&[("parameters".to_string(), text)])
}

/// Picks the format from the texts' keys and contents.
pub fn from_texts(texts: &[(String, String)]) -> Option<Found> {
    let get = |key: &str| {
        texts
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    };
    let found = |tool, generation: Option<Generation>| {
        generation.map(|generation| Found { tool, generation })
    };
    if let Some(g) = get("art-factory").and_then(tools::art_factory) {
        return found(Tool::ArtFactory, Some(g));
    }
    if get("prompt").is_some() || get("workflow").is_some() {
        if let Some(g) = comfy::parse(get("prompt"), get("workflow")) {
            return found(Tool::ComfyUi, Some(g));
        }
    }
    if let Some(g) = get("invokeai_metadata").and_then(tools::invokeai) {
        return found(Tool::InvokeAi, Some(g));
    }
    if let Some(g) = get("sd-metadata").and_then(tools::sd_metadata) {
        return found(Tool::InvokeAi, Some(g));
    }
    if let Some(g) = get("Dream").and_then(tools::dream) {
        return found(Tool::InvokeAi, Some(g));
    }
    if let Some(comment) = get("Comment") {
        let novelai =
            get("Software").is_some_and(|s| s.contains("NovelAI")) || comment.contains("\"uc\"");
        if novelai {
            if let Some(g) = tools::novelai(comment, get("Description"), get("Source")) {
                return found(Tool::NovelAi, Some(g));
            }
        }
    }
    for key in ["parameters", "comment"] {
        let Some(text) = get(key) else { continue };
        let text = text.trim_start();
        if text.starts_with('{') {
            if let Some(g) = tools::swarmui(text) {
                return found(Tool::SwarmUi, Some(g));
            }
            if let Some(g) = tools::fooocus(text) {
                return found(Tool::Fooocus, Some(g));
            }
        } else if let Some(mut g) = a1111::parse(text) {
            if g.model.is_none() {
                g.model = a1111::model_or_hash(&g.params);
            }
            // Fooocus can write the A1111 form; its scheme chunk says so.
            let tool = if get("fooocus_scheme").is_some() {
                Tool::Fooocus
            } else {
                Tool::Automatic1111
            };
            return found(tool, Some(g));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_with(texts: &[(&str, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, 2, 2);
        encoder.set_color(png::ColorType::Rgb);
        for (k, v) in texts {
            if v.is_ascii() {
                encoder
                    .add_text_chunk(k.to_string(), v.to_string())
                    .unwrap();
            } else {
                encoder
                    .add_itxt_chunk(k.to_string(), v.to_string())
                    .unwrap();
            }
        }
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&[0; 12]).unwrap();
        writer.finish().unwrap();
        out
    }

    /// Text chunks, the tool they belong to, and the prompt read from them.
    type Case = (Vec<(&'static str, &'static str)>, Tool, &'static str);

    #[test]
    fn each_tool_is_recognised_by_its_chunks() {
        let cases: Vec<Case> = vec![
            (
                vec![("parameters", "a fox\nSteps: 20, Sampler: Euler, Seed: 1")],
                Tool::Automatic1111,
                "a fox",
            ),
            (
                vec![
                    ("parameters", "a fox\nSteps: 20, Seed: 1"),
                    ("fooocus_scheme", "a1111"),
                ],
                Tool::Fooocus,
                "a fox",
            ),
            (
                vec![(
                    "prompt",
                    r#"{"3": {"class_type": "KSampler", "inputs": {"seed": 5, "positive": ["6", 0]}}, "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a comfy fox"}}}"#,
                )],
                Tool::ComfyUi,
                "a comfy fox",
            ),
            (
                vec![(
                    "invokeai_metadata",
                    r#"{"positive_prompt": "an invoked fox", "seed": 3}"#,
                )],
                Tool::InvokeAi,
                "an invoked fox",
            ),
            (
                vec![("Dream", r#""a dreamt fox" -S 3"#)],
                Tool::InvokeAi,
                "a dreamt fox",
            ),
            (
                vec![
                    ("Software", "NovelAI"),
                    ("Description", "a novel fox"),
                    ("Comment", r#"{"steps": 28, "seed": 4, "uc": "bad"}"#),
                ],
                Tool::NovelAi,
                "a novel fox",
            ),
            (
                vec![(
                    "parameters",
                    r#"{"sui_image_params": {"prompt": "a swarm fox", "seed": 5}}"#,
                )],
                Tool::SwarmUi,
                "a swarm fox",
            ),
            (
                vec![("parameters", "日本の狐\nSteps: 20, Seed: 1")],
                Tool::Automatic1111,
                "日本の狐",
            ),
        ];
        for (texts, tool, prompt) in cases {
            let found = read(&png_with(&texts))
                .unwrap()
                .unwrap_or_else(|| panic!("{texts:?}"));
            assert_eq!(found.tool, tool, "{texts:?}");
            assert_eq!(found.generation.prompt, prompt);
        }
        assert_eq!(read(&png_with(&[("Software", "GIMP")])).unwrap(), None);
    }

    #[test]
    fn text_after_the_image_data_and_compressed_text_are_read() {
        let mut png = png_with(&[]);
        // Move IEND to the end again after appending a zTXt chunk before it.
        let iend = png.len() - 12;
        let mut chunk = Vec::new();
        let mut data = b"parameters\0\0".to_vec();
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut z, b"a late fox\nSteps: 9, Seed: 2").unwrap();
        data.extend(z.finish().unwrap());
        chunk.extend((data.len() as u32).to_be_bytes());
        chunk.extend(b"zTXt");
        chunk.extend(&data);
        chunk.extend([0; 4]); // the CRC is not checked for text
        png.splice(iend..iend, chunk);
        let found = read(&png).unwrap().unwrap();
        assert_eq!(found.generation.prompt, "a late fox");
        assert_eq!(found.generation.seed, Some(2));
    }

    #[test]
    fn damaged_files_are_errors_not_panics() {
        let png = png_with(&[("parameters", "a fox\nSteps: 1, Seed: 1")]);
        assert!(read(&png[..40]).is_err(), "truncated");
        assert!(read(b"").is_err());
        assert!(read(b"GIF89a").is_err());
    }

    proptest::proptest! {
        #[test]
        fn no_bytes_make_a_reader_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let _ = read(&bytes);
            let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
            png.extend(&bytes);
            let _ = read(&png);
            let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1];
            jpeg.extend(&bytes);
            let _ = read(&jpeg);
            let mut webp = b"RIFF\0\0\0\0WEBPEXIF".to_vec();
            webp.extend(&bytes);
            let _ = read(&webp);
            let _ = containers::exif_text(&bytes);
            let text = String::from_utf8_lossy(&bytes);
            let _ = a1111::parse(&text);
            let _ = comfy::parse(Some(&text), Some(&text));
            let _ = tools::dream(&text);
        }

        #[test]
        fn parameters_text_never_panics(text in ".{0,300}") {
            let _ = a1111::parse(&format!("{text}\nSteps: {text}"));
            let _ = a1111::pairs(&text);
        }
    }
}
