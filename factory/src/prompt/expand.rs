//! Expansion: a parsed template, with every wildcard list it reaches, into items.
//!
//! [`Program::compile`] loads the lists (project first, then global, through a
//! [`WildcardSource`]), parses each value as a template of its own, and refuses unknown names
//! and cycles up front, so expansion itself cannot fail or loop. Counting is arithmetic (no
//! enumeration); combinatorial expansion walks the Cartesian product with the last token
//! varying fastest; random expansion samples each item from its own seeded stream.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::parse::{self, line_column, Choice, Node, PromptError, Span, Template};
use crate::hashing::{fnv1a64, SplitMix64};

/// Where wildcard lists come from (the project's lists, then the global ones).
pub trait WildcardSource {
    fn values(&self, name: &str) -> Option<Vec<String>>;
}

impl WildcardSource for HashMap<String, Vec<String>> {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        self.get(name).cloned()
    }
}

impl WildcardSource for BTreeMap<String, Vec<String>> {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        self.get(name).cloned()
    }
}

/// What one token chose for an item: the option index (several for a multi-pick) and the text
/// a person reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Binding {
    #[serde(rename = "i")]
    pub index: Vec<u32>,
    #[serde(rename = "v")]
    pub value: String,
}

/// Token key (`t0`, `t2/t0` for a token inside a wildcard value, `#` for the repeat) to choice.
pub type Bindings = BTreeMap<String, Binding>;

/// The key of the repeat index (image `n` of the same expanded prompt).
pub const REPEAT_KEY: &str = "#";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub prompt: String,
    pub bindings: Bindings,
}

struct List {
    raw: Vec<String>,
    values: Vec<Template>,
    count: u64,
}

/// A template ready to expand.
pub struct Program {
    template: Template,
    lists: HashMap<String, List>,
    count: u64,
}

impl Program {
    pub fn compile(source: &str, wildcards: &dyn WildcardSource) -> Result<Self, PromptError> {
        let template = parse::parse(source)?;
        let mut loader = Loader {
            source,
            wildcards,
            lists: HashMap::new(),
            stack: Vec::new(),
        };
        for (name, span) in wildcard_refs(&template.nodes) {
            loader.load(&name, span)?;
        }
        let counts: HashMap<String, u64> = loader
            .lists
            .iter()
            .map(|(name, list)| (name.clone(), list.count))
            .collect();
        Ok(Self {
            count: count_with(&template.nodes, &counts),
            template,
            lists: loader.lists,
        })
    }

    pub fn template(&self) -> &Template {
        &self.template
    }

    /// Distinct combinations (saturating at `u64::MAX`).
    pub fn combinations(&self) -> u64 {
        self.count
    }

    /// Every combination, in order (last token fastest). Call only when
    /// [`combinations`](Self::combinations) is within a cap.
    pub fn enumerate(&self) -> Vec<Item> {
        self.sequence(&self.template.nodes, "")
            .into_iter()
            .map(|p| Item {
                prompt: p.text,
                bindings: p.bindings,
            })
            .collect()
    }

    /// Item `index` of a random batch: the same batch seed and index always give the same item.
    pub fn sample(&self, batch_seed: i64, index: u64) -> Item {
        let mut key = batch_seed.to_le_bytes().to_vec();
        key.extend_from_slice(&index.to_le_bytes());
        let mut rng = SplitMix64::new(fnv1a64(&key));
        let mut partial = Partial::default();
        self.sample_nodes(&self.template.nodes, "", &mut rng, &mut partial);
        Item {
            prompt: partial.text,
            bindings: partial.bindings,
        }
    }

    fn sequence(&self, nodes: &[Node], prefix: &str) -> Vec<Partial> {
        let mut acc = vec![Partial::default()];
        for node in nodes {
            let alternatives = self.alternatives(node, prefix);
            acc = product(&acc, &alternatives, "");
        }
        acc
    }

    fn alternatives(&self, node: &Node, prefix: &str) -> Vec<Partial> {
        match node {
            Node::Text(text) => vec![Partial {
                text: text.clone(),
                bindings: Bindings::new(),
            }],
            Node::Variant(variant) => {
                let key = format!("{prefix}t{}", variant.token);
                let mut out = Vec::new();
                match variant.pick {
                    None => {
                        for (i, choice) in variant.options.iter().enumerate() {
                            for mut p in self.sequence(&choice.nodes, prefix) {
                                p.bind(&key, vec![i as u32], choice.label.clone());
                                out.push(p);
                            }
                        }
                    }
                    Some(pick) => {
                        for k in pick.min..=pick.max {
                            for combo in Combinations::new(variant.options.len(), k) {
                                let mut acc = vec![Partial::default()];
                                for (n, &i) in combo.iter().enumerate() {
                                    let parts = self.sequence(&variant.options[i].nodes, prefix);
                                    let joiner = if n == 0 { "" } else { variant.joiner.as_str() };
                                    acc = product(&acc, &parts, joiner);
                                }
                                let value =
                                    joined_labels(&variant.options, &combo, &variant.joiner);
                                let index: Vec<u32> = combo.iter().map(|&i| i as u32).collect();
                                for mut p in acc {
                                    p.bind(&key, index.clone(), value.clone());
                                    out.push(p);
                                }
                            }
                        }
                    }
                }
                out
            }
            Node::Wildcard(reference) => {
                let key = format!("{prefix}t{}", reference.token);
                let list = &self.lists[&reference.name];
                let inner = format!("{key}/");
                let mut out = Vec::new();
                for (i, value) in list.values.iter().enumerate() {
                    for mut p in self.sequence(&value.nodes, &inner) {
                        p.bind(&key, vec![i as u32], list.raw[i].clone());
                        out.push(p);
                    }
                }
                out
            }
        }
    }

