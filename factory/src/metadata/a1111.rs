//! The AUTOMATIC1111 `parameters` text (also written by Forge, SD.Next, Civitai and, in
//! EXIF, for JPEG and WebP): the prompt (any number of lines, `BREAK` and `<lora:…>` kept as
//! written), an optional `Negative prompt:` (also multi-line), and a last line of
//! `Key: value` pairs, where a value holding commas or colons is double-quoted JSON.

use serde_json::{Map, Value};

use super::Generation;

/// Reads a `parameters` text; `None` when it has no settings line (it is then not A1111's).
pub fn parse(text: &str) -> Option<Generation> {
    let text = text.trim_end_matches(['\0', '\n', '\r', ' ']);
    let (body, settings) = match text.rfind('\n') {
        Some(at) if looks_like_settings(&text[at + 1..]) => (&text[..at], &text[at + 1..]),
        None if looks_like_settings(text) => ("", text),
        _ => return None,
    };
    let (prompt, negative) = match find_negative(body) {
        Some((before, after)) => (before, after),
        None => (body, ""),
    };
    let mut generation = Generation {
        prompt: prompt.trim().to_string(),
        negative_prompt: negative.trim().to_string(),
        ..Generation::default()
    };
    for (key, value) in pairs(settings) {
        apply(&mut generation, &key, value);
    }
    Some(generation)
}

/// The settings line starts with a known key (`Steps:` in every A1111 version).
fn looks_like_settings(line: &str) -> bool {
    let line = line.trim_start();
    ["Steps: ", "Sampler: ", "Seed: ", "Size: ", "Model: "]
        .iter()
        .any(|k| line.starts_with(k))
        && line.contains(": ")
}

/// Splits at the `Negative prompt:` that starts a line.
fn find_negative(body: &str) -> Option<(&str, &str)> {
    const MARK: &str = "Negative prompt:";
    if let Some(rest) = body.strip_prefix(MARK) {
        return Some(("", rest));
    }
    let at = body.find(&format!("\n{MARK}"))?;
    Some((&body[..at], &body[at + 1 + MARK.len()..]))
}

/// `Key: value` pairs separated by commas; a value in double quotes is JSON and may hold
/// commas and colons.
pub fn pairs(line: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = line.trim();
    while !rest.is_empty() {
        let Some(colon) = rest.find(':') else { break };
        let key = rest[..colon]
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_string();
        rest = rest[colon + 1..].trim_start();
        let value = if rest.starts_with('"') {
            let end = closing_quote(rest).unwrap_or(rest.len());
            let quoted = &rest[..end];
            rest = &rest[end..];
            serde_json::from_str::<String>(quoted)
                .unwrap_or_else(|_| quoted.trim_matches('"').to_string())
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            let value = rest[..end].trim().to_string();
            rest = &rest[end..];
            value
        };
        rest = rest.trim_start().trim_start_matches(',').trim_start();
        if !key.is_empty() {
            out.push((key, value));
        }
    }
    out
}

/// Where a JSON string starting at 0 ends (just after its closing quote).
fn closing_quote(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(i + 1),
            _ => escaped = false,
        }
    }
    None
}

fn apply(generation: &mut Generation, key: &str, value: String) {
    match key {
        "Seed" => generation.seed = value.parse().ok(),
        "Size" => {
            if let Some((w, h)) = value.split_once('x') {
                generation.width = w.trim().parse().ok();
                generation.height = h.trim().parse().ok();
            }
        }
        "Model" => generation.model = Some(value),
        _ => {
            generation.params.insert(snake_case(key), typed(&value));
        }
    }
}

