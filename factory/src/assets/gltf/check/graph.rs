//! References that resolve and node trees without loops.

use super::Issues;
use crate::assets::gltf::doc::Document;

pub(super) fn references(doc: &Document, issues: &mut Issues) {
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

/// Nodes form trees: no node is its own ancestor, none has two parents.
pub(super) fn node_tree(doc: &Document, issues: &mut Issues) {
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
