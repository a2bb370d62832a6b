//! An imported ComfyUI workflow: a graph in ComfyUI's API format (node id -> `class_type` and
//! `inputs`, where an input is a value or a link `[node id, output index]`) plus the inputs a
//! person marked: the one that takes the prompt, the negative prompt, the seed, the input
//! picture, and any others that become the form's parameters. Each workflow is one model of the
//! ComfyUI provider, kept as a JSON file in `<data dir>/comfyui/`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::providers::{Capability, ModelInfo, ParamKind, ParamSpec};

/// The largest workflow accepted (ComfyUI's own are tens of KB).
pub const MAX_WORKFLOW_BYTES: usize = 2 * 1024 * 1024;
const MAX_NODES: usize = 2000;

/// What a marked input becomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Role {
    Prompt,
    NegativePrompt,
    Seed,
    /// The picture an image-to-image generation starts from (a `LoadImage` node's `image`): it
    /// is uploaded to the server and its name put here.
    InputImage,
    /// A form parameter, under this name and label.
    Param {
        name: String,
        label: String,
    },
}

impl Role {
    /// The role in words, as messages and the Settings page name it.
    pub fn describe(&self) -> String {
        match self {
            Role::Prompt => "prompt".into(),
            Role::NegativePrompt => "negative prompt".into(),
            Role::Seed => "seed".into(),
            Role::InputImage => "input picture".into(),
            Role::Param { name, label } => format!("parameter {name} ({label})"),
        }
    }
}

/// One marked input: node, input name, and what it becomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    pub node: String,
    pub input: String,
    #[serde(flatten)]
    pub role: Role,
}

/// A workflow ready to run: its name (the model id), its graph and its marks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workflow {
    pub name: String,
    pub graph: Map<String, Value>,
    pub marks: Vec<Mark>,
}

/// An input that holds a value rather than a link, which a person may mark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub node: String,
    pub class_type: String,
    /// The node's title in the editor, when the export kept it.
    pub title: Option<String>,
    pub input: String,
    pub value: Value,
    /// The role the import suggests (the prompt of the sampler's positive conditioning, its
    /// seed, the steps ...); a person may change it.
    pub suggested: Option<Role>,
}

/// A workflow that cannot be used, in words that say what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WorkflowError(pub String);

fn invalid(message: impl Into<String>) -> WorkflowError {
    WorkflowError(message.into())
}

/// Reads a workflow in API format, checking its shape and its links.
pub fn parse_graph(text: &str) -> Result<Map<String, Value>, WorkflowError> {
    if text.len() > MAX_WORKFLOW_BYTES {
        return Err(invalid(format!(
            "The workflow is larger than {} MB.",
            MAX_WORKFLOW_BYTES / (1024 * 1024)
        )));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| {
        invalid(format!(
            "The workflow is not valid JSON (line {}, column {}: {e}).",
            e.line(),
            e.column()
        ))
    })?;
    let Value::Object(graph) = value else {
        return Err(invalid("The workflow must be a JSON object of nodes."));
    };
    if graph.contains_key("nodes") && graph.contains_key("links") {
        return Err(invalid(
            "This is a workflow saved from the ComfyUI editor, not its API format. In ComfyUI, \
             export it with “Export (API)” (Workflow menu; older versions: enable the dev mode \
             options, then “Save (API Format)”) and import that file.",
        ));
    }
    if graph.is_empty() {
        return Err(invalid("The workflow has no nodes."));
    }
    if graph.len() > MAX_NODES {
        return Err(invalid(format!(
            "The workflow has {} nodes; at most {MAX_NODES} are accepted.",
            graph.len()
        )));
    }
    for (id, node) in &graph {
        let class = node.get("class_type").and_then(Value::as_str);
        let inputs = node.get("inputs").and_then(Value::as_object);
        let (Some(_), Some(inputs)) = (class, inputs) else {
            return Err(invalid(format!(
                "Node {id} has no class_type or inputs; is this ComfyUI's API format?"
            )));
        };
        for (name, input) in inputs {
            if let Some(target) = link_target(input) {
                if !graph.contains_key(target) {
                    return Err(invalid(format!(
                        "Node {id} input “{name}” is linked to node {target}, which is not in the workflow."
                    )));
                }
            }
        }
    }
    Ok(graph)
}

