//! Scenes and renders in tests: a sample scene, and the Blender processes still running.

/// The Blender processes a render engine started that are still alive (found by the private
/// folder every render runs in), on Linux.
pub fn blender_processes() -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // A zombie has ended; only its parent's reaping is left.
            let zombie = state
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'));
            !zombie && String::from_utf8_lossy(&cmdline).contains("art-factory-blender-")
        })
        .collect()
}

/// A scene (in the API's JSON) placing `assets` in a row, lit by a sun and a spot light, seen by
/// a perspective camera named `front` and an orthographic one named `top`.
pub fn sample_scene(name: &str, assets: &[i64]) -> serde_json::Value {
    let mut nodes = vec![serde_json::json!({"kind": "group", "name": "row"})];
    for (i, id) in assets.iter().enumerate() {
        nodes.push(serde_json::json!({
            "kind": "model", "name": format!("model {}", i + 1), "parent": "row", "asset_id": id,
            "transform": {"translation": [i as f64 * 2.5 - (assets.len() - 1) as f64 * 1.25, 0, 0],
                          "rotation": [0, 30, 0]}
        }));
    }
    nodes.push(
        serde_json::json!({"kind": "light", "name": "sun", "light": "directional",
        "strength": 4.0, "position": [4, 6, 5], "target": [0, 0, 0]}),
    );
    nodes.push(
        serde_json::json!({"kind": "light", "name": "spot", "light": "spot",
        "color": [1.0, 0.85, 0.7], "strength": 800.0, "position": [-3, 4, 3], "target": [0, 0, 0],
        "inner_cone": 15, "outer_cone": 35}),
    );
    nodes.push(serde_json::json!({"kind": "camera", "name": "front",
        "projection": {"type": "perspective", "fov": 40},
        "position": [0, 2.5, 7], "target": [0, 0, 0]}));
    nodes.push(serde_json::json!({"kind": "camera", "name": "top",
        "projection": {"type": "orthographic", "height": 6},
        "position": [0, 8, 0.01], "target": [0, 0, 0]}));
    serde_json::json!({"name": name, "environment": [0.08, 0.09, 0.1], "nodes": nodes})
}
