//! Cache keys and seeds of a pipeline's steps.
//!
//! A step's key is a SHA-256 over, in order and each length-prefixed: the scheme's name, the
//! step kind and its generator version, its parameters in canonical JSON (keys sorted, whole
//! numbers written as integers), the provider model's version where the provider reports one,
//! and for each input port (by name) the keys of the steps linked into it with their output
//! port. That is the step's *seedless* key; its seed is fixed or derived from the run seed and
//! the seedless key, and goes into the final key with, for an "always run" step, the run's id.
//! Names and positions of steps never enter a key, so renaming or reordering changes nothing;
//! anything a step's result depends on does, and so for every step after it.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::graph::{Graph, SeedRule, Step};
use crate::batches::SEED_MAX;

/// Changing how keys are made changes this name, so no old entry can match by accident.
pub const KEY_SCHEME: &str = "art-factory/pipeline-step/1";

/// A step's cache key: 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StepKey(String);

impl StepKey {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A key read back from the database (checked to be one).
    pub fn parse(text: &str) -> Option<Self> {
        crate::media::valid_hash(text).then(|| Self(text.to_string()))
    }
}

impl std::fmt::Display for StepKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the keys of one run depend on besides the graph.
pub struct KeyInputs<'a> {
    pub run_seed: i64,
    /// Makes an "always run" step's key (and those after it) this run's alone.
    pub run_id: i64,
    /// The version a provider reports for a model (`None` where it reports none).
    pub model_version: &'a (dyn Fn(&str, &str) -> Option<String> + Sync),
    /// The content hash of the picture the run starts from, for its input step.
    pub input_picture: Option<&'a str>,
}

/// One step's key and seed for a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub key: StepKey,
    /// `None` for steps whose result does not depend on one.
    pub seed: Option<i64>,
}

/// The key and seed of every step (indexed as `graph.steps`), computed in `order`: the order
/// [`Graph::check`] returns, where each step comes after those it depends on.
pub fn plan(graph: &Graph, order: &[usize], inputs: &KeyInputs) -> Vec<Planned> {
    let mut planned: Vec<Option<Planned>> = vec![None; graph.steps.len()];
    for &index in order {
        let step = &graph.steps[index];
        let key_of = |name: &str| {
            let from = graph
                .index_of(name)
                .expect("a checked graph's links resolve");
            planned[from]
                .as_ref()
                .expect("dependencies come first in a checked order")
                .key
                .clone()
        };
        let seedless = seedless_key(step, inputs, key_of);
        let seed = step.kind.uses_seed().then(|| match step.seed {
            SeedRule::Fixed { seed } => seed,
            SeedRule::Derived => derive_seed(inputs.run_seed, &seedless),
        });
        let mut hash = Sha256::new();
        field(&mut hash, &seedless);
        match seed {
            Some(seed) => field(&mut hash, format!("seed {seed}").as_bytes()),
            None => field(&mut hash, b"no seed"),
        }
        if step.always_run {
            field(&mut hash, format!("run {}", inputs.run_id).as_bytes());
        }
        planned[index] = Some(Planned {
            key: StepKey(hex(&hash.finalize())),
            seed,
        });
    }
    planned
        .into_iter()
        .map(|p| p.expect("the order covers every step"))
        .collect()
}

fn seedless_key(step: &Step, inputs: &KeyInputs, key_of: impl Fn(&str) -> StepKey) -> [u8; 32] {
    let mut hash = Sha256::new();
    field(&mut hash, KEY_SCHEME.as_bytes());
    field(&mut hash, step.kind.name().as_bytes());
    field(
        &mut hash,
        step.kind.generator_version().to_string().as_bytes(),
    );
    let params = serde_json::to_value(&step.kind).expect("a step kind serializes");
    field(&mut hash, canonical(&params).as_bytes());
    let version = step
        .kind
        .provider_model()
        .and_then(|(provider, model)| (inputs.model_version)(provider, model));
    field(&mut hash, version.unwrap_or_default().as_bytes());
    if matches!(step.kind, super::graph::StepKind::Input {}) {
        field(
            &mut hash,
            inputs.input_picture.unwrap_or_default().as_bytes(),
        );
    }
    for (port, links) in &step.inputs {
        field(&mut hash, port.as_bytes());
        field(&mut hash, links.len().to_string().as_bytes());
        for link in links {
            field(&mut hash, key_of(&link.step).as_str().as_bytes());
            field(&mut hash, link.output.as_bytes());
        }
    }
    hash.finalize().into()
}

/// The seed of a "derived" step: the same for the same run seed and step, whatever else runs.
fn derive_seed(run_seed: i64, seedless: &[u8; 32]) -> i64 {
    let mut hash = Sha256::new();
    field(&mut hash, b"seed");
    field(&mut hash, &run_seed.to_le_bytes());
    field(&mut hash, seedless);
    to_seed(&hash.finalize())
}

/// The seed of a variations step's `index`th output: related, reproducible, each its own.
pub fn variation_seed(step_seed: i64, index: u32) -> i64 {
    let mut hash = Sha256::new();
    field(&mut hash, b"variation");
    field(&mut hash, &step_seed.to_le_bytes());
    field(&mut hash, &index.to_le_bytes());
    to_seed(&hash.finalize())
}

fn to_seed(digest: &[u8]) -> i64 {
    let first = u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"));
    (first % (SEED_MAX as u64 + 1)) as i64
}

/// Length-prefixed, so no two different field lists hash the same bytes.
fn field(hash: &mut Sha256, bytes: &[u8]) {
    hash.update((bytes.len() as u64).to_le_bytes());
    hash.update(bytes);
}

/// JSON with object keys sorted and whole numbers as integers: the same parameters give the
/// same text however they were written.
pub fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
                out.push_str(&(f as i64).to_string())
            }
            _ => out.push_str(&n.to_string()),
        },
        other => out.push_str(&other.to_string()),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
