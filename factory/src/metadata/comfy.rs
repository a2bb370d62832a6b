//! ComfyUI's two chunks: `prompt`, the API graph that ran (`{id: {class_type, inputs}}`, an
//! input being a value or a link `[node id, output index]`), and `workflow`, the editor's graph
//! (`nodes` with `widgets_values`, `links` as `[id, from node, from slot, to node, to slot,
//! type]`), which also holds the editor-only Reroute and Primitive nodes.
//!
//! From each sampler node the walk follows `positive` and `negative` to their text encoders,
//! `model` to the checkpoint loader, and reads seed, steps, cfg, sampler and scheduler —
//! through links, reroutes, primitives and string nodes. The whole graph is kept in the
//! parameters (`comfyui_prompt`, `comfyui_workflow`).

use serde_json::{Map, Value};

use super::Generation;

/// Sampler node types whose settings describe the image.
const SAMPLERS: &[&str] = &[
    "KSampler",
    "KSamplerAdvanced",
    "SamplerCustom",
    "SamplerCustomAdvanced",
    "KSampler (Efficient)",
    "KSampler Adv. (Efficient)",
];

/// How deep a chain of links is followed (a cycle or a huge graph stops here).
const MAX_HOPS: usize = 32;

/// Reads the API graph (and keeps the editor graph alongside, when there is one).
pub fn parse(prompt: Option<&str>, workflow: Option<&str>) -> Option<Generation> {
    let prompt: Option<Value> = prompt.and_then(|p| serde_json::from_str(p).ok());
    let workflow: Option<Value> = workflow.and_then(|w| serde_json::from_str(w).ok());
    let mut generation = match (&prompt, &workflow) {
        (Some(Value::Object(graph)), _) => from_api(graph),
        (_, Some(Value::Object(graph))) => from_workflow(graph),
        _ => return None,
    }?;
    if let Some(p) = prompt {
        generation.params.insert("comfyui_prompt".into(), p);
    }
    if let Some(w) = workflow {
        generation.params.insert("comfyui_workflow".into(), w);
    }
    Some(generation)
}

// ---- The API graph --------------------------------------------------------------------------

fn from_api(graph: &Map<String, Value>) -> Option<Generation> {
    let class = |id: &str| graph.get(id)?.get("class_type")?.as_str();
    let inputs = |id: &str| graph.get(id)?.get("inputs")?.as_object();
    // The sampler that made the picture: the last one by id when there are several (a hires
    // pass samples again from the first's output).
    let mut samplers: Vec<&String> = graph
        .keys()
        .filter(|id| class(id).is_some_and(|c| SAMPLERS.contains(&c)))
        .collect();
    samplers.sort_by_key(|id| (id.parse::<u64>().unwrap_or(u64::MAX), id.to_string()));
    let first = samplers.first()?;
    let last = samplers.last()?;
    let sampler = inputs(last)?;
    // A later pass often takes its conditioning from the first.
    let conditioning = |name: &str| {
        text_of(graph, sampler.get(name)?, 0)
            .or_else(|| text_of(graph, inputs(first)?.get(name)?, 0))
    };
    let mut g = Generation {
        prompt: conditioning("positive").unwrap_or_default(),
        negative_prompt: conditioning("negative").unwrap_or_default(),
        ..Generation::default()
    };
    let value = |name: &str| {
        sampler
            .get(name)
            .and_then(|v| resolve(graph, v, 0))
            .or_else(|| inputs(first)?.get(name).and_then(|v| resolve(graph, v, 0)))
    };
    g.seed = value("seed")
        .or_else(|| value("noise_seed"))
        .and_then(|v| v.as_i64().or_else(|| v.as_u64().map(|u| u as i64)));
    for (name, key) in [
        ("steps", "steps"),
        ("cfg", "cfg_scale"),
        ("sampler_name", "sampler"),
        ("scheduler", "scheduler"),
        ("denoise", "denoising_strength"),
    ] {
        if let Some(v) = value(name).filter(|v| !v.is_object() && !v.is_array()) {
            g.params.insert(key.into(), v);
        }
    }
    g.model = sampler
        .get("model")
        .or_else(|| inputs(first)?.get("model"))
        .and_then(|link| checkpoint_of(graph, link, 0));
    // The size of the empty latent the first sampler started from.
    if let Some(latent) = inputs(first)?
        .get("latent_image")
        .and_then(|l| node_of_link(l))
        .and_then(inputs)
    {
        g.width = latent
            .get("width")
            .and_then(Value::as_u64)
            .map(|w| w as u32);
        g.height = latent
            .get("height")
            .and_then(Value::as_u64)
            .map(|h| h as u32);
    }
    Some(g)
}

