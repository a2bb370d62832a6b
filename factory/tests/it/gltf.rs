//! glTF uploads: the set of good and broken files decided as expected, the metadata measured,
//! the packing lossless, and the verdicts and counts cross-checked against Khronos's validator.

use std::path::{Path, PathBuf};

use factory::assets::gltf::{self, Refused};
use factory::testing::gltf_cases::{self, Expect, Khronos};

#[test]
fn every_case_is_decided_as_expected_with_the_problem_named() {
    for case in gltf_cases::cases() {
        let result = gltf::read(case.files.clone());
        match (case.expect, &result) {
            (Expect::Valid, Ok(accepted)) => {
                assert!(accepted.report.is_valid(), "{}", case.name);
                // What is stored reads back the same.
                let again = gltf::read(vec![("stored.glb".into(), accepted.glb.clone())])
                    .unwrap_or_else(|e| panic!("{}: the packed GLB is refused: {e}", case.name));
                assert_eq!(again.info.totals, accepted.info.totals, "{}", case.name);
                assert_eq!(again.info.scene, accepted.info.scene, "{}", case.name);
                assert_eq!(
                    again.info.textures.len(),
                    accepted.info.textures.len(),
                    "{}",
                    case.name
                );
            }
            (Expect::Invalid(code), Err(Refused::Invalid(report))) => {
                let error = report.errors().find(|i| i.code == code).unwrap_or_else(|| {
                    panic!("{}: expected {code}, got {:?}", case.name, report.issues)
                });
                assert!(
                    error.pointer.starts_with('/'),
                    "{}: a pointer: {error:?}",
                    case.name
                );
                assert!(!error.message.is_empty());
            }
            (Expect::Unreadable, Err(Refused::Unreadable(_))) => {}
            (expect, got) => panic!(
                "{}: expected {expect:?}, got {:?}",
                case.name,
                got.as_ref().map(|a| &a.report)
            ),
        }
    }
}

#[test]
fn refusals_say_what_is_wrong() {
    let message = |name: &str| {
        let case = gltf_cases::cases()
            .into_iter()
            .find(|c| c.name == name)
            .unwrap();
        gltf::read(case.files).unwrap_err().to_string()
    };
    assert!(message("glb length header").contains("header says"));
    assert!(message("not a gltf").contains("None of the files is a glTF model"));
    assert!(message("2 GB declared buffer").contains("declares 2147483648 bytes"));
    assert!(message("index out of range").contains("index 99999 is out of range"));
    assert!(message("uri outside the folder").contains("outside the model's folder"));
    assert!(message("http uri").contains("never fetches"));
    assert!(message("draco required").contains("KHR_draco_mesh_compression"));
    let bomb = gltf::read(vec![("bomb.zip".into(), gltf_cases::zip_bomb())])
        .unwrap_err()
        .to_string();
    assert!(bomb.contains("ZIP bomb"), "{bomb}");
    let slip = gltf::read(vec![("slip.zip".into(), gltf_cases::zip_slip())])
        .unwrap_err()
        .to_string();
    assert!(slip.contains("outside the archive"), "{slip}");
    let several = gltf::read(vec![
        ("a.glb".into(), gltf::sample::glb(&Default::default())),
        ("b.glb".into(), gltf::sample::glb(&Default::default())),
    ])
    .unwrap_err()
    .to_string();
    assert!(several.contains("one model at a time"), "{several}");
}

#[test]
fn metadata_counts_meshes_once_and_the_scene_per_instance() {
    let sample = gltf::sample::Sample {
        rings: 10,
        segments: 16,
        instances: 3,
        texture: Some(gltf::sample::checker_png(128)),
        ..Default::default()
    };
    let accepted = gltf::read(vec![("three.glb".into(), gltf::sample::glb(&sample))]).unwrap();
    let info = &accepted.info;
    let vertices = 11 * 17;
    let triangles = 10 * 16 * 2;
    assert_eq!(info.meshes.len(), 1);
    assert_eq!(
        (
            info.totals.vertices,
            info.totals.triangles,
            info.totals.draw_calls
        ),
        (vertices, triangles, 1)
    );
    let scene = info.scene.as_ref().unwrap();
    assert_eq!(scene.instances, 3);
    assert_eq!(scene.counts.vertices, 3 * vertices);
    assert_eq!(scene.counts.triangles, 3 * triangles);
    // Unit spheres at x = 0, 2.5 and 5.
    let bounds = scene.bounds.unwrap();
    for (got, want) in bounds
        .min
        .iter()
        .chain(&bounds.max)
        .zip([-1.0, -1.0, -1.0, 6.0, 1.0, 1.0])
    {
        assert!((got - want).abs() < 1e-5, "{bounds:?}");
    }
    assert_eq!(info.textures.len(), 1);
    let texture = &info.textures[0];
    assert_eq!(
        (texture.width, texture.height, texture.mime.as_str()),
        (128, 128, "image/png")
    );
    assert_eq!(texture.gpu_bytes, 128 * 128 * 4 * 4 / 3);
    assert!(info.gpu.geometry > 0 && info.gpu.total == info.gpu.geometry + info.gpu.textures);
    assert_eq!(info.materials[0].name.as_deref(), Some("Clay"));
    assert_eq!(info.materials[0].base_color_texture, Some(0));
    assert_eq!(info.container, "glb");
}

