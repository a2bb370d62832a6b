//! Expansion: a parsed template, with every wildcard list it reaches, into items.
//!
//! [`Program::compile`] loads the lists (project first, then global, through a
//! [`WildcardSource`]), parses each value as a template of its own, and refuses unknown names
//! and cycles up front, so expansion itself cannot fail or loop. The count is bounded
//! arithmetically first ([`Program::upper_bound`], no enumeration), so nothing past a cap is
//! ever listed; then combinatorial expansion lists every combination the way the reference
//! implementation does — the last token varying fastest, a multi-pick's options in every
//! order, texts a variant already made dropped — and random expansion samples each item from
//! its own seeded stream.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::lists::{count_with, wildcard_refs, List, Loader, WildcardSource};
use super::parse::{self, line_column, Choice, Node, PromptError, Span, Template, Variant};
use crate::hashing::{fnv1a64, SplitMix64};

/// What one token chose for an item: the option index (several, in order, for a multi-pick)
/// and the text a person reads.
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

/// A template ready to expand.
pub struct Program {
    template: Template,
    lists: HashMap<String, List>,
    upper: u64,
}

/// One option a variant chooses from: its own option, or a value of the wildcard list the
/// variant consists of (`{2$$__colors__}`).
struct Candidate<'a> {
    nodes: &'a [Node],
    label: &'a str,
    weight: f64,
    /// Key prefix for the tokens inside it.
    prefix: String,
}

impl Program {
    pub fn compile(source: &str, wildcards: &dyn WildcardSource) -> Result<Self, PromptError> {
        let template = parse::parse(source)?;
        let mut loader = Loader::new(source, wildcards);
        for (name, span) in wildcard_refs(&template.nodes) {
            loader.load(&name, span)?;
        }
        let counts = loader.counts();
        Ok(Self {
            upper: count_with(&template.nodes, &counts),
            template,
            lists: loader.into_lists(),
        })
    }

    pub fn template(&self) -> &Template {
        &self.template
    }

    /// At least as many combinations as [`enumerate`](Self::enumerate) lists (saturating at
    /// `u64::MAX`): texts that repeat are dropped only while listing.
    pub fn upper_bound(&self) -> u64 {
        self.upper
    }

    /// Refuses what a combinatorial expansion cannot list: `{~...}` and `{@...}` choose for
    /// each image, so they belong to random batches.
    pub fn check_listable(&self, source: &str) -> Result<(), PromptError> {
        match first_per_image_choice(&self.template.nodes) {
            None => Ok(()),
            Some(span) => {
                let (line, column) = line_column(source, span.start);
                Err(PromptError {
                    offset: span.start,
                    line,
                    column,
                    message: "`~` and `@` choose one option per image (at random, or in turn); \
                              a combinatorial batch lists every combination instead, so switch \
                              the mode to random, or remove the marker"
                        .into(),
                })
            }
        }
    }

