//! The prompt language: the dynamic-prompts syntax people already know, expanded into batch
//! items that keep their bindings (which option each token chose) and get seeds that do not
//! depend on queue order.
//!
//! Pure code, no I/O: wildcard lists come in through [`WildcardSource`]. The same functions
//! serve launching and the Generate page's live preview.
//!
//! | syntax | meaning |
//! |---|---|
//! | `{a\|b\|c}` | one of the options |
//! | `{2::a\|b}` | weights for random sampling (missing = 1) |
//! | `{2$$a\|b\|c}` | two different options, in every order, joined with "," |
//! | `{2$$ and $$a\|b\|c}` | ... joined with " and " (any joiner without `$`, `{`, `}`) |
//! | `{1-3$$a\|b\|c}` | one to three (`{2-$$...}`, `{-2$$...}` too; more than exist means all) |
//! | `__colors/warm__` | a value from the wildcard list of that name (recursively expanded) |
//! | `__cats/*__` | a value from every list the pattern matches |
//! | `{2$$__colors__}` | two different values of the list |
//! | `{~a\|b}` `{@a\|b}` `__~x__` | per image: at random, in turn (random mode) |
//! | `# ...` | a comment, to the end of the line |
//! | `\{ \} \| \_ \# \$ \% \\` | the character itself |
//!
//! Anything else passes through untouched, so `(word:1.2)`, `[a|b]` and `\(` keep working for
//! the providers that read them. How this compares with the reference implementation (the
//! `dynamicprompts` library) is in `docs/PROMPTS.md`; `factory/tests/data/dynamicprompts.json`
//! holds the reference's own answers, which the tests compare against.

mod expand;
mod lists;
mod names;
pub mod parse;

use serde::{Deserialize, Serialize};

pub use expand::{Binding, Bindings, Item, Program, REPEAT_KEY};
pub use lists::WildcardSource;
pub use parse::{line_column, parse, valid_name, PromptError, Template, TokenInfo};

use crate::hashing::{fnv1a64, SplitMix64};

/// How a template becomes items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Every combination (last token fastest), each `count` times.
    #[default]
    Combinatorial,
    /// `count` items sampled from the batch seed.
    Random,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Combinatorial => "combinatorial",
            Mode::Random => "random",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "combinatorial" => Some(Mode::Combinatorial),
            "random" => Some(Mode::Random),
            _ => None,
        }
    }
}

/// One launch's expansion, fully described.
#[derive(Debug, Clone, Copy)]
pub struct Expansion {
    pub mode: Mode,
    /// Combinatorial: images per combination. Random: how many items.
    pub count: u32,
    pub batch_seed: i64,
    /// The most items allowed.
    pub cap: u64,
}

/// The expanded items, and the tokens they bind.
#[derive(Debug, Clone)]
pub struct Expanded {
    pub items: Vec<Item>,
    pub tokens: Vec<TokenInfo>,
}

impl Expansion {
    /// The combinations of a combinatorial expansion, listed once the upper bound shows it
    /// cannot pass the cap (so the work is bounded before anything is listed), or the error
    /// saying what is over the limit.
    fn combinations(&self, source: &str, program: &Program) -> Result<Vec<Item>, PromptError> {
        program.check_listable(source)?;
        let upper = program.upper_bound();
        if upper > self.cap {
            return Err(self.over_cap(upper, format!("{} combinations", describe(upper))));
        }
        let combinations = program.enumerate();
        let total = (combinations.len() as u64).saturating_mul(u64::from(self.count));
        if total > self.cap {
            return Err(self.over_cap(
                total,
                format!(
                    "{} combinations × {} images",
                    combinations.len(),
                    self.count
                ),
            ));
        }
        Ok(combinations)
    }

    fn over_cap(&self, total: u64, what: String) -> PromptError {
        PromptError {
            offset: 0,
            line: 1,
            column: 1,
            message: format!(
                "this expands to {} items ({what}), over the limit of {}; remove options, \
                 use random mode with a count, or raise max_items",
                describe(total),
                self.cap
            ),
        }
    }