/// The node a link input points at (`["4", 0]`).
fn link_target(input: &Value) -> Option<&str> {
    match input.as_array()?.as_slice() {
        [Value::String(node), Value::Number(_)] => Some(node),
        _ => None,
    }
}

fn class_of<'a>(graph: &'a Map<String, Value>, node: &str) -> &'a str {
    graph[node]["class_type"].as_str().unwrap_or_default()
}

/// Node ids in a person's order: numbers by value, then the rest.
fn ordered(graph: &Map<String, Value>) -> Vec<&String> {
    let mut ids: Vec<&String> = graph.keys().collect();
    ids.sort_by_key(|id| (id.parse::<u64>().unwrap_or(u64::MAX), id.to_string()));
    ids
}

/// Every input that holds a value, with a suggested role for the usual ones.
pub fn candidates(graph: &Map<String, Value>) -> Vec<Candidate> {
    // The text encoders the samplers' positive and negative conditioning come from.
    let mut positive = Vec::new();
    let mut negative = Vec::new();
    for id in graph.keys() {
        let inputs = &graph[id]["inputs"];
        if let Some(node) = inputs.get("positive").and_then(link_target) {
            positive.push(node.to_string());
        }
        if let Some(node) = inputs.get("negative").and_then(link_target) {
            negative.push(node.to_string());
        }
    }
    let mut seen_seed = false;
    let mut out = Vec::new();
    for id in ordered(graph) {
        let node = &graph[id];
        let class_type = class_of(graph, id).to_string();
        let title = node["_meta"]["title"].as_str().map(str::to_string);
        let Some(inputs) = node["inputs"].as_object() else {
            continue;
        };
        for (input, value) in inputs {
            if link_target(value).is_some() || value.is_array() || value.is_object() {
                continue;
            }
            let suggested = match (input.as_str(), value) {
                ("text", Value::String(_)) if positive.contains(id) => Some(Role::Prompt),
                ("text", Value::String(_)) if negative.contains(id) => Some(Role::NegativePrompt),
                ("seed" | "noise_seed", Value::Number(_)) if !seen_seed => {
                    seen_seed = true;
                    Some(Role::Seed)
                }
                ("image", Value::String(_)) if class_type == "LoadImage" => Some(Role::InputImage),
                ("steps" | "cfg" | "width" | "height" | "sampler_name" | "denoise", _) => {
                    Some(Role::Param {
                        name: input.clone(),
                        label: label_of(input),
                    })
                }
                _ => None,
            };
            out.push(Candidate {
                node: id.clone(),
                class_type: class_type.clone(),
                title: title.clone(),
                input: input.clone(),
                value: value.clone(),
                suggested,
            });
        }
    }
    out
}

/// `sampler_name` -> `Sampler name`.
fn label_of(input: &str) -> String {
    let words = input.replace('_', " ");
    match input {
        "cfg" => "Guidance (CFG)".into(),
        _ => {
            let mut chars = words.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }
    }
}

/// A parameter name a form can use: lower-case letters, digits and `_`, not one the request
/// itself fills.
fn valid_param_name(name: &str) -> bool {
    (1..=40).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !matches!(name, "prompt" | "negative_prompt" | "seed" | "image")
}

