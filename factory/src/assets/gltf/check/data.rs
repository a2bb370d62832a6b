//! The bytes: buffers against what they declare, views inside buffers, accessors inside views
//! with true bounds and finite numbers.

use std::borrow::Cow;

use super::Issues;
use crate::assets::gltf::accessor::{summarise, Elements, Summary};
use crate::assets::gltf::container::{resolve, Container, Loaded};
use crate::assets::gltf::doc::{Component, Document};

pub(super) fn buffers<'a>(loaded: &'a Loaded, issues: &mut Issues) -> Vec<Cow<'a, [u8]>> {
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

pub(super) fn views(doc: &Document, issues: &mut Issues) {
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
pub(super) fn elements<'b>(
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

pub(super) fn accessors(
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
