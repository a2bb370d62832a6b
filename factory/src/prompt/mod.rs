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
//! | `{2$$a\|b\|c}` | two different options, joined with ", " |
//! | `{2$$ and $$a\|b\|c}` | ... joined with " and " |
//! | `{1-3$$a\|b\|c}` | one to three (`{2-$$...}`, `{-2$$...}` too) |
//! | `__colors/warm__` | a value from the wildcard list of that name (recursively expanded) |
//! | `\{ \} \| \_ \\` | the character itself |
//!
//! Anything else passes through untouched, so `(word:1.2)`, `[a|b]` and `\(` keep working for
//! the providers that read them.

mod expand;
pub mod parse;

use serde::{Deserialize, Serialize};

pub use expand::{Binding, Bindings, Item, Program, WildcardSource, REPEAT_KEY};
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
    /// How many items this expansion makes of `program` (saturating).
    pub fn total(&self, program: &Program) -> u64 {
        match self.mode {
            Mode::Combinatorial => program.combinations().saturating_mul(u64::from(self.count)),
            Mode::Random => u64::from(self.count),
        }
    }

    fn check_cap(&self, program: &Program) -> Result<u64, PromptError> {
        let total = self.total(program);
        if total <= self.cap {
            return Ok(total);
        }
        let what = match self.mode {
            Mode::Combinatorial if self.count > 1 => format!(
                "{} combinations × {} images",
                program.combinations(),
                self.count
            ),
            Mode::Combinatorial => format!("{} combinations", program.combinations()),
            Mode::Random => format!("{} images", self.count),
        };
        let total_text = if total == u64::MAX {
            "more than 18 quintillion".to_string()
        } else {
            total.to_string()
        };
        Err(PromptError {
            offset: 0,
            line: 1,
            column: 1,
            message: format!(
                "this expands to {total_text} items ({what}), over the limit of {}; remove options, \
                 use random mode with a count, or raise max_items",
                self.cap
            ),
        })
    }

    /// Every item, or an error when the template is invalid or makes more than `cap` items.
    pub fn expand(
        &self,
        source: &str,
        wildcards: &dyn WildcardSource,
    ) -> Result<Expanded, PromptError> {
        let program = Program::compile(source, wildcards)?;
        self.check_cap(&program)?;
        let items = match self.mode {
            Mode::Combinatorial => {
                let combinations = program.enumerate();
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
            Mode::Random => (0..self.count)
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
                .collect(),
        };
        Ok(Expanded {
            items,
            tokens: program.template().tokens.clone(),
        })
    }

    /// The item count and the first `examples` distinct prompts, for the live preview.
    pub fn preview(
        &self,
        source: &str,
        wildcards: &dyn WildcardSource,
        examples: usize,
    ) -> Result<Preview, PromptError> {
        let program = Program::compile(source, wildcards)?;
        let total = self.check_cap(&program)?;
        let prompts = match self.mode {
            Mode::Combinatorial => program
                .enumerate()
                .into_iter()
                .take(examples)
                .map(|i| i.prompt)
                .collect(),
            Mode::Random => (0..u64::from(self.count).min(examples as u64))
                .map(|j| program.sample(self.batch_seed, j).prompt)
                .collect(),
        };
        Ok(Preview {
            total,
            combinations: program.combinations(),
            examples: prompts,
        })
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
mod tests;