impl Workflow {
    /// Checks a name, a graph and its marks together.
    pub fn new(
        name: &str,
        graph: Map<String, Value>,
        marks: Vec<Mark>,
    ) -> Result<Self, WorkflowError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 60 {
            return Err(invalid("Give the workflow a name of 1 to 60 characters."));
        }
        if !name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'))
        {
            return Err(invalid(format!(
                "“{name}”: a workflow's name may hold letters, digits, spaces, “-”, “_” and “.”."
            )));
        }
        let mut names = Vec::new();
        let mut roles = Vec::new();
        for mark in &marks {
            let value = graph
                .get(&mark.node)
                .and_then(|n| n["inputs"].get(&mark.input))
                .ok_or_else(|| {
                    invalid(format!(
                        "Node {} has no input “{}” to mark.",
                        mark.node, mark.input
                    ))
                })?;
            let at = format!("Node {} input “{}”", mark.node, mark.input);
            if link_target(value).is_some() {
                return Err(invalid(format!(
                    "{at} is linked to another node; only inputs that hold a value can be marked."
                )));
            }
            let kind = std::mem::discriminant(&mark.role);
            match &mark.role {
                Role::Prompt | Role::NegativePrompt | Role::InputImage if !value.is_string() => {
                    return Err(invalid(format!(
                        "{at} holds no text, so it cannot take that role."
                    )))
                }
                Role::Seed if !(value.is_u64() || value.is_i64()) => {
                    return Err(invalid(format!(
                        "{at} is not a whole number, so it cannot be the seed."
                    )))
                }
                Role::Param { name, label } => {
                    if !valid_param_name(name) {
                        return Err(invalid(format!(
                            "{at}: “{name}” cannot name a parameter; use lower-case letters, digits \
                             and “_” (not prompt, negative_prompt, seed or image)."
                        )));
                    }
                    if names.contains(name) {
                        return Err(invalid(format!(
                            "Two inputs are marked as the parameter “{name}”."
                        )));
                    }
                    if label.trim().is_empty() {
                        return Err(invalid(format!(
                            "{at}: give the parameter “{name}” a label."
                        )));
                    }
                    names.push(name.clone());
                    continue;
                }
                _ => {}
            }
            if roles.contains(&kind) {
                return Err(invalid(format!(
                    "{at}: only one input can be the {}.",
                    mark.role.describe()
                )));
            }
            roles.push(kind);
        }
        if !marks.iter().any(|m| m.role == Role::Prompt) {
            return Err(invalid(
                "Mark the input that takes the prompt (the text of the CLIPTextEncode node the \
                 sampler's positive input comes from).",
            ));
        }
        Ok(Self {
            name: name.to_string(),
            graph,
            marks,
        })
    }

    /// A short hash of the graph and marks: a pipeline step's cache key changes when the
    /// workflow does.
    pub fn version(&self) -> String {
        let canonical = serde_json::to_vec(&(&self.graph, &self.marks)).unwrap_or_default();
        let digest = Sha256::digest(&canonical);
        digest[..6].iter().map(|b| format!("{b:02x}")).collect()
    }

    fn has(&self, role: &Role) -> bool {
        self.marks.iter().any(|m| &m.role == role)
    }

    /// The model the Generate form offers for it. `object_info` is the server's node catalog
    /// (`GET /object_info`), which gives each input its range or its choices; without it a
    /// parameter takes its type from the workflow's value.
    pub fn model(&self, object_info: Option<&Value>) -> ModelInfo {
        let params = self
            .marks
            .iter()
            .filter_map(|mark| match &mark.role {
                Role::Param { name, label } => Some(self.param(mark, name, label, object_info)),
                _ => None,
            })
            .collect();
        let image = self.has(&Role::InputImage);
        ModelInfo {
            id: self.name.clone(),
            name: self.name.clone(),
            description: format!("An imported ComfyUI workflow ({} nodes).", self.graph.len()),
            capability: if image {
                Capability::ImageToImage
            } else {
                Capability::TextToImage
            },
            negative_prompt: self.has(&Role::NegativePrompt),
            image_input: image.then(|| "image".to_string()),
            image_strength: None,
            networks: false,
            inputs: Default::default(),
            params,
        }
    }

    fn param(&self, mark: &Mark, name: &str, label: &str, info: Option<&Value>) -> ParamSpec {
        let class = class_of(&self.graph, &mark.node);
        let value = &self.graph[&mark.node]["inputs"][&mark.input];
        let description = format!("{} (node {}) input “{}”.", class, mark.node, mark.input);
        // ComfyUI describes an input as ["INT", {"default", "min", "max", "step"}], or
        // [["choice", ...], {...}].
        let spec = info.and_then(|i| {
            let inputs = &i[class]["input"];
            inputs["required"]
                .get(&mark.input)
                .or_else(|| inputs["optional"].get(&mark.input))
        });
        let options = spec.and_then(|s| s.get(1)).cloned().unwrap_or(Value::Null);
        let kind = match (spec.and_then(|s| s.get(0)), value) {
            (Some(Value::Array(choices)), Value::String(current)) => {
                let mut values: Vec<String> = choices
                    .iter()
                    .filter_map(|c| c.as_str().map(str::to_string))
                    .collect();
                if !values.contains(current) {
                    values.insert(0, current.clone());
                }
                ParamKind::Choice {
                    default: current.clone(),
                    values,
                }
            }
            (_, Value::Bool(b)) => ParamKind::Bool { default: *b },
            (_, Value::Number(n)) if n.is_i64() || n.is_u64() => {
                let default = n.as_i64().unwrap_or(i64::MAX);
                let min = options["min"].as_i64().unwrap_or(0).min(default);
                let max = options["max"]
                    .as_i64()
                    .unwrap_or(1_000_000_000)
                    .max(default);
                let step = options["step"].as_i64().filter(|s| *s > 0).unwrap_or(1);
                // ComfyUI's steps count from 0 (width: step 8 from 16 takes 16, 24, ...); ours
                // from 0 too, so only a step that divides the minimum is kept.
                let step = if min % step == 0 { step } else { 1 };
                ParamKind::Integer {
                    default,
                    min,
                    max,
                    step,
                }
            }
            (_, Value::Number(n)) => {
                let default = n.as_f64().unwrap_or(0.0);
                ParamKind::Float {
                    default,
                    min: options["min"].as_f64().unwrap_or(-1e9).min(default),
                    max: options["max"].as_f64().unwrap_or(1e9).max(default),
                }
            }
            (_, other) => ParamKind::Choice {
                default: other.as_str().unwrap_or_default().to_string(),
                values: vec![other.as_str().unwrap_or_default().to_string()],
            },
        };
        ParamSpec {
            name: name.to_string(),
            label: label.to_string(),
            description,
            kind,
        }
    }

    /// The graph to queue: the workflow with the prompt, seed, parameters and the uploaded input
    /// picture's name put into the marked inputs.
    pub fn fill(
        &self,
        prompt: &str,
        negative_prompt: &str,
        seed: i64,
        params: &Map<String, Value>,
        image: Option<&str>,
    ) -> Map<String, Value> {
        let mut graph = self.graph.clone();
        for mark in &self.marks {
            let value = match &mark.role {
                Role::Prompt => Value::from(prompt),
                Role::NegativePrompt => Value::from(negative_prompt),
                // ComfyUI's seeds are unsigned.
                Role::Seed => Value::from(seed.unsigned_abs()),
                Role::InputImage => match image {
                    Some(name) => Value::from(name),
                    None => continue,
                },
                Role::Param { name, .. } => match params.get(name) {
                    Some(v) => v.clone(),
                    None => continue,
                },
            };
            if let Some(inputs) = graph
                .get_mut(&mark.node)
                .and_then(|n| n.get_mut("inputs"))
                .and_then(Value::as_object_mut)
            {
                inputs.insert(mark.input.clone(), value);
            }
        }
        graph
    }

    /// The class type of a node, for progress messages.
    pub fn class_of(&self, node: &str) -> Option<&str> {
        self.graph.get(node)?["class_type"].as_str()
    }
}
