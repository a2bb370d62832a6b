//! The fantasy character creator: from a seed (and the fields a person locked), a complete
//! level-1 to level-5 character on the rules of the SRD 5.1, with a roll log of every draw.
//! Pure code, no I/O: the same seed and locks give the same sheet in every build.
//!
//! This work includes material taken from the System Reference Document 5.1 ("SRD 5.1") by
//! Wizards of the Coast LLC, available at https://dnd.wizards.com/resources/systems-reference-document.
//! The SRD 5.1 is licensed under the Creative Commons Attribution 4.0 International License,
//! available at https://creativecommons.org/licenses/by/4.0/legalcode.

pub mod ancestries;
pub mod backgrounds;
mod casting;
pub mod check;
pub mod classes;
pub mod dice;
pub mod equipment;
mod generate;
pub mod names;
pub mod party;
pub mod pdf;
pub mod portrait;
pub mod portraits;
pub mod rules;
pub mod sheet;
mod skills;
mod spells;
pub mod store;
mod story;

pub use generate::{generate, Locks};
pub use party::{party, plan as party_plan};
pub use sheet::Character;

/// Seeds are whole numbers a browser can hold exactly (JSON numbers are doubles there).
pub const MAX_SEED: u64 = (1 << 53) - 1;

/// Bumped whenever a change makes a seed give a different character.
pub const GENERATOR_VERSION: u32 = 1;

/// SHA-256 over the JSON sheets of seeds 0–9,999 (no locks), one after the other, as this
/// version of the generator makes them. The tests (debug build) and the benchmark (release
/// build) both check it; a change that alters it must bump [`GENERATOR_VERSION`].
pub const SHEETS_0_TO_9999_SHA256: &str =
    "c390c2d6f90a6cccd41f3b1fca438b38c9b885567243f5f680f9667085483c6d";

/// The attribution the SRD's licence asks for, shown on character pages and in the docs.
pub const SRD_ATTRIBUTION: &str = include_str!("data/srd-attribution.txt");

#[derive(Debug, thiserror::Error)]
pub enum CharacterError {
    #[error("{0}")]
    Invalid(String),
    #[error("There is no character {0}; it may have been deleted.")]
    NotFound(i64),
    #[error("There is no project with id {0}.")]
    NoProject(i64),
    #[error("the database failed: {0}")]
    Database(#[from] diesel::result::Error),
    /// No connection could be had.
    #[error(transparent)]
    Unavailable(crate::db::DbError),
}

impl From<crate::db::DbError> for CharacterError {
    fn from(e: crate::db::DbError) -> Self {
        match e {
            crate::db::DbError::Query(e) => CharacterError::Database(e),
            other => CharacterError::Unavailable(other),
        }
    }
}