#[test]
fn a_gltf_with_its_files_is_packed_into_one_glb() {
    let case = gltf_cases::cases()
        .into_iter()
        .find(|c| c.name == "separate files")
        .unwrap();
    let accepted = gltf::read(case.files).unwrap();
    assert_eq!(accepted.info.container, "gltf");
    assert!(accepted.glb.starts_with(b"glTF"));
    let json_len = u32::from_le_bytes(accepted.glb[12..16].try_into().unwrap()) as usize;
    let json: serde_json::Value = serde_json::from_slice(&accepted.glb[20..20 + json_len]).unwrap();
    assert_eq!(json["buffers"].as_array().unwrap().len(), 1);
    assert!(json["buffers"][0].get("uri").is_none());
    assert!(json["images"][0].get("uri").is_none());
    assert_eq!(json["images"][0]["mimeType"], "image/png");
    // A self-contained GLB is kept byte for byte.
    let glb = gltf::sample::glb(&Default::default());
    assert_eq!(
        gltf::read(vec![("m.glb".into(), glb.clone())]).unwrap().glb,
        glb
    );
}

fn validator() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../end2end/node_modules/gltf-validator");
    assert!(
        path.join("package.json").exists(),
        "Khronos's gltf-validator is not installed at {}; run scripts/setup",
        path.display()
    );
    path
}

#[test]
fn verdicts_and_counts_agree_with_khronos_validator() {
    let dir = tempfile::tempdir().unwrap();
    let mut compared = Vec::new();
    for (i, case) in gltf_cases::cases().into_iter().enumerate() {
        if case.khronos == Khronos::NotComparable {
            continue;
        }
        let folder = dir.path().join(format!("case-{i}"));
        for (name, bytes) in &case.files {
            let path = folder.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, bytes).unwrap();
        }
        compared.push((case, folder.join(gltf_cases_first(&folder))));
    }
    let output = std::process::Command::new("node")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/gltf-validate.cjs"))
        .args(compared.iter().map(|(_, p)| p))
        .env("GLTF_VALIDATOR", validator())
        .output()
        .expect("node runs (scripts/setup installs it)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), compared.len());
    let mut table = String::from("case | ours | Khronos | counts\n");
    for ((case, _), theirs) in compared.iter().zip(&lines) {
        let their_errors: Vec<&str> = theirs["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let theirs_valid = their_errors.is_empty();
        let ours = gltf::validate(case.files.clone());
        let ours_valid = matches!(&ours, Ok((report, _)) if report.is_valid());
        match case.khronos {
            Khronos::StricterHere(why) => {
                assert!(!ours_valid, "{}: refused here ({why})", case.name);
            }
            _ => assert_eq!(
                ours_valid,
                theirs_valid,
                "{}: ours {:?}, Khronos's errors {their_errors:?}",
                case.name,
                ours.as_ref().map(|(r, _)| r)
            ),
        }
        let mut counts = "-".to_string();
        if let Ok((_, Some(info))) = &ours {
            if theirs_valid {
                assert_eq!(
                    theirs["vertices"].as_u64(),
                    Some(info.totals.vertices),
                    "{}",
                    case.name
                );
                assert_eq!(
                    theirs["triangles"].as_u64(),
                    Some(info.totals.triangles),
                    "{}",
                    case.name
                );
                assert_eq!(
                    theirs["drawCalls"].as_u64(),
                    Some(info.totals.draw_calls),
                    "{}",
                    case.name
                );
                assert_eq!(
                    theirs["materials"].as_u64(),
                    Some(info.materials.len() as u64),
                    "{}",
                    case.name
                );
                assert_eq!(
                    theirs["animations"].as_u64(),
                    Some(info.animations.len() as u64),
                    "{}",
                    case.name
                );
                counts = format!(
                    "{} vertices, {} triangles: same",
                    info.totals.vertices, info.totals.triangles
                );
            }
        }
        table.push_str(&format!(
            "{} | {} | {} | {counts}\n",
            case.name,
            if ours_valid { "valid" } else { "refused" },
            if theirs_valid {
                "valid".to_string()
            } else {
                their_errors.join(",")
            }
        ));
    }
    println!("{table}");
}

/// The model's file in a case folder: the `.glb` or `.gltf` at its top.
fn gltf_cases_first(folder: &Path) -> String {
    std::fs::read_dir(folder)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find(|n| n.ends_with(".glb") || n.ends_with(".gltf"))
        .unwrap()
}