    fn sample_nodes(&self, nodes: &[Node], prefix: &str, rng: &mut SplitMix64, out: &mut Partial) {
        for node in nodes {
            match node {
                Node::Text(text) => out.text.push_str(text),
                Node::Variant(variant) => {
                    let key = format!("{prefix}t{}", variant.token);
                    match variant.pick {
                        None => {
                            let i = weighted_index(&variant.options, rng, &[]);
                            let choice = &variant.options[i];
                            out.bind(&key, vec![i as u32], choice.label.clone());
                            self.sample_nodes(&choice.nodes, prefix, rng, out);
                        }
                        Some(pick) => {
                            let span = (pick.max - pick.min + 1) as u64;
                            let k = pick.min + (rng.next_u64() % span) as usize;
                            let mut chosen = Vec::with_capacity(k);
                            for _ in 0..k {
                                chosen.push(weighted_index(&variant.options, rng, &chosen));
                            }
                            chosen.sort_unstable();
                            for (n, &i) in chosen.iter().enumerate() {
                                if n > 0 {
                                    out.text.push_str(&variant.joiner);
                                }
                                self.sample_nodes(&variant.options[i].nodes, prefix, rng, out);
                            }
                            let value = joined_labels(&variant.options, &chosen, &variant.joiner);
                            out.bind(&key, chosen.iter().map(|&i| i as u32).collect(), value);
                        }
                    }
                }
                Node::Wildcard(reference) => {
                    let key = format!("{prefix}t{}", reference.token);
                    let list = &self.lists[&reference.name];
                    let i = (rng.next_u64() % list.values.len() as u64) as usize;
                    out.bind(&key, vec![i as u32], list.raw[i].clone());
                    self.sample_nodes(&list.values[i].nodes, &format!("{key}/"), rng, out);
                }
            }
        }
    }
}

/// A weighted pick among the options not in `taken`; all-zero weights count as equal.
fn weighted_index(options: &[Choice], rng: &mut SplitMix64, taken: &[usize]) -> usize {
    let free: Vec<usize> = (0..options.len()).filter(|i| !taken.contains(i)).collect();
    let total: f64 = free.iter().map(|&i| options[i].weight).sum();
    let unit = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    if total <= 0.0 {
        return free[(unit * free.len() as f64) as usize % free.len()];
    }
    let mut target = unit * total;
    for &i in &free {
        target -= options[i].weight;
        if target < 0.0 {
            return i;
        }
    }
    *free
        .last()
        .expect("a pick never asks for more options than exist")
}

fn joined_labels(options: &[Choice], picked: &[usize], joiner: &str) -> String {
    picked
        .iter()
        .map(|&i| options[i].label.as_str())
        .collect::<Vec<_>>()
        .join(joiner)
}

fn count_with(nodes: &[Node], lists: &HashMap<String, u64>) -> u64 {
    nodes.iter().fold(1u64, |product, node| {
        let n = match node {
            Node::Text(_) => 1,
            Node::Wildcard(reference) => lists.get(&reference.name).copied().unwrap_or(0),
            Node::Variant(variant) => {
                let counts: Vec<u64> = variant
                    .options
                    .iter()
                    .map(|c| count_with(&c.nodes, lists))
                    .collect();
                match variant.pick {
                    None => counts.iter().fold(0u64, |s, c| s.saturating_add(*c)),
                    Some(pick) => {
                        // e[k]: the sum over k-option combinations of the product of their
                        // counts (elementary symmetric polynomials).
                        let mut e = vec![0u64; pick.max + 1];
                        e[0] = 1;
                        for c in &counts {
                            for k in (1..=pick.max).rev() {
                                e[k] = e[k].saturating_add(e[k - 1].saturating_mul(*c));
                            }
                        }
                        e[pick.min..=pick.max]
                            .iter()
                            .fold(0u64, |s, x| s.saturating_add(*x))
                    }
                }
            }
        };
        product.saturating_mul(n)
    })
}