/// `CFG scale` -> `cfg_scale`, `Lora hashes` -> `lora_hashes`.
pub fn snake_case(key: &str) -> String {
    key.trim()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect::<String>()
        .split('_')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

/// A number where the text is one, else the text.
pub fn typed(value: &str) -> Value {
    if let Ok(i) = value.parse::<i64>() {
        return Value::from(i);
    }
    match value.parse::<f64>() {
        Ok(f) if f.is_finite() => Value::from(f),
        _ => Value::String(value.to_string()),
    }
}

/// The model a generation names, when the settings give only its hash.
pub fn model_or_hash(params: &Map<String, Value>) -> Option<String> {
    params
        .get("model_hash")
        .and_then(Value::as_str)
        .map(|h| format!("hash {h}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// As AUTOMATIC1111 1.10 writes it: a multi-line prompt with a LoRA and BREAK, a
    /// multi-line negative prompt, and quoted values holding commas and colons.
    const FULL: &str = "masterpiece, a red fox in the snow, <lora:detail_tweaker:0.8>\nBREAK\nsoft light, (bokeh:1.2)\nNegative prompt: blurry, lowres,\nbad hands\nSteps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 3141592653, Size: 832x1216, Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Denoising strength: 0.35, Clip skip: 2, Hires upscale: 1.5, Lora hashes: \"detail_tweaker: 8d0c1a2b3c4d, add_more: 0a1b2c3d4e5f\", TI hashes: \"easynegative: c74b4e810b03\", Version: v1.10.1";

    #[test]
    fn a_full_parameters_text_gives_every_field() {
        let g = parse(FULL).unwrap();
        assert_eq!(
            g.prompt,
            "masterpiece, a red fox in the snow, <lora:detail_tweaker:0.8>\nBREAK\nsoft light, (bokeh:1.2)"
        );
        assert_eq!(g.negative_prompt, "blurry, lowres,\nbad hands");
        assert_eq!(g.seed, Some(3141592653));
        assert_eq!((g.width, g.height), (Some(832), Some(1216)));
        assert_eq!(g.model.as_deref(), Some("sd_xl_base_1.0"));
        assert_eq!(g.params["steps"], json!(28));
        assert_eq!(g.params["sampler"], json!("DPM++ 2M"));
        assert_eq!(g.params["schedule_type"], json!("Karras"));
        assert_eq!(g.params["cfg_scale"], json!(6.5));
        assert_eq!(g.params["model_hash"], json!("31e35c80fc"));
        assert_eq!(
            g.params["lora_hashes"],
            json!("detail_tweaker: 8d0c1a2b3c4d, add_more: 0a1b2c3d4e5f")
        );
        assert_eq!(g.params["ti_hashes"], json!("easynegative: c74b4e810b03"));
        assert_eq!(g.params["version"], json!("v1.10.1"));
    }

    #[test]
    fn no_negative_prompt_and_an_empty_prompt_are_fine() {
        let g = parse("a cat\nSteps: 20, Sampler: Euler a, Seed: 5, Size: 512x512").unwrap();
        assert_eq!(
            (g.prompt.as_str(), g.negative_prompt.as_str()),
            ("a cat", "")
        );
        let g = parse("Steps: 20, Seed: 5").unwrap();
        assert_eq!(g.prompt, "");
        assert_eq!(g.seed, Some(5));
        let g = parse("Negative prompt: ugly\nSteps: 20, Seed: 5").unwrap();
        assert_eq!(
            (g.prompt.as_str(), g.negative_prompt.as_str()),
            ("", "ugly")
        );
    }

    #[test]
    fn text_without_a_settings_line_is_not_a1111() {
        assert!(parse("just a caption").is_none());
        assert!(parse("").is_none());
        assert!(parse("{\"prompt\": \"a fox\"}").is_none());
    }

    #[test]
    fn quoted_values_keep_escaped_quotes() {
        let p = pairs(r#"Steps: 4, Note: "say \"hi\", then: go", Seed: 1"#);
        assert_eq!(
            p[1],
            ("Note".to_string(), "say \"hi\", then: go".to_string())
        );
        assert_eq!(p[2], ("Seed".to_string(), "1".to_string()));
    }
}