fn node_of_link(value: &Value) -> Option<&str> {
    match value.as_array()?.as_slice() {
        [Value::String(id), Value::Number(_)] => Some(id),
        _ => None,
    }
}

/// A plain value, or where a link leads: a primitive's value, a reroute's input.
fn resolve(graph: &Map<String, Value>, value: &Value, hops: usize) -> Option<Value> {
    let Some(id) = node_of_link(value) else {
        return Some(value.clone());
    };
    if hops > MAX_HOPS {
        return None;
    }
    let inputs = graph.get(id)?.get("inputs")?.as_object()?;
    // A pass-through or value node: its one input, or its value-like input.
    [
        "value",
        "seed",
        "noise_seed",
        "int",
        "float",
        "string",
        "text",
        "",
    ]
    .iter()
    .find_map(|k| inputs.get(*k))
    .or_else(|| {
        (inputs.len() == 1)
            .then(|| inputs.values().next())
            .flatten()
    })
    .and_then(|v| resolve(graph, v, hops + 1))
}

/// The text a conditioning link comes from: a text encoder's `text` (or SDXL's `text_g` and
/// `text_l`), following reroutes, conditioning combiners and string nodes.
fn text_of(graph: &Map<String, Value>, link: &Value, hops: usize) -> Option<String> {
    if hops > MAX_HOPS {
        return None;
    }
    let id = node_of_link(link)?;
    let node = graph.get(id)?;
    let inputs = node.get("inputs")?.as_object()?;
    for key in ["text", "text_g", "prompt", "string", "value"] {
        if let Some(v) = inputs.get(key) {
            if let Some(text) = resolve(graph, v, hops + 1) {
                if let Some(s) = text.as_str() {
                    return Some(s.to_string());
                }
            }
        }
    }
    // A node that passes conditioning on (reroute, ControlNet apply, combine): its first
    // linked input that leads to text.
    inputs
        .values()
        .filter(|v| node_of_link(v).is_some())
        .find_map(|v| text_of(graph, v, hops + 1))
}

/// The checkpoint a model link comes from, through LoRA loaders and other model patches.
fn checkpoint_of(graph: &Map<String, Value>, link: &Value, hops: usize) -> Option<String> {
    if hops > MAX_HOPS {
        return None;
    }
    let inputs = graph.get(node_of_link(link)?)?.get("inputs")?.as_object()?;
    for key in ["ckpt_name", "unet_name", "model_name"] {
        if let Some(name) = inputs.get(key).and_then(|v| resolve(graph, v, hops + 1)) {
            if let Some(s) = name.as_str() {
                return Some(s.to_string());
            }
        }
    }
    inputs
        .get("model")
        .and_then(|m| checkpoint_of(graph, m, hops + 1))
}

// ---- The editor graph -----------------------------------------------------------------------

struct Editor<'a> {
    nodes: Vec<&'a Value>,
    /// link id -> (from node id, from slot)
    links: std::collections::HashMap<i64, (i64, i64)>,
}

