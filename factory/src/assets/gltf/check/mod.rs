//! Validation past the JSON's shape: every reference resolves, every accessor fits its buffer
//! view and every view its buffer, buffers hold the bytes they declare, index values stay below
//! their primitive's vertex count, positions are finite with true `min`/`max`, images decode, and
//! every required extension is one this app can read. Each problem carries its JSON pointer;
//! codes follow Khronos's validator where it has one.

use std::borrow::Cow;

mod content;
mod data;
mod graph;

use super::accessor::{Elements, Summary};
use super::container::Loaded;
use super::doc::Document;
use super::{Issue, Report, Severity};

/// Extensions this app reads or can safely pass through when a file requires them.
const SUPPORTED_REQUIRED: &[&str] = &[
    "KHR_materials_unlit",
    "KHR_texture_transform",
    "KHR_mesh_quantization",
    "KHR_materials_emissive_strength",
    "KHR_lights_punctual",
];

/// Why a known extension cannot be read, for the message.
fn unsupported_reason(name: &str) -> &'static str {
    match name {
        "KHR_draco_mesh_compression" => "Draco-compressed geometry",
        "EXT_meshopt_compression" => "meshopt-compressed buffers",
        "KHR_texture_basisu" => "Basis Universal (KTX2) textures",
        "EXT_texture_webp" | "EXT_texture_avif" => "textures with no PNG or JPEG fallback",
        _ => "an extension this app does not know",
    }
}

/// One decoded image's facts.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageFacts {
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
}

/// The report, and what the checks read on the way (used for the metadata and the packing).
pub struct Checked<'a> {
    pub report: Report,
    /// Each buffer's bytes (empty where it could not be read).
    pub buffers: Vec<Cow<'a, [u8]>>,
    /// Each accessor's summary, where it could be read.
    pub summaries: Vec<Option<Summary>>,
    pub images: Vec<Option<ImageFacts>>,
}

impl Checked<'_> {
    /// Accessor `index`'s elements, when its bounds were checked.
    pub fn elements<'b>(&'b self, doc: &Document, index: usize) -> Option<Elements<'b>> {
        self.summaries.get(index)?.as_ref()?;
        data::elements(doc, &self.buffers, index)
    }
}

pub(super) struct Issues(Vec<Issue>);

impl Issues {
    pub(super) fn error(
        &mut self,
        code: &'static str,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.push(Severity::Error, code, pointer, message);
    }
    pub(super) fn warn(
        &mut self,
        code: &'static str,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.push(Severity::Warning, code, pointer, message);
    }
    fn push(
        &mut self,
        severity: Severity,
        code: &'static str,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) {
        // A broken file can repeat one problem a million times; the first thousand say enough.
        if self.0.len() < 1_000 {
            self.0.push(Issue {
                severity,
                code: code.to_string(),
                pointer: pointer.into(),
                message: message.into(),
            });
        }
    }
    fn has_errors(&self) -> bool {
        self.0.iter().any(|i| i.severity == Severity::Error)
    }
}

pub fn check(loaded: &Loaded) -> Checked<'_> {
    let mut issues = Issues(Vec::new());
    let mut checked = Checked {
        report: Report::default(),
        buffers: Vec::new(),
        summaries: Vec::new(),
        images: Vec::new(),
    };
    if let Some((pointer, message)) = &loaded.shape_error {
        issues.error("INVALID_JSON_SHAPE", pointer.clone(), message.to_string());
        checked.report.issues = issues.0;
        return checked;
    }
    let doc = &loaded.doc;
    match &doc.asset {
        None => issues.error(
            "UNDEFINED_PROPERTY",
            "/asset",
            "the required `asset` object is missing",
        ),
        Some(a) if !a.version.starts_with("2.") => issues.error(
            "UNKNOWN_ASSET_MAJOR_VERSION",
            "/asset/version",
            format!("version `{}`; only glTF 2.x is read", a.version),
        ),
        Some(_) => {}
    }
    for (i, name) in doc.extensions_required.iter().enumerate() {
        if !SUPPORTED_REQUIRED.contains(&name.as_str()) {
            issues.error(
                "UNSUPPORTED_EXTENSION",
                format!("/extensionsRequired/{i}"),
                format!(
                    "the file requires {name} ({}), which this app cannot read; export it again without {name}",
                    unsupported_reason(name)
                ),
            );
        }
    }
    graph::references(doc, &mut issues);
    if issues.has_errors() {
        checked.report.issues = issues.0;
        return checked;
    }
    checked.buffers = data::buffers(loaded, &mut issues);
    data::views(doc, &mut issues);
    checked.summaries = data::accessors(doc, &checked.buffers, &mut issues);
    content::meshes(doc, &checked, &mut issues);
    checked.images = content::images(loaded, &checked.buffers, &mut issues);
    graph::node_tree(doc, &mut issues);
    checked.report.issues = issues.0;
    checked
}