    /// Every combination, in order (last token fastest). Call only when
    /// [`upper_bound`](Self::upper_bound) is within a cap: that bounds the work.
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
        let text = self.sample_nodes(&self.template.nodes, "", &mut rng, &mut partial);
        partial.text = text;
        Item {
            prompt: partial.text,
            bindings: partial.bindings,
        }
    }

    fn candidates<'a>(&'a self, variant: &'a Variant, key: &str) -> Vec<Candidate<'a>> {
        if let [only] = variant.options.as_slice() {
            if let Some(reference) = only.only_wildcard() {
                let list = &self.lists[&reference.name];
                return list
                    .values
                    .iter()
                    .zip(&list.raw)
                    .map(|(value, raw)| Candidate {
                        nodes: &value.nodes,
                        label: raw,
                        weight: 1.0,
                        prefix: format!("{key}/"),
                    })
                    .collect();
            }
        }
        variant
            .options
            .iter()
            .map(|choice: &Choice| Candidate {
                nodes: &choice.nodes,
                label: &choice.label,
                weight: choice.weight,
                prefix: String::new(),
            })
            .collect()
    }

    fn sequence(&self, nodes: &[Node], prefix: &str) -> Vec<Partial> {
        let mut acc = vec![Partial::default()];
        for node in nodes {
            let alternatives = self.alternatives(node, prefix);
            acc = product(&acc, &alternatives);
        }
        acc
    }

    fn alternatives(&self, node: &Node, prefix: &str) -> Vec<Partial> {
        match node {
            Node::Text(text) => vec![Partial {
                text: text.clone(),
                bindings: Bindings::new(),
            }],
            Node::Variant(variant) => self.variant_alternatives(variant, prefix),
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

    /// Every pick of `min..=max` different options, each order of them, each combination of
    /// their own alternatives (first option slowest); a pick whose texts repeat, or repeat an
    /// earlier pick's, is left out — as the reference does.
    fn variant_alternatives(&self, variant: &Variant, prefix: &str) -> Vec<Partial> {
        let key = format!("{prefix}t{}", variant.token);
        let candidates = self.candidates(variant, &key);
        let (min, max) = variant.bounds(candidates.len());
        let expanded: Vec<Vec<Partial>> = candidates
            .iter()
            .map(|c| {
                let inner_prefix = if c.prefix.is_empty() {
                    prefix.to_string()
                } else {
                    c.prefix.clone()
                };
                self.sequence(c.nodes, &inner_prefix)
            })
            .collect();
        let mut seen: HashSet<Vec<String>> = HashSet::new();
        let mut out = Vec::new();
        for k in min..=max {
            for order in Permutations::new(&candidates, k) {
                let mut picks: Vec<(Vec<String>, Bindings)> = vec![(Vec::new(), Bindings::new())];
                for &i in &order {
                    let mut next = Vec::with_capacity(picks.len() * expanded[i].len());
                    for (parts, bindings) in &picks {
                        for p in &expanded[i] {
                            let mut parts = parts.clone();
                            parts.push(p.text.clone());
                            let mut bindings = bindings.clone();
                            bindings.extend(p.bindings.iter().map(|(k, v)| (k.clone(), v.clone())));
                            next.push((parts, bindings));
                        }
                    }
                    picks = next;
                }
                for (parts, mut bindings) in picks {
                    let distinct: HashSet<&String> = parts.iter().collect();
                    if distinct.len() != parts.len() || !seen.insert(parts.clone()) {
                        continue;
                    }
                    let label = order
                        .iter()
                        .map(|&i| candidates[i].label)
                        .collect::<Vec<_>>()
                        .join(&variant.joiner);
                    bindings.insert(
                        key.clone(),
                        Binding {
                            index: order.iter().map(|&i| i as u32).collect(),
                            value: label,
                        },
                    );
                    out.push(Partial {
                        text: join_picks(&parts, &variant.joiner),
                        bindings,
                    });
                }
            }
        }
        out
    }

    /// The sampled text of `nodes`, binding each choice into `out` as it goes.
    fn sample_nodes(
        &self,
        nodes: &[Node],
        prefix: &str,
        rng: &mut SplitMix64,
        out: &mut Partial,
    ) -> String {
        let mut text = String::new();
        for node in nodes {
            match node {
                Node::Text(t) => text.push_str(t),
                Node::Variant(variant) => {
                    let key = format!("{prefix}t{}", variant.token);
                    let candidates = self.candidates(variant, &key);
                    let (min, max) = variant.bounds(candidates.len());
                    let k = min + (rng.next_u64() % (max - min + 1) as u64) as usize;
                    let mut chosen = Vec::with_capacity(k);
                    for _ in 0..k {
                        chosen.push(weighted_index(&candidates, rng, &chosen));
                    }
                    let mut parts = Vec::with_capacity(k);
                    for &i in &chosen {
                        let c = &candidates[i];
                        let inner = if c.prefix.is_empty() {
                            prefix.to_string()
                        } else {
                            c.prefix.clone()
                        };
                        parts.push(self.sample_nodes(c.nodes, &inner, rng, out));
                    }
                    let label = chosen
                        .iter()
                        .map(|&i| candidates[i].label)
                        .collect::<Vec<_>>()
                        .join(&variant.joiner);
                    out.bind(&key, chosen.iter().map(|&i| i as u32).collect(), label);
                    text.push_str(&join_picks(&parts, &variant.joiner));
                }
                Node::Wildcard(reference) => {
                    let key = format!("{prefix}t{}", reference.token);
                    let list = &self.lists[&reference.name];
                    let i = (rng.next_u64() % list.values.len() as u64) as usize;
                    out.bind(&key, vec![i as u32], list.raw[i].clone());
                    let inner = format!("{key}/");
                    text.push_str(&self.sample_nodes(&list.values[i].nodes, &inner, rng, out));
                }
            }
        }
        text
    }
}

/// Picks joined as the reference joins them: one pick as it is; several with the joiner, less
/// one joiner at either end (left by an empty pick).
fn join_picks(parts: &[String], joiner: &str) -> String {
    if parts.len() == 1 {
        return parts[0].clone();
    }
    let joined = parts.join(joiner);
    if joiner.is_empty() {
        return joined;
    }
    let joined = joined.strip_prefix(joiner).unwrap_or(&joined);
    joined.strip_suffix(joiner).unwrap_or(joined).to_string()
}

/// A weighted pick among the candidates not in `taken`; all-zero weights count as equal.
fn weighted_index(candidates: &[Candidate<'_>], rng: &mut SplitMix64, taken: &[usize]) -> usize {
    let free: Vec<usize> = (0..candidates.len())
        .filter(|i| !taken.contains(i))
        .collect();
    let total: f64 = free.iter().map(|&i| candidates[i].weight).sum();
    let unit = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    if total <= 0.0 {
        return free[(unit * free.len() as f64) as usize % free.len()];
    }
    let mut target = unit * total;
    for &i in &free {
        target -= candidates[i].weight;
        if target < 0.0 {
            return i;
        }
    }
    *free
        .last()
        .expect("a pick never asks for more options than exist")
}

/// The first `~` or `@` in `nodes`, at any depth.
fn first_per_image_choice(nodes: &[Node]) -> Option<Span> {
    nodes.iter().find_map(|node| match node {
        Node::Text(_) => None,
        Node::Wildcard(r) => (!r.sampling.is_finite()).then_some(r.span),
        Node::Variant(v) if !v.sampling.is_finite() => Some(v.span),
        Node::Variant(v) => v
            .options
            .iter()
            .find_map(|c| first_per_image_choice(&c.nodes)),
    })
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

/// Every `a` followed by every `b` (b fastest).
fn product(a: &[Partial], b: &[Partial]) -> Vec<Partial> {
    let mut out = Vec::with_capacity(a.len() * b.len());
    for x in a {
        for y in b {
            let mut bindings = x.bindings.clone();
            bindings.extend(y.bindings.iter().map(|(k, v)| (k.clone(), v.clone())));
            out.push(Partial {
                text: format!("{}{}", x.text, y.text),
                bindings,
            });
        }
    }
    out
}

/// Ordered picks of `k` different candidates, in the reference's order: the first candidate
/// slowest; a candidate equal to one already picked (the same option written twice) is not
/// picked again.
struct Permutations {
    orders: std::vec::IntoIter<Vec<usize>>,
}

impl Permutations {
    fn new(candidates: &[Candidate<'_>], k: usize) -> Self {
        let mut orders = Vec::new();
        let mut current = Vec::with_capacity(k);
        extend(candidates, k, &mut current, &mut orders);
        Self {
            orders: orders.into_iter(),
        }
    }
}

fn extend(
    candidates: &[Candidate<'_>],
    k: usize,
    current: &mut Vec<usize>,
    out: &mut Vec<Vec<usize>>,
) {
    if current.len() == k {
        out.push(current.clone());
        return;
    }
    for i in 0..candidates.len() {
        let equal_taken = current
            .iter()
            .any(|&j| same_nodes(candidates[j].nodes, candidates[i].nodes));
        if equal_taken {
            continue;
        }
        current.push(i);
        extend(candidates, k, current, out);
        current.pop();
    }
}

impl Iterator for Permutations {
    type Item = Vec<usize>;

    fn next(&mut self) -> Option<Vec<usize>> {
        self.orders.next()
    }
}

/// Whether two options are the same option written twice (token numbers aside).
fn same_nodes(a: &[Node], b: &[Node]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Node::Text(x), Node::Text(y)) => x == y,
            (Node::Wildcard(x), Node::Wildcard(y)) => x.name == y.name && x.sampling == y.sampling,
            (Node::Variant(x), Node::Variant(y)) => {
                x.pick == y.pick
                    && x.joiner == y.joiner
                    && x.sampling == y.sampling
                    && x.options.len() == y.options.len()
                    && x.options
                        .iter()
                        .zip(&y.options)
                        .all(|(p, q)| p.weight == q.weight && same_nodes(&p.nodes, &q.nodes))
            }
            _ => false,
        })
}
