//! glTF 2.0 read from an upload, checked far past its JSON's shape, measured, and packed into
//! one GLB. Pure: bytes in, a report, metadata and a GLB out.
//!
//! - [`container`]: the upload (GLB, `.gltf` with its files, or a ZIP) to a document; no path
//!   outside the upload and no URL is ever read.
//! - [`doc`]: the typed view of the JSON.
//! - [`check`]: the validation, each problem with its JSON pointer.
//! - [`info`]: counts, bounds, materials, textures, GPU memory, animations, skins.
//! - [`pack`]: the one GLB that is stored.

mod accessor;
pub mod check;
pub mod container;
pub mod doc;
pub mod info;
pub mod pack;
pub mod sample;

use serde::{Deserialize, Serialize};

pub use accessor::Elements;
pub use container::{ReadError, MAX_ASSET_BYTES};
pub use info::{Bounds, Info};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem, where it is (a JSON pointer into the glTF), and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    pub severity: Severity,
    /// Khronos's validator's code where it has one.
    pub code: String,
    pub pointer: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub issues: Vec<Issue>,
}

impl Report {
    pub fn errors(&self) -> impl Iterator<Item = &Issue> {
        self.issues.iter().filter(|i| i.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Issue> {
        self.issues
            .iter()
            .filter(|i| i.severity == Severity::Warning)
    }

    pub fn is_valid(&self) -> bool {
        self.errors().next().is_none()
    }
}

/// A model that passed: its metadata, its warnings, and the GLB to store.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub name: String,
    pub info: Info,
    pub report: Report,
    pub glb: Vec<u8>,
}

/// Why an upload was refused: it is not a glTF at all, or it is one with errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error(transparent)]
    Unreadable(#[from] ReadError),
    #[error("The model has {} error(s); nothing was stored. First: {}", .0.errors().count(), first(.0))]
    Invalid(Report),
}

fn first(report: &Report) -> String {
    report
        .errors()
        .next()
        .map(|i| {
            format!(
                "{} at {}: {}",
                i.code,
                if i.pointer.is_empty() {
                    "/"
                } else {
                    &i.pointer
                },
                i.message
            )
        })
        .unwrap_or_default()
}

/// Reads, checks and measures an upload; packs it when it has no errors. CPU work: call from a
/// blocking thread.
pub fn read(upload: Vec<(String, Vec<u8>)>) -> Result<Accepted, Refused> {
    let loaded = container::load(upload)?;
    let checked = check::check(&loaded);
    if !checked.report.is_valid() {
        return Err(Refused::Invalid(checked.report));
    }
    let info = info::info(&loaded, &checked);
    let glb = pack::pack(&loaded, &checked);
    Ok(Accepted {
        name: loaded.name.clone(),
        info,
        report: checked.report,
        glb,
    })
}

/// Checks an upload and returns its report, valid or not (the metadata too when valid).
pub fn validate(upload: Vec<(String, Vec<u8>)>) -> Result<(Report, Option<Info>), ReadError> {
    let loaded = container::load(upload)?;
    let checked = check::check(&loaded);
    let info = checked
        .report
        .is_valid()
        .then(|| info::info(&loaded, &checked));
    Ok((checked.report, info))
}
