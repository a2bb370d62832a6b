//! A set of good and broken glTF uploads, made in code from [`sample`], for the asset tests and
//! the cross-check against Khronos's validator.

use std::io::Write;

use serde_json::{json, Value};

use crate::assets::gltf::pack::glb;
use crate::assets::gltf::sample::{self, Sample};

/// What this app must decide about a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Valid,
    /// Refused with this validator code in the report.
    Invalid(&'static str),
    /// Refused before any glTF is read (not a glTF, a broken GLB or ZIP).
    Unreadable,
}

/// How Khronos's validator is expected to judge the same files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Khronos {
    Agrees,
    /// The validator cannot take this input (a ZIP, several files it has no loader for).
    NotComparable,
    /// The validator only warns where this app refuses (the reason is the app's policy).
    StricterHere(&'static str),
}

pub struct Case {
    pub name: &'static str,
    /// The upload: file names and bytes. The first is the model for the validator.
    pub files: Vec<(String, Vec<u8>)>,
    pub expect: Expect,
    pub khronos: Khronos,
}

fn case(name: &'static str, files: Vec<(String, Vec<u8>)>, expect: Expect) -> Case {
    Case {
        name,
        files,
        expect,
        khronos: Khronos::Agrees,
    }
}

fn one_glb(doc: &Value, bin: &[u8]) -> Vec<(String, Vec<u8>)> {
    vec![(
        "model.glb".into(),
        glb(&serde_json::to_vec(doc).unwrap(), bin),
    )]
}

/// The sample with its buffer and texture as files next to a `.gltf`.
fn separate_files(sample_: &Sample) -> Vec<(String, Vec<u8>)> {
    let (mut doc, bin) = sample::build(sample_);
    doc["buffers"][0]["uri"] = json!("model%20data.bin");
    let mut files = vec![("model data.bin".to_string(), bin.clone())];
    if let Some(png) = &sample_.texture {
        doc["images"][0] = json!({"name": "Pattern", "uri": "textures/pattern.png"});
        files.push(("textures/pattern.png".into(), png.clone()));
    }
    files.insert(
        0,
        (
            "model.gltf".into(),
            serde_json::to_vec_pretty(&doc).unwrap(),
        ),
    );
    files
}