/// Every wildcard reference in `nodes`, at any depth, with where it is.
fn wildcard_refs(nodes: &[Node]) -> Vec<(String, Span)> {
    let mut out = Vec::new();
    for node in nodes {
        match node {
            Node::Text(_) => {}
            Node::Wildcard(r) => out.push((r.name.clone(), r.span)),
            Node::Variant(v) => {
                for choice in &v.options {
                    out.extend(wildcard_refs(&choice.nodes));
                }
            }
        }
    }
    out
}

struct Loader<'a> {
    source: &'a str,
    wildcards: &'a dyn WildcardSource,
    lists: HashMap<String, List>,
    stack: Vec<String>,
}

impl Loader<'_> {
    /// Loads `name` and everything it refers to. `at` is the reference in the prompt that led
    /// here (errors point at it).
    fn load(&mut self, name: &str, at: Span) -> Result<(), PromptError> {
        if let Some(i) = self.stack.iter().position(|n| n == name) {
            let mut chain: Vec<String> =
                self.stack[i..].iter().map(|n| format!("__{n}__")).collect();
            chain.push(format!("__{name}__"));
            return Err(self.error(
                at,
                format!(
                    "wildcard cycle: {}; a list cannot use itself",
                    chain.join(" uses ")
                ),
            ));
        }
        if self.lists.contains_key(name) {
            return Ok(());
        }
        let Some(raw) = self.wildcards.values(name) else {
            let message = match self.stack.last() {
                None => format!(
                    "unknown wildcard __{name}__: create a list named “{name}” on the Wildcards page"
                ),
                Some(user) => format!(
                    "__{user}__ uses __{name}__, which does not exist: create a list named “{name}”"
                ),
            };
            return Err(self.error(at, message));
        };
        if raw.is_empty() {
            return Err(self.error(
                at,
                format!("the wildcard list “{name}” is empty: add at least one value"),
            ));
        }
        let mut values = Vec::with_capacity(raw.len());
        for (i, value) in raw.iter().enumerate() {
            let template = parse::parse(value).map_err(|e| {
                self.error(
                    at,
                    format!("in __{name}__, value {} (“{value}”), {e}", i + 1),
                )
            })?;
            values.push(template);
        }
        self.stack.push(name.to_string());
        for template in &values {
            for (inner, _) in wildcard_refs(&template.nodes) {
                self.load(&inner, at)?;
            }
        }
        self.stack.pop();
        // Every list this one uses is loaded (and counted) by now.
        let counts: HashMap<String, u64> = self
            .lists
            .iter()
            .map(|(n, list)| (n.clone(), list.count))
            .collect();
        let count = values.iter().fold(0u64, |sum, t| {
            sum.saturating_add(count_with(&t.nodes, &counts))
        });
        self.lists
            .insert(name.to_string(), List { raw, values, count });
        Ok(())
    }

    fn error(&self, at: Span, message: String) -> PromptError {
        let (line, column) = line_column(self.source, at.start);
        PromptError {
            offset: at.start,
            line,
            column,
            message,
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Partial {
    text: String,
    bindings: Bindings,
}

impl Partial {
    fn bind(&mut self, key: &str, index: Vec<u32>, value: String) {
        self.bindings
            .insert(key.to_string(), Binding { index, value });
    }
}

/// Every `a` followed by every `b` (b fastest), texts joined with `joiner`.
fn product(a: &[Partial], b: &[Partial], joiner: &str) -> Vec<Partial> {
    let mut out = Vec::with_capacity(a.len() * b.len());
    for x in a {
        for y in b {
            let mut text = String::with_capacity(x.text.len() + joiner.len() + y.text.len());
            text.push_str(&x.text);
            text.push_str(joiner);
            text.push_str(&y.text);
            let mut bindings = x.bindings.clone();
            bindings.extend(y.bindings.iter().map(|(k, v)| (k.clone(), v.clone())));
            out.push(Partial { text, bindings });
        }
    }
    out
}

/// k-combinations of `0..n` in lexicographic order.
struct Combinations {
    n: usize,
    current: Option<Vec<usize>>,
}

impl Combinations {
    fn new(n: usize, k: usize) -> Self {
        Self {
            n,
            current: (k <= n).then(|| (0..k).collect()),
        }
    }
}

impl Iterator for Combinations {
    type Item = Vec<usize>;

    fn next(&mut self) -> Option<Vec<usize>> {
        let combo = self.current.take()?;
        let k = combo.len();
        let mut next = combo.clone();
        let mut i = k;
        while i > 0 {
            i -= 1;
            if next[i] < self.n - k + i {
                next[i] += 1;
                for j in i + 1..k {
                    next[j] = next[j - 1] + 1;
                }
                self.current = Some(next);
                break;
            }
        }
        Some(combo)
    }
}