impl<'a> Editor<'a> {
    fn new(graph: &'a Map<String, Value>) -> Option<Self> {
        let nodes: Vec<&Value> = graph.get("nodes")?.as_array()?.iter().collect();
        let links = graph
            .get("links")
            .and_then(Value::as_array)
            .map(|links| {
                links
                    .iter()
                    .filter_map(|l| {
                        let l = l.as_array()?;
                        Some((
                            l.first()?.as_i64()?,
                            (l.get(1)?.as_i64()?, l.get(2)?.as_i64()?),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(Self { nodes, links })
    }

    fn node(&self, id: i64) -> Option<&'a Value> {
        self.nodes
            .iter()
            .copied()
            .find(|n| n.get("id").and_then(Value::as_i64) == Some(id))
    }

    fn kind(node: &Value) -> &str {
        node.get("type").and_then(Value::as_str).unwrap_or_default()
    }

    fn widgets(node: &Value) -> &[Value] {
        node.get("widgets_values")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The node feeding input `name` of `node`, through reroutes.
    fn source(&self, node: &Value, name: &str) -> Option<&'a Value> {
        let link = node
            .get("inputs")?
            .as_array()?
            .iter()
            .find(|i| i.get("name").and_then(Value::as_str) == Some(name))?
            .get("link")?
            .as_i64()?;
        let mut from = self.node(self.links.get(&link)?.0)?;
        for _ in 0..MAX_HOPS {
            if Self::kind(from) != "Reroute" {
                return Some(from);
            }
            let link = from
                .get("inputs")?
                .as_array()?
                .first()?
                .get("link")?
                .as_i64()?;
            from = self.node(self.links.get(&link)?.0)?;
        }
        None
    }

    /// A widget's value, or the primitive's when the widget was turned into an input.
    fn widget(&self, node: &Value, name: &str, index: usize) -> Option<Value> {
        if let Some(source) = self.source(node, name) {
            return Self::widgets(source).first().cloned();
        }
        Self::widgets(node).get(index).cloned()
    }

    /// The text of a conditioning source: an encoder's text widget (or its primitive).
    fn text(&self, node: &Value, hops: usize) -> Option<String> {
        if hops > MAX_HOPS {
            return None;
        }
        if Self::kind(node).contains("TextEncode") {
            return self.widget(node, "text", 0)?.as_str().map(str::to_string);
        }
        let inputs = node.get("inputs")?.as_array()?;
        inputs.iter().find_map(|i| {
            let name = i.get("name")?.as_str()?;
            self.text(self.source(node, name)?, hops + 1)
        })
    }
}

fn from_workflow(graph: &Map<String, Value>) -> Option<Generation> {
    let editor = Editor::new(graph)?;
    let mut samplers: Vec<&Value> = editor
        .nodes
        .iter()
        .copied()
        .filter(|n| SAMPLERS.contains(&Editor::kind(n)))
        .collect();
    samplers.sort_by_key(|n| n.get("id").and_then(Value::as_i64).unwrap_or(i64::MAX));
    let sampler = *samplers.first()?;
    let mut g = Generation {
        prompt: editor
            .source(sampler, "positive")
            .and_then(|n| editor.text(n, 0))
            .unwrap_or_default(),
        negative_prompt: editor
            .source(sampler, "negative")
            .and_then(|n| editor.text(n, 0))
            .unwrap_or_default(),
        ..Generation::default()
    };
    // KSampler's widgets: seed, control after generate, steps, cfg, sampler, scheduler, denoise.
    let advanced = Editor::kind(sampler) == "KSamplerAdvanced";
    let offset = usize::from(advanced); // add_noise comes first
    g.seed = editor
        .widget(
            sampler,
            if advanced { "noise_seed" } else { "seed" },
            offset,
        )
        .and_then(|v| v.as_i64());
    for (name, key, index) in [
        ("steps", "steps", 2),
        ("cfg", "cfg_scale", 3),
        ("sampler_name", "sampler", 4),
        ("scheduler", "scheduler", 5),
    ] {
        if let Some(v) = editor.widget(sampler, name, index + offset) {
            g.params.insert(key.into(), v);
        }
    }
    let mut model = editor.source(sampler, "model");
    for _ in 0..MAX_HOPS {
        let Some(node) = model else { break };
        if Editor::kind(node).starts_with("CheckpointLoader") || Editor::kind(node) == "UNETLoader"
        {
            g.model = Editor::widgets(node)
                .first()
                .and_then(Value::as_str)
                .map(str::to_string);
            break;
        }
        model = editor.source(node, "model");
    }
    if let Some(latent) = editor.source(sampler, "latent_image") {
        let w = Editor::widgets(latent);
        g.width = w.first().and_then(Value::as_u64).map(|v| v as u32);
        g.height = w.get(1).and_then(Value::as_u64).map(|v| v as u32);
    }
    Some(g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// An SDXL graph as ComfyUI exports it: a LoRA between checkpoint and sampler, the positive
    /// text from a string node, and the negative through a conditioning combiner.
    fn api_graph() -> Value {
        json!({
            "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sdxl/juggernautXL_v9.safetensors"}},
            "10": {"class_type": "LoraLoader", "inputs": {"model": ["4", 0], "clip": ["4", 1], "lora_name": "detail.safetensors", "strength_model": 0.8, "strength_clip": 0.8}},
            "20": {"class_type": "PrimitiveString", "inputs": {"value": "a red fox, in the snow,\nBREAK soft light"}},
            "6": {"class_type": "CLIPTextEncode", "inputs": {"text": ["20", 0], "clip": ["10", 1]}},
            "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry, lowres", "clip": ["10", 1]}},
            "8": {"class_type": "ConditioningCombine", "inputs": {"conditioning_1": ["7", 0], "conditioning_2": ["7", 0]}},
            "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 832, "height": 1216, "batch_size": 1}},
            "21": {"class_type": "PrimitiveInt", "inputs": {"value": 123456789012_i64}},
            "3": {"class_type": "KSampler", "inputs": {"seed": ["21", 0], "steps": 30, "cfg": 5.5, "sampler_name": "dpmpp_2m", "scheduler": "karras", "denoise": 1.0, "model": ["10", 0], "positive": ["6", 0], "negative": ["8", 0], "latent_image": ["5", 0]}},
            "9": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "ComfyUI"}}
        })
    }

