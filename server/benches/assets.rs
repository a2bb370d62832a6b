//! 3D asset benchmark: `cargo bench -p server --bench assets` (or `scripts/bench assets`).
//!
//! Prints, for a ~20 MB GLB (a dense textured sphere): reading, checking and measuring it
//! (p50 and worst of 10 runs, goal < 150 ms) beside baselines measured in the same run (parsing
//! its JSON chunk alone; SHA-256 of the bytes, which storing it does anyway); the built-in
//! renderer's 512² preview of it and of a small model; and how the verdicts and counts compare
//! with Khronos's gltf-validator (npm) over the generated test set; Blender (Cycles on the CPU)
//! rendering the same model at 512² with 32 samples, beside Blender starting and quitting with
//! nothing to do; and the real server killed with SIGKILL in the middle of a Blender render:
//! how many Blender processes were left, and whether the job rendered again after the restart.
//! Prints a table; nothing here passes or fails.

#[path = "assets/blender.rs"]
mod blender;
#[path = "support/timing.rs"]
mod timing;

use std::path::Path;

use factory::assets::gltf::{self, sample};
use factory::render;
use factory::testing::gltf_cases::{self, Khronos};
use sha2::{Digest, Sha256};

fn ms(f: impl FnMut()) -> (f64, f64) {
    timing::p50_worst(10, f)
}

/// Khronos's verdicts for the cases, by running its validator in Node.
fn khronos(dir: &Path) -> Option<Vec<serde_json::Value>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let validator = root.join("end2end/node_modules/gltf-validator");
    let mut files = Vec::new();
    for (i, case) in gltf_cases::cases().iter().enumerate() {
        if case.khronos == Khronos::NotComparable {
            continue;
        }
        let folder = dir.join(format!("case-{i}"));
        for (name, bytes) in &case.files {
            let path = folder.join(name);
            std::fs::create_dir_all(path.parent()?).ok()?;
            std::fs::write(&path, bytes).ok()?;
        }
        files.push(folder.join(&case.files[0].0));
    }
    let out = std::process::Command::new("node")
        .arg(root.join("factory/tests/data/gltf-validate.cjs"))
        .args(&files)
        .env("GLTF_VALIDATOR", validator)
        .output()
        .ok()?;
    String::from_utf8(out.stdout)
        .ok()?
        .lines()
        .map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn main() {
    let big = sample::Sample {
        rings: 500,
        segments: 714,
        texture: Some(sample::checker_png(2048)),
        ..Default::default()
    };
    let glb = sample::glb(&big);
    let upload = || vec![("dense.glb".to_string(), glb.clone())];
    let accepted = gltf::read(upload()).expect("the benchmark model is valid");
    let (read_p50, read_max) = ms(|| {
        gltf::read(upload()).unwrap();
    });
    let (copy_p50, _) = ms(|| {
        std::hint::black_box(upload());
    });
    let json_len = u32::from_le_bytes(glb[12..16].try_into().unwrap()) as usize;
    let (json_p50, _) = ms(|| {
        let v: serde_json::Value = serde_json::from_slice(&glb[20..20 + json_len]).unwrap();
        std::hint::black_box(v);
    });
    let (sha_p50, _) = ms(|| {
        std::hint::black_box(Sha256::digest(&glb));
    });
    let model = render::Model::from_glb(&glb).unwrap();
    let (render_big_p50, _) = ms(|| {
        std::hint::black_box(render::preview(&model, 512));
    });
    let small = render::Model::from_glb(&sample::glb(&sample::Sample::default())).unwrap();
    let (render_small_p50, _) = ms(|| {
        std::hint::black_box(render::preview(&small, 512));
    });

    let dir = tempfile::tempdir().unwrap();
    let agreement = match khronos(dir.path()) {
        None => "not measured: run scripts/setup (node and gltf-validator)".to_string(),
        Some(theirs) => {
            let cases: Vec<_> = gltf_cases::cases()
                .into_iter()
                .filter(|c| c.khronos != Khronos::NotComparable)
                .collect();
            let (mut same, mut stricter, mut counts_same, mut counted) = (0, 0, 0, 0);
            for (case, t) in cases.iter().zip(&theirs) {
                let theirs_valid = t["errors"].as_array().is_some_and(|e| e.is_empty());
                let ours = gltf::validate(case.files.clone());
                let ours_valid = matches!(&ours, Ok((r, _)) if r.is_valid());
                match case.khronos {
                    Khronos::StricterHere(_) if !ours_valid && theirs_valid => stricter += 1,
                    _ if ours_valid == theirs_valid => same += 1,
                    _ => {}
                }
                if let (Ok((_, Some(info))), true) = (&ours, theirs_valid) {
                    counted += 1;
                    if t["vertices"].as_u64() == Some(info.totals.vertices)
                        && t["triangles"].as_u64() == Some(info.totals.triangles)
                        && t["drawCalls"].as_u64() == Some(info.totals.draw_calls)
                    {
                        counts_same += 1;
                    }
                }
            }
            format!(
                "{same}/{} same verdict, {stricter} refused here by policy (Draco, a texture that is not an image); counts equal on {counts_same}/{counted} valid files",
                cases.len()
            )
        }
    };

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let cycles = runtime.block_on(blender::cycles(&glb));
    let crash = runtime.block_on(blender::kill_during_render());

    let scene = accepted.info.scene.as_ref().unwrap();
    let rows = [
        (
            "model",
            format!(
                "{:.1} MB GLB, {} vertices, {} triangles, one 2048² PNG texture",
                glb.len() as f64 / 1e6,
                accepted.info.totals.vertices,
                accepted.info.totals.triangles
            ),
        ),
        (
            "read + validate + metadata p50 (goal < 150 ms)",
            format!("{read_p50:.1} ms"),
        ),
        (
            "read + validate + metadata, worst of 10",
            format!("{read_max:.1} ms"),
        ),
        ("baseline: copy the upload p50", format!("{copy_p50:.1} ms")),
        (
            "baseline: parse its JSON chunk p50",
            format!("{json_p50:.2} ms"),
        ),
        (
            "baseline: SHA-256 of the bytes p50",
            format!("{sha_p50:.1} ms"),
        ),
        (
            "scene bounds",
            format!(
                "{:?} .. {:?}",
                scene.bounds.unwrap().min,
                scene.bounds.unwrap().max
            ),
        ),
        (
            "built-in render, 512² preview of this model p50",
            format!("{render_big_p50:.0} ms"),
        ),
        (
            "built-in render, 512² preview of a 192-triangle sphere p50",
            format!("{render_small_p50:.0} ms"),
        ),
        ("agreement with Khronos's gltf-validator", agreement),
        (
            "Blender, Cycles on the CPU, 512², 32 samples, this model",
            cycles.big,
        ),
        ("Blender, the same, the 192-triangle sphere", cycles.small),
        (
            "baseline: Blender starting and quitting, nothing rendered",
            cycles.startup,
        ),
        ("kill -9 of the server during a Blender render", crash),
    ];
    let width = rows.iter().map(|(k, _)| k.chars().count()).max().unwrap();
    println!(
        "\n| {:width$} | value |\n|{}|---|",
        "measure",
        "-".repeat(width + 2)
    );
    for (k, v) in rows {
        println!("| {k:width$} | {v} |");
    }
}
