//! The generator's randomness, pinned: a ChaCha20 stream per part of the character (so locking
//! or changing one part leaves the others' draws alone), and our own sampling over it (a
//! uniform integer by rejection, dice, picks), never `rand`'s distributions, whose output may
//! change between versions. Every draw is written to the roll log.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One line of the roll log: what was decided, the dice, what they showed, and the outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roll {
    pub what: String,
    /// `4d6 drop lowest`, `d9` (a pick among nine) ...
    pub dice: String,
    pub rolls: Vec<u32>,
    pub result: String,
}

/// The parts of a character that draw from their own streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Ancestry = 1,
    Class,
    Background,
    Alignment,
    Scores,
    Skills,
    HitPoints,
    Spells,
    Name,
    Personality,
    Appearance,
    Backstory,
    Party,
    Equipment,
    Languages,
    Level,
    PortraitOutfit,
    PortraitPose,
    PortraitScene,
}

/// A seeded stream for one part, and the log it writes to.
pub struct Dice<'a> {
    stream: ChaCha20Rng,
    log: &'a mut Vec<Roll>,
}

/// The key every part's stream is made from: SHA-256 over a fixed label and the seed.
fn key(seed: u64) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(b"art-factory character v1");
    hash.update(seed.to_le_bytes());
    hash.finalize().into()
}

impl<'a> Dice<'a> {
    pub fn new(seed: u64, part: Part, log: &'a mut Vec<Roll>) -> Self {
        let mut stream = ChaCha20Rng::from_seed(key(seed));
        stream.set_stream(part as u64);
        Self { stream, log }
    }

    /// The `n`th of a part's numbered streams (a portrait's second outfit, its third pose ...),
    /// apart from the part's own stream and from each other.
    pub fn numbered(seed: u64, part: Part, n: u32, log: &'a mut Vec<Roll>) -> Self {
        let mut stream = ChaCha20Rng::from_seed(key(seed));
        stream.set_stream(((part as u64) << 32) | u64::from(n));
        Self { stream, log }
    }

    /// A uniform integer in `0..n` (n ≥ 1), by rejection: no modulo bias, no float.
    pub fn below(&mut self, n: u32) -> u32 {
        assert!(n > 0, "below(0)");
        let zone = u32::MAX - (u32::MAX % n + 1) % n;
        loop {
            let x = self.stream.next_u32();
            if x <= zone {
                return x % n;
            }
        }
    }

    /// One die of `sides` faces, 1..=sides, not logged (callers log the whole throw).
    fn die(&mut self, sides: u32) -> u32 {
        self.below(sides) + 1
    }

    /// `count` dice of `sides` faces, logged under `what`; their sum.
    pub fn roll(&mut self, what: &str, count: u32, sides: u32) -> u32 {
        let rolls: Vec<u32> = (0..count).map(|_| self.die(sides)).collect();
        let sum: u32 = rolls.iter().sum();
        self.log.push(Roll {
            what: what.into(),
            dice: format!("{count}d{sides}"),
            rolls,
            result: sum.to_string(),
        });
        sum
    }

    /// 4d6, the lowest dropped, logged under `what`.
    pub fn four_d6_drop_lowest(&mut self, what: &str) -> u32 {
        let rolls: Vec<u32> = (0..4).map(|_| self.die(6)).collect();
        let sum = rolls.iter().sum::<u32>() - rolls.iter().min().unwrap();
        self.log.push(Roll {
            what: what.into(),
            dice: "4d6 drop lowest".into(),
            rolls,
            result: sum.to_string(),
        });
        sum
    }

    /// One of `options`, each as likely, logged under `what` with `label` naming the choice.
    pub fn pick<'o, T>(
        &mut self,
        what: &str,
        options: &'o [T],
        label: impl Fn(&T) -> String,
    ) -> &'o T {
        let n = u32::try_from(options.len()).expect("a short list");
        let i = self.below(n);
        let chosen = &options[i as usize];
        self.log.push(Roll {
            what: what.into(),
            dice: format!("d{n}"),
            rolls: vec![i + 1],
            result: label(chosen),
        });
        chosen
    }

    /// One of `options` with integer weights, logged like [`Self::pick`].
    pub fn weighted<'o, T>(
        &mut self,
        what: &str,
        options: &'o [(T, u32)],
        label: impl Fn(&T) -> String,
    ) -> &'o T {
        let total: u32 = options.iter().map(|(_, w)| w).sum();
        let mut x = self.below(total);
        let roll = x + 1;
        for (option, weight) in options {
            if x < *weight {
                self.log.push(Roll {
                    what: what.into(),
                    dice: format!("d{total}"),
                    rolls: vec![roll],
                    result: label(option),
                });
                return option;
            }
            x -= weight;
        }
        unreachable!("x < total")
    }

    /// `k` distinct items of `options` (k ≤ len), in the order drawn, logged as one line.
    pub fn choose<T: Clone>(
        &mut self,
        what: &str,
        options: &[T],
        k: usize,
        label: impl Fn(&T) -> String,
    ) -> Vec<T> {
        let mut left: Vec<&T> = options.iter().collect();
        let mut rolls = Vec::new();
        let mut chosen = Vec::new();
        for _ in 0..k.min(left.len()) {
            let i = self.below(u32::try_from(left.len()).expect("a short list"));
            rolls.push(i + 1);
            chosen.push(left.remove(i as usize).clone());
        }
        if k > 0 {
            self.log.push(Roll {
                what: what.into(),
                dice: format!("{k} of {}", options.len()),
                rolls,
                result: chosen.iter().map(&label).collect::<Vec<_>>().join(", "),
            });
        }
        chosen
    }

    /// A seed for another character (below 2^53, see [`super::MAX_SEED`]), logged.
    pub fn seed(&mut self, what: &str) -> u64 {
        let seed = self.stream.next_u64() & super::MAX_SEED;
        self.note(what, "seed", &seed.to_string());
        seed
    }

    /// A line of the log for draws already made (a name from its syllables, an age).
    pub fn note(&mut self, what: &str, dice: &str, result: &str) {
        self.log.push(Roll {
            what: what.into(),
            dice: dice.into(),
            rolls: Vec::new(),
            result: result.into(),
        });
    }

    /// A pick that is not worth a line of the log (a syllable of a name).
    pub fn quiet_pick<T: Copy>(&mut self, options: &[T]) -> T {
        let i = self.below(u32::try_from(options.len()).expect("a short list"));
        options[i as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_repeats_and_parts_draw_apart() {
        let mut log = Vec::new();
        let first: Vec<u32> = {
            let mut d = Dice::new(42, Part::Scores, &mut log);
            (0..8).map(|_| d.below(1000)).collect()
        };
        let again: Vec<u32> = {
            let mut d = Dice::new(42, Part::Scores, &mut log);
            (0..8).map(|_| d.below(1000)).collect()
        };
        assert_eq!(first, again);
        let other: Vec<u32> = {
            let mut d = Dice::new(42, Part::Name, &mut log);
            (0..8).map(|_| d.below(1000)).collect()
        };
        assert_ne!(first, other);
    }

    #[test]
    fn below_is_uniform_enough_and_in_range() {
        let mut log = Vec::new();
        let mut d = Dice::new(7, Part::Scores, &mut log);
        let mut counts = [0u32; 6];
        for _ in 0..60_000 {
            counts[d.below(6) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_000..11_000).contains(&c)),
            "{counts:?}"
        );
        assert_eq!(d.below(1), 0);
    }
}
