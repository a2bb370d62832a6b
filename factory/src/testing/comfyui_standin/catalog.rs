//! The stand-in's node catalog (`/object_info`), the workflows the tests import, and ComfyUI's
//! checks of a queued prompt.

use serde_json::{json, Map, Value};

pub const CHECKPOINTS: [&str; 2] = [
    "v1-5-pruned-emaonly.safetensors",
    "dreamshaper_8.safetensors",
];
pub const SAMPLERS: [&str; 4] = ["euler", "euler_ancestral", "dpmpp_2m", "ddim"];

/// The text-to-image workflow ComfyUI ships as its default, in API format.
pub fn default_workflow() -> Value {
    json!({
        "3": {"class_type": "KSampler", "_meta": {"title": "KSampler"},
              "inputs": {"seed": 156680208700286u64, "steps": 20, "cfg": 8.0,
                         "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0,
                         "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0],
                         "latent_image": ["5", 0]}},
        "4": {"class_type": "CheckpointLoaderSimple", "_meta": {"title": "Load Checkpoint"},
              "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}},
        "5": {"class_type": "EmptyLatentImage", "_meta": {"title": "Empty Latent Image"},
              "inputs": {"width": 512, "height": 512, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "_meta": {"title": "CLIP Text Encode (Prompt)"},
              "inputs": {"text": "beautiful scenery nature glass bottle landscape", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "_meta": {"title": "CLIP Text Encode (Prompt)"},
              "inputs": {"text": "text, watermark", "clip": ["4", 1]}},
        "8": {"class_type": "VAEDecode", "_meta": {"title": "VAE Decode"},
              "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "_meta": {"title": "Save Image"},
              "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}}
    })
}

/// The image-to-image workflow: a loaded picture, encoded, sampled at a lower denoise.
pub fn image_workflow() -> Value {
    let mut graph = default_workflow();
    graph["10"] = json!({"class_type": "LoadImage", "_meta": {"title": "Load Image"},
                         "inputs": {"image": "example.png"}});
    graph["11"] = json!({"class_type": "VAEEncode", "_meta": {"title": "VAE Encode"},
                         "inputs": {"pixels": ["10", 0], "vae": ["4", 2]}});
    graph["3"]["inputs"]["latent_image"] = json!(["11", 0]);
    graph["3"]["inputs"]["denoise"] = json!(0.6);
    graph.as_object_mut().unwrap().remove("5");
    graph
}

pub(super) fn object_info(uploads: Vec<String>) -> Value {
    let int = |default: i64, min: i64, max: u64| json!(["INT", {"default": default, "min": min, "max": max}]);
    json!({
        "CheckpointLoaderSimple": {"input": {"required": {"ckpt_name": [CHECKPOINTS]}},
                                   "output": ["MODEL", "CLIP", "VAE"], "output_node": false},
        "CLIPTextEncode": {"input": {"required": {"text": ["STRING", {"multiline": true}], "clip": ["CLIP"]}},
                           "output": ["CONDITIONING"], "output_node": false},
        "EmptyLatentImage": {"input": {"required": {
                                "width": ["INT", {"default": 512, "min": 16, "max": 16384, "step": 8}],
                                "height": ["INT", {"default": 512, "min": 16, "max": 16384, "step": 8}],
                                "batch_size": int(1, 1, 4096)}},
                             "output": ["LATENT"], "output_node": false},
        "KSampler": {"input": {"required": {
                        "model": ["MODEL"], "seed": int(0, 0, u64::MAX), "steps": int(20, 1, 10000),
                        "cfg": ["FLOAT", {"default": 8.0, "min": 0.0, "max": 100.0, "step": 0.1}],
                        "sampler_name": [SAMPLERS], "scheduler": [["normal", "karras", "simple"]],
                        "positive": ["CONDITIONING"], "negative": ["CONDITIONING"],
                        "latent_image": ["LATENT"],
                        "denoise": ["FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.01}]}},
                     "output": ["LATENT"], "output_node": false},
        "VAEDecode": {"input": {"required": {"samples": ["LATENT"], "vae": ["VAE"]}},
                      "output": ["IMAGE"], "output_node": false},
        "VAEEncode": {"input": {"required": {"pixels": ["IMAGE"], "vae": ["VAE"]}},
                      "output": ["LATENT"], "output_node": false},
        "LoadImage": {"input": {"required": {"image": [uploads, {"image_upload": true}]}},
                      "output": ["IMAGE", "MASK"], "output_node": false},
        "SaveImage": {"input": {"required": {"images": ["IMAGE"],
                                             "filename_prefix": ["STRING", {"default": "ComfyUI"}]}},
                      "output": [], "output_node": true},
        "PreviewImage": {"input": {"required": {"images": ["IMAGE"]}}, "output": [], "output_node": true}
    })
}

fn node_error(
    node: &str,
    class: &str,
    kind: &str,
    message: &str,
    details: String,
    input: &str,
) -> (String, Value) {
    (
        node.to_string(),
        json!({"errors": [{"type": kind, "message": message, "details": details,
                           "extra_info": {"input_name": input}}],
               "dependent_outputs": [], "class_type": class}),
    )
}

/// ComfyUI's checks of a prompt: known node types, links to nodes that exist, values in range
/// and in their lists, at least one output node.
pub(super) fn validate(graph: &Map<String, Value>, info: &Value) -> Result<(), Value> {
    let refuse = |kind: &str, message: String, details: String| {
        json!({"error": {"type": kind, "message": message, "details": details, "extra_info": {}},
               "node_errors": {}})
    };
    let mut node_errors = Map::new();
    let mut outputs = 0;
    for (id, node) in graph {
        let class = node["class_type"].as_str().unwrap_or_default();
        let Some(spec) = info.get(class) else {
            return Err(refuse(
                "invalid_prompt",
                format!("Cannot execute because node {class} does not exist."),
                format!("Node ID '#{id}'"),
            ));
        };
        if spec["output_node"] == json!(true) {
            outputs += 1;
        }
        for (input, want) in spec["input"]["required"].as_object().into_iter().flatten() {
            let value = &node["inputs"][input];
            let problem = match (&want[0], value) {
                (_, Value::Null) => Some((
                    "required_input_missing",
                    "Required input is missing",
                    input.clone(),
                )),
                (_, Value::Array(link)) => match link.first().and_then(Value::as_str) {
                    Some(target) if graph.contains_key(target) => None,
                    _ => Some((
                        "bad_linked_input",
                        "Bad linked input",
                        format!("{input}: {value}"),
                    )),
                },
                (Value::Array(choices), v) if !choices.contains(v) => Some((
                    "value_not_in_list",
                    "Value not in list",
                    format!(
                        "{input}: '{}' not in {}",
                        v.as_str().unwrap_or_default(),
                        Value::Array(choices.clone())
                    ),
                )),
                (Value::String(t), v) if t == "INT" && !(v.is_u64() || v.is_i64()) => Some((
                    "invalid_input_type",
                    "Failed to convert an input value to a INT value",
                    format!("{input}, {v}"),
                )),
                (Value::String(t), v) if t == "INT" || t == "FLOAT" => {
                    let n = v.as_f64().unwrap_or(f64::NAN);
                    let (min, max) = (want[1]["min"].as_f64(), want[1]["max"].as_f64());
                    if min.is_some_and(|m| n < m) {
                        Some((
                            "value_smaller_than_min",
                            "Value smaller than min",
                            format!("{input}: {v} < {}", want[1]["min"]),
                        ))
                    } else if max.is_some_and(|m| n > m) {
                        Some((
                            "value_bigger_than_max",
                            "Value bigger than max",
                            format!("{input}: {v} > {}", want[1]["max"]),
                        ))
                    } else {
                        None
                    }
                }
                (Value::String(t), v) if t == "STRING" && !v.is_string() => Some((
                    "invalid_input_type",
                    "Failed to convert an input value to a STRING value",
                    input.clone(),
                )),
                _ => None,
            };
            if let Some((kind, message, details)) = problem {
                let (node_id, error) = node_error(id, class, kind, message, details, input);
                node_errors.insert(node_id, error);
            }
        }
    }
    if outputs == 0 {
        return Err(refuse(
            "prompt_no_outputs",
            "Prompt has no outputs".into(),
            String::new(),
        ));
    }
    if !node_errors.is_empty() {
        return Err(json!({"error": {"type": "prompt_outputs_failed_validation",
                                    "message": "Prompt outputs failed validation",
                                    "details": "", "extra_info": {}},
                          "node_errors": node_errors}));
    }
    Ok(())
}
