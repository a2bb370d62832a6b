//! Validation past the JSON's shape: every reference resolves, every accessor fits its buffer
//! view and every view its buffer, buffers hold the bytes they declare, index values stay below
//! their primitive's vertex count, positions are finite with true `min`/`max`, images decode, and
//! every required extension is one this app can read. Each problem carries its JSON pointer;
//! codes follow Khronos's validator where it has one.

use std::borrow::Cow;

use super::accessor::{summarise, Elements, Summary};
use super::container::{resolve, Container, Loaded};
use super::doc::{Component, Document, ElementType};
use super::{Issue, Report, Severity};
use crate::media::ImageFormat;

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
        elements(doc, &self.buffers, index)
    }
}

struct Issues(Vec<Issue>);

impl Issues {
    fn error(
        &mut self,
        code: &'static str,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.push(Severity::Error, code, pointer, message);
    }
    fn warn(&mut self, code: &'static str, pointer: impl Into<String>, message: impl Into<String>) {
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
    references(doc, &mut issues);
    if issues.has_errors() {
        checked.report.issues = issues.0;
        return checked;
    }
    checked.buffers = buffers(loaded, &mut issues);
    views(doc, &mut issues);
    checked.summaries = accessors(doc, &checked.buffers, &mut issues);
    meshes(doc, &checked, &mut issues);
    checked.images = images(loaded, &checked.buffers, &mut issues);
    node_tree(doc, &mut issues);
    checked.report.issues = issues.0;
    checked
}

fn references(doc: &Document, issues: &mut Issues) {
    let mut check = |at: String, index: usize, len: usize, what: &str| {
        if index >= len {
            issues.error(
                "UNRESOLVED_REFERENCE",
                at,
                format!("refers to {what} {index}, but the file has {len}"),
            );
        }
    };
    if let Some(s) = doc.scene {
        check("/scene".into(), s, doc.scenes.len(), "scene");
    }
    for (i, scene) in doc.scenes.iter().enumerate() {
        for (j, &n) in scene.nodes.iter().enumerate() {
            check(format!("/scenes/{i}/nodes/{j}"), n, doc.nodes.len(), "node");
        }
    }
    for (i, node) in doc.nodes.iter().enumerate() {
        for (j, &c) in node.children.iter().enumerate() {
            check(
                format!("/nodes/{i}/children/{j}"),
                c,
                doc.nodes.len(),
                "node",
            );
        }
        if let Some(m) = node.mesh {
            check(format!("/nodes/{i}/mesh"), m, doc.meshes.len(), "mesh");
        }
        if let Some(c) = node.camera {
            check(format!("/nodes/{i}/camera"), c, doc.cameras.len(), "camera");
        }
        if let Some(s) = node.skin {
            check(format!("/nodes/{i}/skin"), s, doc.skins.len(), "skin");
        }
    }
    for (i, mesh) in doc.meshes.iter().enumerate() {
        for (j, p) in mesh.primitives.iter().enumerate() {
            let at = format!("/meshes/{i}/primitives/{j}");
            for (name, &a) in &p.attributes {
                check(
                    format!("{at}/attributes/{name}"),
                    a,
                    doc.accessors.len(),
                    "accessor",
                );
            }
            for (t, target) in p.targets.iter().enumerate() {
                for (name, &a) in target {
                    check(
                        format!("{at}/targets/{t}/{name}"),
                        a,
                        doc.accessors.len(),
                        "accessor",
                    );
                }
            }
            if let Some(a) = p.indices {
                check(format!("{at}/indices"), a, doc.accessors.len(), "accessor");
            }
            if let Some(m) = p.material {
                check(format!("{at}/material"), m, doc.materials.len(), "material");
            }
        }
    }
    for (i, a) in doc.accessors.iter().enumerate() {
        if let Some(v) = a.buffer_view {
            check(
                format!("/accessors/{i}/bufferView"),
                v,
                doc.buffer_views.len(),
                "buffer view",
            );
        }
    }
    for (i, v) in doc.buffer_views.iter().enumerate() {
        check(
            format!("/bufferViews/{i}/buffer"),
            v.buffer,
            doc.buffers.len(),
            "buffer",
        );
    }
    for (i, t) in doc.textures.iter().enumerate() {
        if let Some(s) = t.source {
            check(
                format!("/textures/{i}/source"),
                s,
                doc.images.len(),
                "image",
            );
        }
        if let Some(s) = t.sampler {
            check(
                format!("/textures/{i}/sampler"),
                s,
                doc.samplers.len(),
                "sampler",
            );
        }
    }
    for (i, m) in doc.materials.iter().enumerate() {
        for (at, r) in m.texture_refs() {
            check(
                format!("/materials/{i}/{at}/index"),
                r.index,
                doc.textures.len(),
                "texture",
            );
        }
    }
    for (i, image) in doc.images.iter().enumerate() {
        if let Some(v) = image.buffer_view {
            check(
                format!("/images/{i}/bufferView"),
                v,
                doc.buffer_views.len(),
                "buffer view",
            );
        }
    }
    for (i, a) in doc.animations.iter().enumerate() {
        for (j, s) in a.samplers.iter().enumerate() {
            check(
                format!("/animations/{i}/samplers/{j}/input"),
                s.input,
                doc.accessors.len(),
                "accessor",
            );
            check(
                format!("/animations/{i}/samplers/{j}/output"),
                s.output,
                doc.accessors.len(),
                "accessor",
            );
        }
        for (j, c) in a.channels.iter().enumerate() {
            check(
                format!("/animations/{i}/channels/{j}/sampler"),
                c.sampler,
                a.samplers.len(),
                "sampler",
            );
        }
    }
    for (i, s) in doc.skins.iter().enumerate() {
        for (j, &n) in s.joints.iter().enumerate() {
            check(format!("/skins/{i}/joints/{j}"), n, doc.nodes.len(), "node");
        }
    }
}

fn buffers<'a>(loaded: &'a Loaded, issues: &mut Issues) -> Vec<Cow<'a, [u8]>> {
    let mut out = Vec::with_capacity(loaded.doc.buffers.len());
    for (i, buffer) in loaded.doc.buffers.iter().enumerate() {
        let at = format!("/buffers/{i}");
        let data: Option<Cow<'a, [u8]>> = match (&buffer.uri, i, loaded.container) {
            (Some(uri), _, _) => match resolve(uri, &loaded.files) {
                Ok(data) => Some(data),
                Err(why) => {
                    issues.error(
                        "URI_NOT_RESOLVED",
                        format!("{at}/uri"),
                        format!("the buffer {why}"),
                    );
                    None
                }
            },
            (None, 0, Container::Glb) => match loaded.bin() {
                Some(bin) => Some(Cow::Borrowed(bin)),
                None => {
                    issues.error(
                        "BUFFER_GLB_CHUNK_NOT_FOUND",
                        at.clone(),
                        "the GLB has no binary chunk for its first buffer",
                    );
                    None
                }
            },
            (None, _, _) => {
                issues.error(
                    "BUFFER_MISSING_GLB_DATA",
                    at.clone(),
                    "the buffer has no `uri` and is not the GLB's binary chunk",
                );
                None
            }
        };
        let data = data.unwrap_or_default();
        let declared = buffer.byte_length;
        let actual = data.len() as u64;
        let glb_padding = buffer.uri.is_none() && actual >= declared && actual - declared <= 3;
        if declared > actual {
            issues.error(
                "BUFFER_EXTERNAL_BYTELENGTH_MISMATCH",
                format!("{at}/byteLength"),
                format!("declares {declared} bytes, but its data has {actual}"),
            );
        } else if declared < actual && !glb_padding && !data.is_empty() {
            issues.warn(
                "BUFFER_EXTERNAL_BYTELENGTH_MISMATCH",
                format!("{at}/byteLength"),
                format!("declares {declared} bytes; its data has {actual} (the rest is ignored)"),
            );
        }
        out.push(data);
    }
    out
}

