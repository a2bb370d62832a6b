//! A pipeline's graph: steps (generators with typed ports), the links from one step's output to
//! another's input, and the checks a graph passes before it is saved.
//!
//! Links name their source step by its name, so a list of steps reads on its own; the cache keys
//! never see a name or a position (`keys`), so renaming or reordering steps changes nothing that
//! runs.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// More steps than this are refused: a graph's checks and keys are bounded work.
pub const MAX_STEPS: usize = 500;
/// The most outputs one variations step makes.
pub const MAX_VARIATIONS: u32 = 16;

/// What travels along a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortType {
    Image,
    Images,
    Text,
    Number,
    Seed,
}

impl PortType {
    pub fn name(self) -> &'static str {
        match self {
            PortType::Image => "image",
            PortType::Images => "images",
            PortType::Text => "text",
            PortType::Number => "number",
            PortType::Seed => "seed",
        }
    }
}

impl std::fmt::Display for PortType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One input a step kind takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputSpec {
    pub name: &'static str,
    pub accepts: &'static [PortType],
    /// Takes any number of links (a contact sheet's pictures); otherwise exactly one.
    pub many: bool,
}

/// How an upscale step enlarges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Upscale {
    /// On this machine: Lanczos-3 with the SIMD resizer, by `factor` (1 to 8).
    Lanczos { factor: f64 },
    /// A provider's upscaler model.
    Provider {
        provider: String,
        model: String,
        #[serde(default)]
        params: Map<String, Value>,
    },
}

/// How a crop/resize step fits the picture into its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fit {
    /// Scaled to fit inside, keeping the aspect ratio.
    #[default]
    Contain,
    /// Scaled to cover, then the middle cropped out.
    Cover,
    /// Scaled to exactly the size.
    Stretch,
}

/// A call to a provider's model with a prompt (the prompt language applies).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderCall {
    pub provider: String,
    pub model: String,
    pub prompt: String,
    #[serde(default)]
    pub negative_prompt: String,
    #[serde(default)]
    pub params: Map<String, Value>,
}

/// What a step does, with its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepKind {
    /// The picture a run starts from ("run this pipeline on this image"): chosen per run, and
    /// part of the key by its content.
    Input {},
    /// A text-to-image generation on any provider.
    Generate {
        #[serde(flatten)]
        call: ProviderCall,
    },
    /// A picture made from its input picture and a prompt.
    ImageToImage {
        #[serde(flatten)]
        call: ProviderCall,
    },
    Upscale {
        #[serde(flatten)]
        how: Upscale,
    },
    CropResize {
        width: u32,
        height: u32,
        #[serde(default)]
        fit: Fit,
    },
    /// `count` related image-to-image outputs of one picture (seeds derived from the step's).
    Variations {
        #[serde(flatten)]
        call: ProviderCall,
        count: u32,
    },
    /// Its pictures laid out in a labelled grid.
    ContactSheet {
        columns: u32,
        #[serde(default)]
        title: String,
        #[serde(default = "yes")]
        labels: bool,
    },
}

fn yes() -> bool {
    true
}

const IMAGE_IN: InputSpec = InputSpec {
    name: "image",
    accepts: &[PortType::Image],
    many: false,
};
const PICTURES_IN: InputSpec = InputSpec {
    name: "images",
    accepts: &[PortType::Image, PortType::Images],
    many: true,
};

