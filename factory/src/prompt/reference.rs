//! The prompt language against the reference implementation: every template of the recorded
//! corpus (`factory/tests/data/dynamicprompts.json`, written by
//! `scripts/prompt-reference/record.py` with the `dynamicprompts` library) expands here to the
//! same number of prompts and the same first prompts, or differs in a way listed, with its
//! reason, in `docs/PROMPTS.md`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Expansion, Mode};

#[derive(Deserialize)]
struct Corpus {
    reference: String,
    max_prompts: usize,
    first: usize,
    wildcards: BTreeMap<String, Vec<String>>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    template: String,
    count: Option<usize>,
    #[serde(default)]
    first: Vec<String>,
    error: Option<String>,
}

/// What a template came to: a count and the first prompts, or an error.
#[derive(Debug, PartialEq)]
enum Outcome {
    Prompts { count: usize, first: Vec<String> },
    Error,
}

fn corpus() -> Corpus {
    serde_json::from_str(include_str!("../../tests/data/dynamicprompts.json"))
        .expect("the corpus is valid JSON")
}

fn ours(corpus: &Corpus, template: &str) -> Outcome {
    let expansion = Expansion {
        mode: Mode::Combinatorial,
        count: 1,
        batch_seed: 0,
        cap: corpus.max_prompts as u64,
    };
    match expansion.expand(template, &corpus.wildcards) {
        Ok(expanded) => {
            // The reference's generator makes no prompt of an empty template.
            let mut prompts: Vec<String> = expanded.items.into_iter().map(|i| i.prompt).collect();
            if template.is_empty() {
                prompts.clear();
            }
            Outcome::Prompts {
                count: prompts.len(),
                first: prompts.into_iter().take(corpus.first).collect(),
            }
        }
        Err(_) => Outcome::Error,
    }
}

fn reference(case: &Case) -> Outcome {
    match (case.count, &case.error) {
        (Some(count), None) => Outcome::Prompts {
            count,
            first: case.first.clone(),
        },
        _ => Outcome::Error,
    }
}

/// The deliberate differences: template, the section of `docs/PROMPTS.md` that gives the
/// reason, and what this implementation makes of it instead.
fn differences() -> Vec<(&'static str, &'static str, Outcome)> {
    let prompts = |first: &[&str]| Outcome::Prompts {
        count: first.len(),
        first: first.iter().map(|s| s.to_string()).collect(),
    };
    vec![
        (
            "__unsorted__",
            "list-order",
            prompts(&["zebra", "apple", "mango"]),
        ),
        (
            "{2$$__unsorted__}",
            "list-order",
            prompts(&[
                "zebra,apple",
                "zebra,mango",
                "apple,zebra",
                "apple,mango",
                "mango,zebra",
                "mango,apple",
            ]),
        ),
        ("__missing__", "unknown-wildcards", Outcome::Error),
        ("price $5", "dollar-and-percent", prompts(&["price $5"])),
        (
            "100% cotton",
            "dollar-and-percent",
            prompts(&["100% cotton"]),
        ),
        ("a $ b", "dollar-and-percent", prompts(&["a $ b"])),
        ("{a|b}$", "dollar-and-percent", prompts(&["a$", "b$"])),
        ("${x=red} ${x}", "variables-and-wraps", Outcome::Error),
        ("%{wrap $$ inner}", "variables-and-wraps", Outcome::Error),
        ("{~a|b}", "per-image-choices", Outcome::Error),
        ("{@a|b|c}", "per-image-choices", Outcome::Error),
        ("{~a|b} {x|y}", "per-image-choices", Outcome::Error),
        ("__~colors__", "per-image-choices", Outcome::Error),
        ("__@colors__", "per-image-choices", Outcome::Error),
        (r"\{a|b\}", "escapes", prompts(&["{a|b}"])),
        (r"a\|b", "escapes", prompts(&["a|b"])),
        (r"\_\_colors\_\_", "escapes", prompts(&["__colors__"])),
    ]
}

#[test]
fn every_template_of_the_corpus_expands_as_the_reference_does_or_as_documented() {
    let corpus = corpus();
    assert!(corpus.reference.starts_with("dynamicprompts 0.31"));
    assert!(corpus.cases.len() >= 200, "{}", corpus.cases.len());
    let docs = include_str!("../../../docs/PROMPTS.md");
    let differences = differences();
    let mut mismatches = Vec::new();
    for case in &corpus.cases {
        let (ours, theirs) = (ours(&corpus, &case.template), reference(case));
        if let Some((_, reason, expected)) = differences.iter().find(|d| d.0 == case.template) {
            assert!(
                docs.contains(&format!("{{#{reason}}}")),
                "docs/PROMPTS.md has no section {{#{reason}}}"
            );
            assert_ne!(ours, theirs, "{:?} no longer differs", case.template);
            assert_eq!(&ours, expected, "{:?}", case.template);
            continue;
        }
        if ours != theirs {
            mismatches.push(format!(
                "{:?}\n    ours:      {ours:?}\n    reference: {theirs:?} {}",
                case.template,
                case.error.as_deref().unwrap_or("")
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} differ:\n{}",
        mismatches.len(),
        corpus.cases.len(),
        mismatches.join("\n")
    );
    let templates: Vec<&str> = corpus.cases.iter().map(|c| c.template.as_str()).collect();
    for (template, _, _) in &differences {
        assert!(
            templates.contains(template),
            "{template:?} is not in the corpus"
        );
    }
}