    /// Every item, or an error when the template is invalid or makes more than `cap` items.
    pub fn expand(
        &self,
        source: &str,
        wildcards: &dyn WildcardSource,
    ) -> Result<Expanded, PromptError> {
        let program = Program::compile(source, wildcards)?;
        let items = match self.mode {
            Mode::Combinatorial => {
                let combinations = self.combinations(source, &program)?;
                if self.count <= 1 {
                    combinations
                } else {
                    let mut items = Vec::with_capacity(combinations.len() * self.count as usize);
                    for item in combinations {
                        for r in 0..self.count {
                            let mut repeated = item.clone();
                            repeated.bindings.insert(
                                REPEAT_KEY.into(),
                                Binding {
                                    index: vec![r],
                                    value: (r + 1).to_string(),
                                },
                            );
                            items.push(repeated);
                        }
                    }
                    items
                }
            }
            Mode::Random => {
                self.check_random_count()?;
                (0..self.count)
                    .map(|j| {
                        let mut item = program.sample(self.batch_seed, u64::from(j));
                        item.bindings.insert(
                            REPEAT_KEY.into(),
                            Binding {
                                index: vec![j],
                                value: (j + 1).to_string(),
                            },
                        );
                        item
                    })
                    .collect()
            }
        };
        Ok(Expanded {
            items,
            tokens: program.template().tokens.clone(),
        })
    }

    fn check_random_count(&self) -> Result<(), PromptError> {
        if u64::from(self.count) > self.cap {
            return Err(self.over_cap(u64::from(self.count), format!("{} images", self.count)));
        }
        Ok(())
    }

    /// The item count and the first `examples` prompts, for the live preview.
    pub fn preview(
        &self,
        source: &str,
        wildcards: &dyn WildcardSource,
        examples: usize,
    ) -> Result<Preview, PromptError> {
        let program = Program::compile(source, wildcards)?;
        match self.mode {
            Mode::Combinatorial => {
                let combinations = self.combinations(source, &program)?;
                Ok(Preview {
                    total: combinations.len() as u64 * u64::from(self.count),
                    combinations: combinations.len() as u64,
                    examples: combinations
                        .into_iter()
                        .take(examples)
                        .map(|i| i.prompt)
                        .collect(),
                })
            }
            Mode::Random => {
                self.check_random_count()?;
                Ok(Preview {
                    total: u64::from(self.count),
                    combinations: program.upper_bound(),
                    examples: (0..u64::from(self.count).min(examples as u64))
                        .map(|j| program.sample(self.batch_seed, j).prompt)
                        .collect(),
                })
            }
        }
    }
}

/// A count in words: its digits, or "more than 18 quintillion" where it saturated.
fn describe(n: u64) -> String {
    if n == u64::MAX {
        "more than 18 quintillion".to_string()
    } else {
        n.to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    pub total: u64,
    pub combinations: u64,
    pub examples: Vec<String>,
}

/// An item's seed: the batch seed hashed with the item's bindings (keys, option indexes and
/// values), so cancelling, retrying or reordering never changes it. Within 32 bits.
/// `text` as a template that expands to exactly `text`: every character the prompt language
/// gives a meaning (`{ } | _ \\ # $ %`) escaped. A product's prompt is already expanded, so
/// this is how its settings are used again.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '{' | '}' | '|' | '_' | '\\' | '#' | '$' | '%') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub fn derive_seed(batch_seed: i64, bindings: &Bindings) -> i64 {
    let mut bytes = batch_seed.to_le_bytes().to_vec();
    for (key, binding) in bindings {
        bytes.extend_from_slice(key.as_bytes());
        bytes.push(0x1f);
        for i in &binding.index {
            bytes.extend_from_slice(&i.to_le_bytes());
        }
        bytes.extend_from_slice(binding.value.as_bytes());
        bytes.push(0x1e);
    }
    let mixed = SplitMix64::new(fnv1a64(&bytes)).next_u64();
    (mixed % (1u64 << 32)) as i64
}

#[cfg(test)]
mod reference;
#[cfg(test)]
mod tests;