impl StepKind {
    /// The kind's name on the wire and in the cache key.
    pub fn name(&self) -> &'static str {
        match self {
            StepKind::Input {} => "input",
            StepKind::Generate { .. } => "generate",
            StepKind::ImageToImage { .. } => "image_to_image",
            StepKind::Upscale { .. } => "upscale",
            StepKind::CropResize { .. } => "crop_resize",
            StepKind::Variations { .. } => "variations",
            StepKind::ContactSheet { .. } => "contact_sheet",
        }
    }

    pub fn inputs(&self) -> &'static [InputSpec] {
        match self {
            StepKind::Input {} | StepKind::Generate { .. } => &[],
            StepKind::ImageToImage { .. }
            | StepKind::Upscale { .. }
            | StepKind::CropResize { .. }
            | StepKind::Variations { .. } => &[IMAGE_IN],
            StepKind::ContactSheet { .. } => &[PICTURES_IN],
        }
    }

    /// The step's one output, by name and type.
    pub fn output(&self) -> (&'static str, PortType) {
        match self {
            StepKind::Variations { .. } => ("images", PortType::Images),
            _ => ("image", PortType::Image),
        }
    }

    /// The prompted provider call it makes, if any.
    pub fn call(&self) -> Option<&ProviderCall> {
        match self {
            StepKind::Generate { call }
            | StepKind::ImageToImage { call }
            | StepKind::Variations { call, .. } => Some(call),
            _ => None,
        }
    }

    /// The provider and model it calls, if any (for the model's version and the cost).
    pub fn provider_model(&self) -> Option<(&str, &str)> {
        match self {
            StepKind::Upscale {
                how: Upscale::Provider {
                    provider, model, ..
                },
            } => Some((provider, model)),
            _ => self.call().map(|c| (c.provider.as_str(), c.model.as_str())),
        }
    }

    /// Whether its result depends on a seed (what runs on this machine here is deterministic).
    pub fn uses_seed(&self) -> bool {
        self.provider_model().is_some()
    }

    /// Whether a provider makes its result (it runs as a batch of jobs in the queue).
    pub fn on_provider(&self) -> bool {
        self.provider_model().is_some()
    }

    /// Bumped when what a kind makes from the same inputs changes, so old cache entries stop
    /// matching.
    pub fn generator_version(&self) -> u32 {
        1
    }

    /// Its own parameters' problems (ranges, empty names), each as a sentence.
    fn check(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some((provider, model)) = self.provider_model() {
            if provider.trim().is_empty() {
                problems.push("needs a provider".to_string());
            }
            if model.trim().is_empty() {
                problems.push("needs a model".to_string());
            }
        }
        if self.call().is_some_and(|c| c.prompt.trim().is_empty()) {
            problems.push("needs a prompt".to_string());
        }
        match self {
            StepKind::Variations { count, .. } if !(1..=MAX_VARIATIONS).contains(count) => {
                problems.push(format!(
                    "makes 1 to {MAX_VARIATIONS} variations, not {count}"
                ));
            }
            StepKind::Upscale {
                how: Upscale::Lanczos { factor },
            } if !(1.0..=8.0).contains(factor) => {
                problems.push(format!("upscales by 1 to 8 times, not {factor}"));
            }
            StepKind::CropResize { width, height, .. }
                if !(1..=crate::media::MAX_SIDE).contains(width)
                    || !(1..=crate::media::MAX_SIDE).contains(height) =>
            {
                problems.push(format!(
                    "sizes are 1 to {} pixels a side, not {width}×{height}",
                    crate::media::MAX_SIDE
                ));
            }
            StepKind::ContactSheet { columns, .. } if !(1..=32).contains(columns) => {
                problems.push(format!("has 1 to 32 columns, not {columns}"));
            }
            _ => {}
        }
        problems
    }
}

/// Where a step's seed comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum SeedRule {
    /// From the run's seed and the step's key: a new run seed gives new pictures, the same run
    /// seed the same ones (and no provider call at all, from the cache).
    #[default]
    Derived,
    Fixed {
        seed: i64,
    },
}

/// A link into an input: the step it comes from (by name) and that step's output port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub step: String,
    pub output: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Unique in its pipeline; a label for people and links, never part of a key.
    pub name: String,
    #[serde(flatten)]
    pub kind: StepKind,
    #[serde(default)]
    pub seed: SeedRule,
    /// Runs on every run, never from the cache (and so do the steps after it).
    #[serde(default)]
    pub always_run: bool,
    /// Input port -> the links into it, in order.
    #[serde(default)]
    pub inputs: BTreeMap<String, Vec<Link>>,
}

/// The steps of one pipeline version.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Graph {
    pub steps: Vec<Step>,
}

/// What is wrong with a graph, naming the step (and port) it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error("a pipeline needs at least one step")]
    Empty,
    #[error("a pipeline has at most {MAX_STEPS} steps, not {0}")]
    TooManySteps(usize),
    #[error("step {index} needs a name")]
    Unnamed { index: usize },
    #[error("two steps are called “{step}”; names must differ")]
    DuplicateName { step: String },
    #[error("step “{step}” {problem}")]
    Parameter { step: String, problem: String },
    #[error("step “{step}” has no input “{port}” (it takes: {takes})")]
    UnknownInput {
        step: String,
        port: String,
        takes: String,
    },
    #[error("step “{step}”, input “{port}”: there is no step “{from}”")]
    Dangling {
        step: String,
        port: String,
        from: String,
    },
    #[error(
        "step “{step}”, input “{port}”: step “{from}” has no output “{output}” (it has “{has}”)"
    )]
    UnknownOutput {
        step: String,
        port: String,
        from: String,
        output: String,
        has: String,
    },
    #[error("step “{step}”, input “{port}” takes {expected}, but “{from}” gives {found}")]
    TypeMismatch {
        step: String,
        port: String,
        from: String,
        expected: String,
        found: PortType,
    },
    #[error("step “{step}”, input “{port}” is not connected")]
    Missing { step: String, port: String },
    #[error("step “{step}”, input “{port}” takes one link, not {links}")]
    TooManyLinks {
        step: String,
        port: String,
        links: usize,
    },
    #[error("steps {} depend on each other in a cycle", list(.steps))]
    Cycle { steps: Vec<String> },
}

