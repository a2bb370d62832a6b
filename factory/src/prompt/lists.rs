//! Wildcard lists for a template: loaded (with every list their values use, cycles and unknown
//! names refused up front), parsed, and counted, so expansion itself cannot fail or loop.

use std::collections::{BTreeMap, HashMap};

use super::parse::{
    self, line_column, matches_pattern, Node, PromptError, Span, Template, Variant,
};

/// Where wildcard lists come from (the project's lists, then the global ones).
pub trait WildcardSource {
    fn values(&self, name: &str) -> Option<Vec<String>>;
    /// Every list's name (for patterns like `cats/*`).
    fn names(&self) -> Vec<String>;
}

impl WildcardSource for HashMap<String, Vec<String>> {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        self.get(name).cloned()
    }

    fn names(&self) -> Vec<String> {
        self.keys().cloned().collect()
    }
}

impl WildcardSource for BTreeMap<String, Vec<String>> {
    fn values(&self, name: &str) -> Option<Vec<String>> {
        self.get(name).cloned()
    }

    fn names(&self) -> Vec<String> {
        self.keys().cloned().collect()
    }
}

pub(super) struct List {
    pub raw: Vec<String>,
    pub values: Vec<Template>,
    /// Upper bound of the combinations each value makes.
    pub counts: Vec<u64>,
}

/// Upper bound of the combinations `nodes` make: products of sequences; for a variant, the sum
/// over pick sizes k of k! times the elementary symmetric polynomial of its options' counts
/// (every order of every k different options). `lists` holds each list's per-value counts.
pub(super) fn count_with(nodes: &[Node], lists: &HashMap<String, Vec<u64>>) -> u64 {
    let list_total = |name: &str| {
        lists.get(name).map_or(0, |counts| {
            counts.iter().fold(0u64, |s, c| s.saturating_add(*c))
        })
    };
    nodes.iter().fold(1u64, |product, node| {
        let n = match node {
            Node::Text(_) => 1,
            Node::Wildcard(reference) => list_total(&reference.name),
            Node::Variant(variant) => {
                let counts: Vec<u64> = match variant.options.as_slice() {
                    [only] if only.only_wildcard().is_some() => {
                        let name = &only.only_wildcard().expect("matched above").name;
                        lists.get(name).cloned().unwrap_or_default()
                    }
                    options => options
                        .iter()
                        .map(|c| count_with(&c.nodes, lists))
                        .collect(),
                };
                orderings(variant, &counts)
            }
        };
        product.saturating_mul(n)
    })
}

/// Σ over k in the variant's bounds of k! · e_k(counts).
fn orderings(variant: &Variant, counts: &[u64]) -> u64 {
    let (min, max) = variant.bounds(counts.len());
    let mut e = vec![0u64; max + 1];
    e[0] = 1;
    for c in counts {
        for k in (1..=max).rev() {
            e[k] = e[k].saturating_add(e[k - 1].saturating_mul(*c));
        }
    }
    let mut factorial = 1u64;
    let mut total = 0u64;
    for (k, e_k) in e.iter().enumerate() {
        if k > 0 {
            factorial = factorial.saturating_mul(k as u64);
        }
        if k >= min {
            total = total.saturating_add(e_k.saturating_mul(factorial));
        }
    }
    total
}

/// Every wildcard reference in `nodes`, at any depth, with where it is.
pub(super) fn wildcard_refs(nodes: &[Node]) -> Vec<(String, Span)> {
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

pub(super) struct Loader<'a> {
    source: &'a str,
    wildcards: &'a dyn WildcardSource,
    /// Every list name, read once when a pattern needs them.
    names: Option<Vec<String>>,
    lists: HashMap<String, List>,
    stack: Vec<String>,
}

impl<'a> Loader<'a> {
    pub(super) fn new(source: &'a str, wildcards: &'a dyn WildcardSource) -> Self {
        Self {
            source,
            wildcards,
            names: None,
            lists: HashMap::new(),
            stack: Vec::new(),
        }
    }

    pub(super) fn into_lists(self) -> HashMap<String, List> {
        self.lists
    }

    /// The values of a list, or of every list a pattern matches (sorted, each once, as the
    /// reference reads them).
    fn raw_values(&mut self, name: &str) -> Option<Vec<String>> {
        if !name.contains('*') {
            return self.wildcards.values(name);
        }
        let names = self.names.get_or_insert_with(|| {
            let mut names = self.wildcards.names();
            names.sort();
            names
        });
        let matching: Vec<String> = names
            .iter()
            .filter(|n| matches_pattern(name, n))
            .cloned()
            .collect();
        if matching.is_empty() {
            return None;
        }
        let mut values: Vec<String> = matching
            .iter()
            .filter_map(|n| self.wildcards.values(n))
            .flatten()
            .collect();
        values.sort();
        values.dedup();
        Some(values)
    }

    /// Loads `name` and everything it refers to. `at` is the reference in the prompt that led
    /// here (errors point at it).
    pub(super) fn load(&mut self, name: &str, at: Span) -> Result<(), PromptError> {
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
        let Some(raw) = self.raw_values(name) else {
            let what = if name.contains('*') {
                format!("no wildcard list matches __{name}__")
            } else {
                format!("unknown wildcard __{name}__")
            };
            let message = match self.stack.last() {
                None => format!("{what}: create a list on the Wildcards page"),
                Some(user) => format!("__{user}__ uses __{name}__: {what}"),
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
        let known = self.counts();
        let counts = values
            .iter()
            .map(|t| count_with(&t.nodes, &known))
            .collect();
        self.lists.insert(
            name.to_string(),
            List {
                raw,
                values,
                counts,
            },
        );
        Ok(())
    }

    /// Each loaded list's per-value counts.
    pub(super) fn counts(&self) -> HashMap<String, Vec<u64>> {
        self.lists
            .iter()
            .map(|(n, list)| (n.clone(), list.counts.clone()))
            .collect()
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