    #[test]
    fn the_api_graph_is_walked_from_the_sampler() {
        let graph = api_graph().to_string();
        let g = parse(Some(&graph), None).unwrap();
        assert_eq!(g.prompt, "a red fox, in the snow,\nBREAK soft light");
        assert_eq!(g.negative_prompt, "blurry, lowres");
        assert_eq!(g.seed, Some(123456789012));
        assert_eq!(g.model.as_deref(), Some("sdxl/juggernautXL_v9.safetensors"));
        assert_eq!((g.width, g.height), (Some(832), Some(1216)));
        assert_eq!(g.params["steps"], json!(30));
        assert_eq!(g.params["cfg_scale"], json!(5.5));
        assert_eq!(g.params["sampler"], json!("dpmpp_2m"));
        assert_eq!(g.params["scheduler"], json!("karras"));
        assert_eq!(
            g.params["comfyui_prompt"],
            api_graph(),
            "the whole graph is kept"
        );
    }

    /// The editor's graph: the positive text comes from a primitive, through two reroutes, and
    /// the seed widget was turned into an input fed by a primitive.
    fn workflow() -> Value {
        json!({
            "last_node_id": 12, "last_link_id": 20,
            "nodes": [
                {"id": 4, "type": "CheckpointLoaderSimple", "outputs": [], "widgets_values": ["v1-5-pruned-emaonly.safetensors"]},
                {"id": 11, "type": "PrimitiveNode", "outputs": [{"name": "STRING", "links": [15]}], "widgets_values": ["a lighthouse at dusk, <lora:film:0.5>"]},
                {"id": 6, "type": "CLIPTextEncode", "inputs": [{"name": "clip", "link": 3}, {"name": "text", "link": 15, "widget": {"name": "text"}}], "widgets_values": ["stale text"]},
                {"id": 7, "type": "CLIPTextEncode", "inputs": [{"name": "clip", "link": 5}], "widgets_values": ["ugly, watermark"]},
                {"id": 8, "type": "Reroute", "inputs": [{"name": "", "link": 16}]},
                {"id": 9, "type": "Reroute", "inputs": [{"name": "", "link": 17}]},
                {"id": 12, "type": "PrimitiveNode", "widgets_values": [987654321, "fixed"]},
                {"id": 5, "type": "EmptyLatentImage", "widgets_values": [512, 768, 1]},
                {"id": 3, "type": "KSampler",
                 "inputs": [{"name": "model", "link": 1}, {"name": "positive", "link": 18}, {"name": "negative", "link": 6}, {"name": "latent_image", "link": 2}, {"name": "seed", "link": 19, "widget": {"name": "seed"}}],
                 "widgets_values": [1, "fixed", 25, 7.0, "euler_ancestral", "normal", 1.0]}
            ],
            "links": [
                [1, 4, 0, 3, 0, "MODEL"], [2, 5, 0, 3, 3, "LATENT"], [3, 4, 1, 6, 0, "CLIP"], [5, 4, 1, 7, 0, "CLIP"],
                [6, 7, 0, 3, 2, "CONDITIONING"], [15, 11, 0, 6, 1, "STRING"], [16, 6, 0, 8, 0, "*"],
                [17, 8, 0, 9, 0, "*"], [18, 9, 0, 3, 1, "CONDITIONING"], [19, 12, 0, 3, 4, "INT"]
            ]
        })
    }

    #[test]
    fn the_editor_graph_is_walked_through_reroutes_and_primitives() {
        let w = workflow().to_string();
        let g = parse(None, Some(&w)).unwrap();
        assert_eq!(g.prompt, "a lighthouse at dusk, <lora:film:0.5>");
        assert_eq!(g.negative_prompt, "ugly, watermark");
        assert_eq!(g.seed, Some(987654321));
        assert_eq!(g.model.as_deref(), Some("v1-5-pruned-emaonly.safetensors"));
        assert_eq!((g.width, g.height), (Some(512), Some(768)));
        assert_eq!(g.params["steps"], json!(25));
        assert_eq!(g.params["sampler"], json!("euler_ancestral"));
        assert!(g.params.contains_key("comfyui_workflow"));
    }

    #[test]
    fn a_cycle_or_nonsense_does_not_hang_or_panic() {
        let cycle = json!({
            "1": {"class_type": "Reroute", "inputs": {"": ["2", 0]}},
            "2": {"class_type": "Reroute", "inputs": {"": ["1", 0]}},
            "3": {"class_type": "KSampler", "inputs": {"seed": ["1", 0], "positive": ["2", 0], "negative": ["1", 0], "model": ["1", 0]}}
        })
        .to_string();
        let g = parse(Some(&cycle), None).unwrap();
        assert_eq!((g.prompt.as_str(), g.seed), ("", None));
        assert!(parse(Some("[1, 2]"), Some("not json")).is_none());
        assert!(
            parse(Some("{}"), None).is_none(),
            "no sampler, nothing read"
        );
    }
}