/// A ZIP (deflated) of named files.
pub fn zip(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    for (name, bytes) in files {
        out.start_file(name.as_str(), options).unwrap();
        out.write_all(bytes).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// Offset in the sample's buffer of accessor `a`'s first element.
fn offset(doc: &Value, a: usize) -> usize {
    let view = doc["accessors"][a]["bufferView"].as_u64().unwrap() as usize;
    doc["bufferViews"][view]["byteOffset"].as_u64().unwrap() as usize
}

pub fn cases() -> Vec<Case> {
    let textured = Sample {
        texture: Some(sample::checker_png(64)),
        ..Sample::default()
    };
    let mut out = vec![
        case(
            "sphere",
            one_glb(
                &sample::build(&Sample::default()).0,
                &sample::build(&Sample::default()).1,
            ),
            Expect::Valid,
        ),
        case(
            "textured",
            vec![("textured.glb".into(), sample::glb(&textured))],
            Expect::Valid,
        ),
        case(
            "three instances",
            vec![(
                "three.glb".into(),
                sample::glb(&Sample {
                    instances: 3,
                    ..Sample::default()
                }),
            )],
            Expect::Valid,
        ),
        case("separate files", separate_files(&textured), Expect::Valid),
    ];
    {
        let (mut doc, bin) = sample::build(&Sample::default());
        use base64::Engine as _;
        doc["buffers"][0]["uri"] = json!(format!(
            "data:application/octet-stream;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&bin)
        ));
        out.push(case(
            "data uri",
            vec![("embedded.gltf".into(), serde_json::to_vec(&doc).unwrap())],
            Expect::Valid,
        ));
    }
    let mut zipped = case(
        "zip of a folder",
        vec![(
            "model.zip".into(),
            zip(&separate_files(&textured)
                .into_iter()
                .map(|(n, b)| (format!("export/{n}"), b))
                .collect::<Vec<_>>()),
        )],
        Expect::Valid,
    );
    zipped.khronos = Khronos::NotComparable;
    out.push(zipped);

    // Broken ones.
    let (doc, bin) = sample::build(&Sample::default());
    let mut wrong_length = one_glb(&doc, &bin);
    let n = wrong_length[0].1.len() as u32 + 16;
    wrong_length[0].1[8..12].copy_from_slice(&n.to_le_bytes());
    out.push(case("glb length header", wrong_length, Expect::Unreadable));
    out.push(case(
        "not a gltf",
        vec![(
            "model.glb".into(),
            b"PK? no, just some text pretending".to_vec(),
        )],
        Expect::Unreadable,
    ));
    {
        let mut d = doc.clone();
        d["buffers"][0]["byteLength"] = json!(2_147_483_648u64);
        out.push(case(
            "2 GB declared buffer",
            one_glb(&d, &bin),
            Expect::Invalid("BUFFER_EXTERNAL_BYTELENGTH_MISMATCH"),
        ));
    }
    {
        let mut b = bin.clone();
        let at = offset(&doc, 3) + 4 * 5;
        b[at..at + 4].copy_from_slice(&99_999u32.to_le_bytes());
        out.push(case(
            "index out of range",
            one_glb(&doc, &b),
            Expect::Invalid("ACCESSOR_INDEX_OOB"),
        ));
    }
    {
        let mut b = bin.clone();
        let at = offset(&doc, 0) + 12 * 7;
        b[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
        out.push(case(
            "NaN position",
            one_glb(&doc, &b),
            Expect::Invalid("ACCESSOR_INVALID_FLOAT"),
        ));
    }
    {
        let mut d = doc.clone();
        d["accessors"][0].as_object_mut().unwrap().remove("min");
        out.push(case(
            "POSITION without min",
            one_glb(&d, &bin),
            Expect::Invalid("MESH_PRIMITIVE_POSITION_ACCESSOR_WITHOUT_BOUNDS"),
        ));
    }
    {
        let mut d = doc.clone();
        d["accessors"][0]["max"] = json!([1.0, 2.0, 1.0]);
        out.push(case(
            "POSITION max not true",
            one_glb(&d, &bin),
            Expect::Invalid("ACCESSOR_MAX_MISMATCH"),
        ));
    }
    {
        let mut d = doc.clone();
        d["accessors"][3]["count"] = json!(1_000_000);
        out.push(case(
            "accessor past its view",
            one_glb(&d, &bin),
            Expect::Invalid("ACCESSOR_TOO_LONG"),
        ));
    }
    {
        let mut d = doc.clone();
        d["nodes"][0]["mesh"] = json!(7);
        out.push(case(
            "missing mesh",
            one_glb(&d, &bin),
            Expect::Invalid("UNRESOLVED_REFERENCE"),
        ));
    }
    {
        let (doc, bin) = sample::build(&textured);
        let view = doc["images"][0]["bufferView"].as_u64().unwrap() as usize;
        let at = doc["bufferViews"][view]["byteOffset"].as_u64().unwrap() as usize;
        let mut b = bin.clone();
        b[at..at + 16].copy_from_slice(b"this is not PNG!");
        let mut c = case(
            "texture not an image",
            one_glb(&doc, &b),
            Expect::Invalid("IMAGE_UNRECOGNIZED_FORMAT"),
        );
        c.khronos = Khronos::StricterHere("a texture that is not an image would draw nothing");
        out.push(c);
        let mut b = bin.clone();
        b[at + 40..at + 80].fill(0xAB);
        out.push(case(
            "texture that does not decode",
            one_glb(&doc, &b),
            Expect::Invalid("IMAGE_DATA_INVALID"),
        ));
    }
    for (name, uri) in [
        ("uri outside the folder", "../../etc/passwd"),
        ("http uri", "http://example.com/model.bin"),
    ] {
        let (mut d, _) = sample::build(&Sample::default());
        d["buffers"][0]["uri"] = json!(uri);
        out.push(case(
            name,
            vec![("model.gltf".into(), serde_json::to_vec(&d).unwrap())],
            Expect::Invalid("URI_NOT_RESOLVED"),
        ));
    }
    {
        let mut d = doc.clone();
        d["extensionsUsed"] = json!(["KHR_draco_mesh_compression"]);
        d["extensionsRequired"] = json!(["KHR_draco_mesh_compression"]);
        let mut c = case(
            "draco required",
            one_glb(&d, &bin),
            Expect::Invalid("UNSUPPORTED_EXTENSION"),
        );
        c.khronos =
            Khronos::StricterHere("Draco geometry cannot be read here; the validator decodes it");
        out.push(c);
    }
    {
        let mut d = doc.clone();
        d["nodes"] = json!([{"mesh": 0, "children": [1]}, {"children": [0]}]);
        out.push(case(
            "node loop",
            one_glb(&d, &bin),
            Expect::Invalid("NODE_LOOP"),
        ));
    }
    out
}

/// A ZIP whose one entry unpacks to more than an upload may hold (about 200 KB packed).
pub fn zip_bomb() -> Vec<u8> {
    let zeros = vec![0u8; crate::assets::gltf::MAX_ASSET_BYTES + 1024];
    zip(&[("model.gltf".to_string(), zeros)])
}

/// A ZIP with an entry that climbs out of the archive.
pub fn zip_slip() -> Vec<u8> {
    zip(&[("../../evil.gltf".to_string(), b"{}".to_vec())])
}