fn list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("“{n}”"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Graph {
    /// Every problem of the graph (all of them, so a person fixes them in one go), or the steps
    /// in an order where each comes after everything it depends on (ties by list order).
    pub fn check(&self) -> Result<Vec<usize>, Vec<GraphError>> {
        if self.steps.is_empty() {
            return Err(vec![GraphError::Empty]);
        }
        if self.steps.len() > MAX_STEPS {
            return Err(vec![GraphError::TooManySteps(self.steps.len())]);
        }
        let mut errors = Vec::new();
        let mut by_name: HashMap<&str, usize> = HashMap::new();
        for (index, step) in self.steps.iter().enumerate() {
            if step.name.trim().is_empty() {
                errors.push(GraphError::Unnamed { index: index + 1 });
            } else if by_name.insert(step.name.as_str(), index).is_some() {
                errors.push(GraphError::DuplicateName {
                    step: step.name.clone(),
                });
            }
            errors.extend(
                step.kind
                    .check()
                    .into_iter()
                    .map(|problem| GraphError::Parameter {
                        step: step.name.clone(),
                        problem,
                    }),
            );
        }
        let mut edges: Vec<Vec<usize>> = vec![Vec::new(); self.steps.len()];
        for (index, step) in self.steps.iter().enumerate() {
            errors.extend(self.check_inputs(step, &by_name, |from| edges[index].push(from)));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        topological(&edges).map_err(|cycle| {
            vec![GraphError::Cycle {
                steps: cycle
                    .into_iter()
                    .map(|i| self.steps[i].name.clone())
                    .collect(),
            }]
        })
    }

    /// The problems of one step's links; each link that checks out is reported to `depends`.
    fn check_inputs(
        &self,
        step: &Step,
        by_name: &HashMap<&str, usize>,
        mut depends: impl FnMut(usize),
    ) -> Vec<GraphError> {
        let mut errors = Vec::new();
        let specs = step.kind.inputs();
        for port in step.inputs.keys() {
            if !specs.iter().any(|s| s.name == port) {
                let takes = specs.iter().map(|s| s.name).collect::<Vec<_>>();
                errors.push(GraphError::UnknownInput {
                    step: step.name.clone(),
                    port: port.clone(),
                    takes: if takes.is_empty() {
                        "nothing".into()
                    } else {
                        takes.join(", ")
                    },
                });
            }
        }
        for spec in specs {
            let links = step.inputs.get(spec.name).map_or(&[][..], Vec::as_slice);
            let (step_name, port) = (step.name.clone(), spec.name.to_string());
            if links.is_empty() {
                errors.push(GraphError::Missing {
                    step: step_name,
                    port,
                });
                continue;
            }
            if !spec.many && links.len() > 1 {
                errors.push(GraphError::TooManyLinks {
                    step: step_name.clone(),
                    port: port.clone(),
                    links: links.len(),
                });
            }
            for link in links {
                let Some(&from) = by_name.get(link.step.as_str()) else {
                    errors.push(GraphError::Dangling {
                        step: step_name.clone(),
                        port: port.clone(),
                        from: link.step.clone(),
                    });
                    continue;
                };
                let (output, found) = self.steps[from].kind.output();
                if link.output != output {
                    errors.push(GraphError::UnknownOutput {
                        step: step_name.clone(),
                        port: port.clone(),
                        from: link.step.clone(),
                        output: link.output.clone(),
                        has: output.to_string(),
                    });
                } else if !spec.accepts.contains(&found) {
                    errors.push(GraphError::TypeMismatch {
                        step: step_name.clone(),
                        port: port.clone(),
                        from: link.step.clone(),
                        expected: spec
                            .accepts
                            .iter()
                            .map(|t| t.name())
                            .collect::<Vec<_>>()
                            .join(" or "),
                        found,
                    });
                } else {
                    depends(from);
                }
            }
        }
        errors
    }

    /// The index of the step called `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.name == name)
    }
}

/// Kahn's algorithm over `edges[step] = the steps it depends on`, taking the lowest ready index
/// first; `Err` with the steps of one cycle when there is one.
fn topological(edges: &[Vec<usize>]) -> Result<Vec<usize>, Vec<usize>> {
    let n = edges.len();
    let mut waiting_on: Vec<usize> = edges.iter().map(Vec::len).collect();
    let mut dependants: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (step, deps) in edges.iter().enumerate() {
        for &dep in deps {
            dependants[dep].push(step);
        }
    }
    let mut ready: std::collections::BTreeSet<usize> =
        (0..n).filter(|&i| waiting_on[i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(step) = ready.pop_first() {
        order.push(step);
        for &next in &dependants[step] {
            waiting_on[next] -= 1;
            if waiting_on[next] == 0 {
                ready.insert(next);
            }
        }
    }
    if order.len() == n {
        return Ok(order);
    }
    // Walk back along unfinished dependencies from any unfinished step until one repeats.
    let mut seen: Vec<Option<usize>> = vec![None; n];
    let mut at = (0..n).find(|&i| waiting_on[i] > 0).expect("a step is left");
    let mut path = Vec::new();
    loop {
        if let Some(pos) = seen[at] {
            let mut cycle: Vec<usize> = path[pos..].to_vec();
            cycle.sort_unstable();
            return Err(cycle);
        }
        seen[at] = Some(path.len());
        path.push(at);
        at = *edges[at]
            .iter()
            .find(|&&d| waiting_on[d] > 0)
            .expect("an unfinished step waits on an unfinished step");
    }
}