fn views(doc: &Document, issues: &mut Issues) {
    for (i, v) in doc.buffer_views.iter().enumerate() {
        let buffer = &doc.buffers[v.buffer];
        if v.byte_offset
            .checked_add(v.byte_length)
            .is_none_or(|end| end > buffer.byte_length)
        {
            issues.error(
                "BUFFER_VIEW_TOO_LONG",
                format!("/bufferViews/{i}"),
                format!(
                    "bytes {}..{} reach past the end of buffer {} ({} bytes)",
                    v.byte_offset,
                    v.byte_offset.saturating_add(v.byte_length),
                    v.buffer,
                    buffer.byte_length
                ),
            );
        }
        if let Some(stride) = v.byte_stride {
            if !(4..=252).contains(&stride) || stride % 4 != 0 {
                issues.error(
                    "VALUE_NOT_IN_RANGE",
                    format!("/bufferViews/{i}/byteStride"),
                    format!("byteStride {stride} is not a multiple of 4 between 4 and 252"),
                );
            }
        }
    }
}

/// Accessor `index`'s elements, if they lie inside its view and its buffer's data.
fn elements<'b>(
    doc: &Document,
    buffers: &'b [Cow<'_, [u8]>],
    index: usize,
) -> Option<Elements<'b>> {
    let a = &doc.accessors[index];
    let component = Component::from_gl(a.component_type)?;
    let view = &doc.buffer_views[a.buffer_view?];
    let n = a.element.components();
    let size = component.size() * n;
    let stride = view.byte_stride.map_or(size, |s| s as usize);
    let count = usize::try_from(a.count).ok()?;
    let needed = (a.byte_offset as usize)
        .checked_add(stride.checked_mul(count.checked_sub(1)?)?)?
        .checked_add(size)?;
    let start = usize::try_from(view.byte_offset).ok()?;
    let end = start.checked_add(usize::try_from(view.byte_length).ok()?)?;
    let data = buffers.get(view.buffer)?.get(start..end)?;
    (needed <= data.len() && stride >= size).then(|| Elements {
        data: &data[a.byte_offset as usize..],
        stride,
        component,
        n,
        count,
        normalized: a.normalized,
    })
}

