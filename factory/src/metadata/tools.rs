//! The JSON and command-line formats: InvokeAI (`invokeai_metadata`, the older `sd-metadata`
//! and `Dream`), Fooocus (`parameters` JSON, with `fooocus_scheme`), NovelAI (`Comment` JSON
//! with `Software: NovelAI`), SwarmUI (`sui_image_params`) and Art Factory's own `art-factory`.

use serde_json::{Map, Value};

use super::a1111::{snake_case, typed};
use super::Generation;

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

fn int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_u64().map(|u| u as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn size(v: Option<&Value>) -> Option<u32> {
    int(v).and_then(|n| u32::try_from(n).ok())
}

/// Every field not read into a column, under a snake_case name.
fn rest(object: &Map<String, Value>, taken: &[&str]) -> Map<String, Value> {
    object
        .iter()
        .filter(|(k, _)| !taken.contains(&k.as_str()))
        .map(|(k, v)| (snake_case(k), v.clone()))
        .collect()
}

/// InvokeAI 3+ `invokeai_metadata`.
pub fn invokeai(json: &str) -> Option<Generation> {
    let m: Map<String, Value> = serde_json::from_str(json).ok()?;
    let model = m.get("model").and_then(|model| match model {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o
            .get("name")
            .or_else(|| o.get("model_name"))
            .and_then(Value::as_str)
            .map(str::to_string),
        _ => None,
    });
    Some(Generation {
        prompt: text(m.get("positive_prompt")),
        negative_prompt: text(m.get("negative_prompt")),
        seed: int(m.get("seed")),
        model,
        width: size(m.get("width")),
        height: size(m.get("height")),
        params: rest(
            &m,
            &[
                "positive_prompt",
                "negative_prompt",
                "seed",
                "width",
                "height",
            ],
        ),
        ..Generation::default()
    })
}

/// InvokeAI 2's `sd-metadata`: `{model_weights, image: {prompt: [{prompt, weight}], seed, ...}}`.
pub fn sd_metadata(json: &str) -> Option<Generation> {
    let m: Map<String, Value> = serde_json::from_str(json).ok()?;
    let image = m.get("image")?.as_object()?;
    let prompt = match image.get("prompt") {
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("prompt").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        other => text(other),
    };
    // The negative part is written in [brackets] within the prompt.
    let (prompt, negative) = split_brackets(&prompt);
    let mut params = rest(image, &["prompt", "seed", "width", "height"]);
    params.extend(rest(&m, &["image", "model_weights"]));
    Some(Generation {
        prompt,
        negative_prompt: negative,
        seed: int(image.get("seed")),
        model: m
            .get("model_weights")
            .and_then(Value::as_str)
            .map(str::to_string),
        width: size(image.get("width")),
        height: size(image.get("height")),
        params,
        ..Generation::default()
    })
}

/// `[negative words]` inside an InvokeAI prompt, taken out.
fn split_brackets(prompt: &str) -> (String, String) {
    let mut positive = String::new();
    let mut negative = Vec::new();
    let mut rest = prompt;
    while let Some(open) = rest.find('[') {
        positive.push_str(&rest[..open]);
        match rest[open..].find(']') {
            Some(close) => {
                negative.push(rest[open + 1..open + close].trim().to_string());
                rest = &rest[open + close + 1..];
            }
            None => {
                positive.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    positive.push_str(rest);
    (
        positive.split_whitespace().collect::<Vec<_>>().join(" "),
        negative.join(", "),
    )
}

/// InvokeAI 1's `Dream`: `"a prompt [negative]" -s 50 -S 42 -W 512 -H 512 -C 7.5 -A k_lms`.
pub fn dream(line: &str) -> Option<Generation> {
    let line = line.trim();
    let (quoted, switches) = if let Some(body) = line.strip_prefix('"') {
        let end = body.rfind('"')?;
        (&body[..end], &body[end + 1..])
    } else {
        return None;
    };
    let (prompt, negative) = split_brackets(quoted);
    let mut g = Generation {
        prompt,
        negative_prompt: negative,
        ..Generation::default()
    };
    let words: Vec<&str> = switches.split_whitespace().collect();
    for pair in words.windows(2) {
        let value = pair[1];
        match pair[0] {
            "-S" | "--seed" => g.seed = value.parse().ok(),
            "-W" | "--width" => g.width = value.parse().ok(),
            "-H" | "--height" => g.height = value.parse().ok(),
            "-s" | "--steps" => drop(g.params.insert("steps".into(), typed(value))),
            "-C" | "--cfg_scale" => drop(g.params.insert("cfg_scale".into(), typed(value))),
            "-A" | "--sampler" => drop(g.params.insert("sampler".into(), typed(value))),
            "-m" | "--model" => g.model = Some(value.to_string()),
            _ => {}
        }
    }
    Some(g)
}

/// Fooocus's `parameters` JSON: lower-case keys in 2.2+, title case before.
pub fn fooocus(json: &str) -> Option<Generation> {
    let m: Map<String, Value> = serde_json::from_str(json).ok()?;
    let get = |a: &str, b: &str| m.get(a).or_else(|| m.get(b));
    if get("prompt", "Prompt").is_none() || get("base_model", "Base Model").is_none() {
        return None;
    }
    // "(1024, 1024)" or "1024×1024"
    let resolution = text(get("resolution", "Resolution"));
    let numbers: Vec<u32> = resolution
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    Some(Generation {
        prompt: text(get("prompt", "Prompt")),
        negative_prompt: text(get("negative_prompt", "Negative Prompt")),
        seed: int(get("seed", "Seed")),
        model: get("base_model", "Base Model")
            .and_then(Value::as_str)
            .map(str::to_string),
        width: numbers.first().copied(),
        height: numbers.get(1).copied(),
        params: rest(
            &m,
            &[
                "prompt",
                "Prompt",
                "negative_prompt",
                "Negative Prompt",
                "seed",
                "Seed",
                "base_model",
                "Base Model",
            ],
        ),
        ..Generation::default()
    })
}

/// NovelAI: the prompt in `Description`, the settings in `Comment` (`uc` is the negative), the
/// model in `Source`.
pub fn novelai(
    comment: &str,
    description: Option<&str>,
    source: Option<&str>,
) -> Option<Generation> {
    let m: Map<String, Value> = serde_json::from_str(comment).ok()?;
    let prompt = match m.get("prompt") {
        Some(Value::String(p)) => p.clone(),
        _ => description.unwrap_or_default().to_string(),
    };
    Some(Generation {
        prompt,
        negative_prompt: text(m.get("uc")),
        seed: int(m.get("seed")),
        model: source.map(str::to_string),
        width: size(m.get("width")),
        height: size(m.get("height")),
        params: rest(&m, &["prompt", "uc", "seed", "width", "height"]),
        ..Generation::default()
    })
}

/// SwarmUI: `{"sui_image_params": {prompt, negativeprompt, model, seed, ...}, "sui_extra_data"}`.
pub fn swarmui(json: &str) -> Option<Generation> {
    let root: Map<String, Value> = serde_json::from_str(json).ok()?;
    let m = root.get("sui_image_params")?.as_object()?;
    let mut params = rest(
        m,
        &[
            "prompt",
            "negativeprompt",
            "seed",
            "model",
            "width",
            "height",
        ],
    );
    if let Some(extra) = root.get("sui_extra_data") {
        params.insert("sui_extra_data".into(), extra.clone());
    }
    Some(Generation {
        prompt: text(m.get("prompt")),
        negative_prompt: text(m.get("negativeprompt")),
        seed: int(m.get("seed")),
        model: m.get("model").and_then(Value::as_str).map(str::to_string),
        width: size(m.get("width")),
        height: size(m.get("height")),
        params,
        ..Generation::default()
    })
}

/// Art Factory's own record: read back exactly as it was written.
pub fn art_factory(json: &str) -> Option<Generation> {
    let m: crate::media::png::ImageMetadata = serde_json::from_str(json).ok()?;
    Some(Generation {
        prompt: m.prompt,
        negative_prompt: m.negative_prompt,
        seed: Some(m.seed),
        model: Some(m.model),
        width: Some(m.width),
        height: Some(m.height),
        params: m.params,
        bindings: m.bindings,
        provider: Some(m.provider),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn invokeai_metadata_of_version_3_and_4() {
        let g = invokeai(
            &json!({"generation_mode": "sdxl_txt2img", "positive_prompt": "a fox, autumn", "negative_prompt": "blurry",
                    "width": 1024, "height": 1024, "seed": 2840583958_u64, "steps": 30, "cfg_scale": 7.5, "scheduler": "dpmpp_2m_k",
                    "model": {"name": "juggernautXL", "base": "sdxl", "key": "a1b2"}})
            .to_string(),
        )
        .unwrap();
        assert_eq!(
            (g.prompt.as_str(), g.negative_prompt.as_str()),
            ("a fox, autumn", "blurry")
        );
        assert_eq!(g.seed, Some(2840583958));
        assert_eq!(g.model.as_deref(), Some("juggernautXL"));
        assert_eq!(g.params["scheduler"], json!("dpmpp_2m_k"));
    }

    #[test]
    fn invokeai_2_sd_metadata_and_dream() {
        let g = sd_metadata(
            &json!({"model": "stable diffusion", "model_weights": "stable-diffusion-1.5", "app_id": "invoke-ai/InvokeAI",
                    "image": {"prompt": [{"prompt": "a castle [fog, haze] at night", "weight": 1.0}], "steps": 50, "cfg_scale": 7.5,
                              "seed": 42, "width": 512, "height": 768, "sampler": "k_lms", "type": "txt2img"}})
            .to_string(),
        )
        .unwrap();
        assert_eq!(
            (g.prompt.as_str(), g.negative_prompt.as_str()),
            ("a castle at night", "fog, haze")
        );
        assert_eq!(
            (g.seed, g.width, g.height),
            (Some(42), Some(512), Some(768))
        );
        assert_eq!(g.model.as_deref(), Some("stable-diffusion-1.5"));

        let g =
            dream(r#""a castle [fog] at night" -s 50 -S 1234 -W 640 -H 448 -C 7.5 -A k_euler_a"#)
                .unwrap();
        assert_eq!(
            (g.prompt.as_str(), g.negative_prompt.as_str()),
            ("a castle at night", "fog")
        );
        assert_eq!(
            (g.seed, g.width, g.height),
            (Some(1234), Some(640), Some(448))
        );
        assert_eq!(g.params["sampler"], json!("k_euler_a"));
    }

    #[test]
    fn fooocus_in_both_key_styles() {
        let new = json!({"prompt": "a fox", "negative_prompt": "", "resolution": "(1152, 896)", "seed": "12345",
                         "base_model": "juggernautXL_v8Rundiffusion", "sampler": "dpmpp_2m_sde_gpu", "guidance_scale": 4,
                         "styles": "['Fooocus V2', 'Fooocus Enhance']", "version": "Fooocus v2.5.5", "metadata_scheme": "fooocus"});
        let g = fooocus(&new.to_string()).unwrap();
        assert_eq!(
            (g.seed, g.width, g.height),
            (Some(12345), Some(1152), Some(896))
        );
        assert_eq!(g.model.as_deref(), Some("juggernautXL_v8Rundiffusion"));
        assert_eq!(g.params["sampler"], json!("dpmpp_2m_sde_gpu"));
        let old = json!({"Prompt": "a cat", "Negative Prompt": "ugly", "Resolution": "(1024, 1024)", "Seed": 7, "Base Model": "sd_xl_base_1.0.safetensors", "Sharpness": 2});
        let g = fooocus(&old.to_string()).unwrap();
        assert_eq!(
            (g.prompt.as_str(), g.negative_prompt.as_str(), g.seed),
            ("a cat", "ugly", Some(7))
        );
        assert_eq!(g.params["sharpness"], json!(2));
        assert!(fooocus(&json!({"sui_image_params": {}}).to_string()).is_none());
    }

    #[test]
    fn novelai_and_swarmui() {
        let comment = json!({"prompt": "1girl, cherry blossoms", "steps": 28, "height": 1216, "width": 832, "scale": 5,
                             "seed": 3407, "sampler": "k_euler_ancestral", "uc": "lowres, bad anatomy", "n_samples": 1});
        let g = novelai(
            &comment.to_string(),
            Some("1girl, cherry blossoms"),
            Some("NovelAI Diffusion V3 4F6C2F1B"),
        )
        .unwrap();
        assert_eq!(g.negative_prompt, "lowres, bad anatomy");
        assert_eq!(
            (g.seed, g.width, g.height),
            (Some(3407), Some(832), Some(1216))
        );
        assert_eq!(g.model.as_deref(), Some("NovelAI Diffusion V3 4F6C2F1B"));
        assert_eq!(g.params["scale"], json!(5));

        let swarm = json!({"sui_image_params": {"prompt": "a dragon", "negativeprompt": "text", "model": "flux1-dev",
                                               "seed": 99, "steps": 20, "cfgscale": 1, "width": 1024, "height": 768},
                           "sui_extra_data": {"date": "2024-11-02", "generation_time": "4.2 s"}});
        let g = swarmui(&swarm.to_string()).unwrap();
        assert_eq!(
            (g.prompt.as_str(), g.negative_prompt.as_str()),
            ("a dragon", "text")
        );
        assert_eq!((g.seed, g.model.as_deref()), (Some(99), Some("flux1-dev")));
        assert_eq!(g.params["cfgscale"], json!(1));
        assert_eq!(g.params["sui_extra_data"]["date"], json!("2024-11-02"));
    }
}
