//! What the bytes mean: primitives (POSITION, equal counts, indices in range) and images that
//! decode.

use std::borrow::Cow;

use super::{Checked, ImageFacts, Issues};
use crate::assets::gltf::container::{resolve, Loaded};
use crate::assets::gltf::doc::{Component, Document, ElementType};
use crate::media::ImageFormat;

pub(super) fn meshes(doc: &Document, checked: &Checked<'_>, issues: &mut Issues) {
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

pub(super) fn images(
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
        // glTF textures are PNG or JPEG (WebP by extension); an OpenEXR is not one.
        let Some(format) = ImageFormat::sniff(&bytes).filter(|f| f.browser_shows()) else {
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