fn accessors(
    doc: &Document,
    buffers: &[Cow<'_, [u8]>],
    issues: &mut Issues,
) -> Vec<Option<Summary>> {
    let mut out = Vec::with_capacity(doc.accessors.len());
    for (i, a) in doc.accessors.iter().enumerate() {
        let at = format!("/accessors/{i}");
        let Some(component) = Component::from_gl(a.component_type) else {
            issues.error(
                "VALUE_NOT_IN_LIST",
                format!("{at}/componentType"),
                format!("componentType {} is not one of glTF's", a.component_type),
            );
            out.push(None);
            continue;
        };
        if a.count == 0 {
            issues.error(
                "VALUE_NOT_IN_RANGE",
                format!("{at}/count"),
                "count is 0; an accessor holds at least one element",
            );
            out.push(None);
            continue;
        }
        for (name, bound) in [("min", &a.min), ("max", &a.max)] {
            if bound
                .as_ref()
                .is_some_and(|b| b.len() != a.element.components())
            {
                issues.error(
                    "ACCESSOR_MIN_MAX_LENGTH",
                    format!("{at}/{name}"),
                    format!("`{name}` must have {} values", a.element.components()),
                );
            }
        }
        if a.sparse.is_some() {
            issues.warn(
                "SPARSE_NOT_APPLIED",
                format!("{at}/sparse"),
                "sparse values are not applied when checking bounds",
            );
        }
        let Some(view_index) = a.buffer_view else {
            // All zeros (or sparse only): nothing in a buffer to check.
            out.push(None);
            continue;
        };
        if a.byte_offset % component.size() as u64 != 0 {
            issues.error(
                "ACCESSOR_OFFSET_ALIGNMENT",
                format!("{at}/byteOffset"),
                format!(
                    "byteOffset {} is not a multiple of the component size {}",
                    a.byte_offset,
                    component.size()
                ),
            );
            out.push(None);
            continue;
        }
        let view = &doc.buffer_views[view_index];
        let size = (component.size() * a.element.components()) as u64;
        let stride = view.byte_stride.unwrap_or(size);
        if stride < size {
            issues.error(
                "ACCESSOR_SMALL_BYTESTRIDE",
                at.to_string(),
                format!(
                    "its view's byteStride {stride} is smaller than one element ({size} bytes)"
                ),
            );
            out.push(None);
            continue;
        }
        let needed = (a.count - 1)
            .saturating_mul(stride)
            .saturating_add(size)
            .saturating_add(a.byte_offset);
        if needed > view.byte_length {
            issues.error(
                "ACCESSOR_TOO_LONG",
                at,
                format!(
                    "{} elements from byte {} need {needed} bytes; buffer view {view_index} has {}",
                    a.count, a.byte_offset, view.byte_length
                ),
            );
            out.push(None);
            continue;
        }
        let Some(elements) = elements(doc, buffers, i) else {
            // The view or the buffer is already reported as too short.
            out.push(None);
            continue;
        };
        let summary = summarise(&elements);
        if let Some(first) = summary.non_finite {
            issues.error(
                "ACCESSOR_INVALID_FLOAT",
                at.clone(),
                format!("element {first} is not a finite number (NaN or infinity)"),
            );
        }
        if a.sparse.is_none() && !a.normalized {
            for (name, declared, actual) in
                [("min", &a.min, &summary.min), ("max", &a.max, &summary.max)]
            {
                let Some(declared) = declared else { continue };
                for (c, (&d, &v)) in declared.iter().zip(actual).enumerate() {
                    if !v.is_finite() {
                        continue;
                    }
                    let same = match component {
                        Component::F32 => d as f32 == v as f32,
                        _ => d == v,
                    };
                    if !same {
                        let code = if name == "min" {
                            "ACCESSOR_MIN_MISMATCH"
                        } else {
                            "ACCESSOR_MAX_MISMATCH"
                        };
                        issues.error(
                            code,
                            format!("{at}/{name}/{c}"),
                            format!("declared {name} {d}, actual {name} {v}"),
                        );
                    }
                }
            }
        }
        out.push(Some(summary));
    }
    out
}

fn meshes(doc: &Document, checked: &Checked<'_>, issues: &mut Issues) {
    for (i, mesh) in doc.meshes.iter().enumerate() {
        if mesh.primitives.is_empty() {
            issues.error(
                "EMPTY_ENTITY",
                format!("/meshes/{i}/primitives"),
                "a mesh needs at least one primitive",
            );
        }
        for (j, p) in mesh.primitives.iter().enumerate() {
            let at = format!("/meshes/{i}/primitives/{j}");
            if p.mode > 6 {
                issues.error(
                    "VALUE_NOT_IN_LIST",
                    format!("{at}/mode"),
                    format!("mode {} is not a glTF primitive mode", p.mode),
                );
            }
            let Some(&position) = p.attributes.get("POSITION") else {
                issues.warn(
                    "MESH_PRIMITIVE_NO_POSITION",
                    format!("{at}/attributes"),
                    "no POSITION: nothing is drawn",
                );
                continue;
            };
            let pa = &doc.accessors[position];
            if pa.element != ElementType::Vec3 {
                issues.error(
                    "MESH_PRIMITIVE_ATTRIBUTES_ACCESSOR_INVALID_FORMAT",
                    format!("{at}/attributes/POSITION"),
                    "POSITION must be a VEC3 accessor",
                );
            }
            if pa.min.is_none() || pa.max.is_none() {
                issues.error(
                    "MESH_PRIMITIVE_POSITION_ACCESSOR_WITHOUT_BOUNDS",
                    format!("/accessors/{position}"),
                    "the POSITION accessor must declare `min` and `max`",
                );
            }
            for (name, &a) in &p.attributes {
                if doc.accessors[a].count != pa.count {
                    issues.error(
                        "MESH_PRIMITIVE_UNEQUAL_ACCESSOR_COUNT",
                        format!("{at}/attributes/{name}"),
                        format!(
                            "{name} has {} elements, POSITION {}",
                            doc.accessors[a].count, pa.count
                        ),
                    );
                }
            }
            let Some(indices) = p.indices else { continue };
            let ia = &doc.accessors[indices];
            let index_type = Component::from_gl(ia.component_type);
            if ia.element != ElementType::Scalar
                || !matches!(
                    index_type,
                    Some(Component::U8 | Component::U16 | Component::U32)
                )
            {
                issues.error(
                    "MESH_PRIMITIVE_INDICES_ACCESSOR_INVALID_FORMAT",
                    format!("{at}/indices"),
                    "indices must be SCALAR unsigned bytes, shorts or ints",
                );
                continue;
            }
            if let Some(Some(summary)) = checked.summaries.get(indices) {
                let largest = summary.max.first().copied().unwrap_or(0.0);
                if largest >= pa.count as f64 {
                    issues.error(
                        "ACCESSOR_INDEX_OOB",
                        format!("/accessors/{indices}"),
                        format!(
                            "index {largest} is out of range: primitive {at} has {} vertices",
                            pa.count
                        ),
                    );
                }
            }
        }
    }
}

fn images(
    loaded: &Loaded,
    buffers: &[Cow<'_, [u8]>],
    issues: &mut Issues,
) -> Vec<Option<ImageFacts>> {
    let doc = &loaded.doc;
    let mut out = Vec::with_capacity(doc.images.len());
    for (i, image) in doc.images.iter().enumerate() {
        let at = format!("/images/{i}");
        let bytes: Option<Cow<'_, [u8]>> = match (&image.uri, image.buffer_view) {
            (Some(uri), None) => resolve(uri, &loaded.files)
                .map_err(|why| {
                    issues.error(
                        "URI_NOT_RESOLVED",
                        format!("{at}/uri"),
                        format!("the image {why}"),
                    )
                })
                .ok(),
            (None, Some(v)) => {
                let view = &doc.buffer_views[v];
                let data = buffers.get(view.buffer).and_then(|b| {
                    b.get(
                        view.byte_offset as usize
                            ..(view.byte_offset.saturating_add(view.byte_length)) as usize,
                    )
                });
                data.map(Cow::Borrowed)
            }
            _ => {
                issues.error(
                    "IMAGE_DATA_MISSING",
                    at.clone(),
                    "an image needs exactly one of `uri` and `bufferView`",
                );
                None
            }
        };
        let Some(bytes) = bytes else {
            out.push(None);
            continue;
        };
        let Some(format) = ImageFormat::sniff(&bytes) else {
            issues.error(
                "IMAGE_UNRECOGNIZED_FORMAT",
                at,
                "is not a PNG, JPEG or WebP image; re-export the texture as PNG or JPEG",
            );
            out.push(None);
            continue;
        };
        if let Some(declared) = &image.mime_type {
            if declared != format.mime() {
                issues.warn(
                    "IMAGE_MIME_TYPE_INVALID",
                    format!("{at}/mimeType"),
                    format!("declares {declared} but holds {}", format.mime()),
                );
            }
        }
        match crate::media::decode_image(&bytes, format) {
            Ok(decoded) => out.push(Some(ImageFacts {
                mime: format.mime(),
                width: decoded.width(),
                height: decoded.height(),
                bytes: bytes.len() as u64,
            })),
            Err(e) => {
                issues.error("IMAGE_DATA_INVALID", at, format!("does not decode: {e}"));
                out.push(None);
            }
        }
    }
    out
}

/// Nodes form trees: no node is its own ancestor, none has two parents.
fn node_tree(doc: &Document, issues: &mut Issues) {
    let mut parent: Vec<Option<usize>> = vec![None; doc.nodes.len()];
    for (i, node) in doc.nodes.iter().enumerate() {
        for &c in &node.children {
            if c == i {
                issues.error(
                    "NODE_LOOP",
                    format!("/nodes/{i}/children"),
                    "a node is its own child",
                );
            } else if let Some(p) = parent[c] {
                issues.error(
                    "NODE_PARENT_OVERRIDE",
                    format!("/nodes/{i}/children"),
                    format!("node {c} already has parent {p}"),
                );
            } else {
                parent[c] = Some(i);
            }
        }
    }
    // Each node is walked up once: a walk stops at a root or a node already known to reach one.
    let mut state = vec![0u8; doc.nodes.len()]; // 0 unseen, 1 on this walk, 2 reaches a root
    for start in 0..doc.nodes.len() {
        let mut path = Vec::new();
        let mut at = Some(start);
        while let Some(n) = at {
            match state[n] {
                2 => break,
                1 => {
                    issues.error(
                        "NODE_LOOP",
                        format!("/nodes/{n}"),
                        "the node is its own ancestor",
                    );
                    break;
                }
                _ => {
                    state[n] = 1;
                    path.push(n);
                    at = parent[n];
                }
            }
        }
        for n in path {
            state[n] = 2;
        }
    }
    for (i, scene) in doc.scenes.iter().enumerate() {
        for (j, &n) in scene.nodes.iter().enumerate() {
            if parent[n].is_some() {
                issues.error(
                    "SCENE_NON_ROOT_NODE",
                    format!("/scenes/{i}/nodes/{j}"),
                    format!("node {n} has a parent, so it cannot be a root of the scene"),
                );
            }
        }
    }
}
