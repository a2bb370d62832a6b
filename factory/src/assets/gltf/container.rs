//! From the files a person uploads to one glTF document and its bytes: a `.glb`, or a `.gltf`
//! with its `.bin` and textures as separate files or in one ZIP. Nothing here reads the file
//! system or the network: a URI names a file of the upload or a `data:` URI, and anything else
//! (`http://…`, `/etc/passwd`, `../x`) is refused by name. Sizes come from the bytes, never from
//! what a header or a ZIP directory declares.

use std::collections::BTreeMap;
use std::io::Read;

use base64::Engine as _;
use serde_json::Value;

use super::doc::Document;

/// The most bytes one upload may hold, unpacked.
pub const MAX_ASSET_BYTES: usize = 200 * 1024 * 1024;
/// The most files a ZIP may hold.
pub const MAX_ZIP_ENTRIES: usize = 1_000;

const GLB_MAGIC: &[u8; 4] = b"glTF";
const CHUNK_JSON: u32 = 0x4E4F_534A;
const CHUNK_BIN: u32 = 0x004E_4942;

/// Why an upload could not be read as a glTF at all; each says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("No files were uploaded. Choose a .glb, or a .gltf with its .bin and textures (or one ZIP of them).")]
    Empty,
    #[error("The upload is {0} bytes; models are at most {MAX_ASSET_BYTES} bytes. Simplify the model or compress its textures.")]
    TooLarge(u64),
    #[error("None of the files is a glTF model (a .glb, or a .gltf JSON file). Upload a .glb, or a .gltf with its resources.")]
    NotGltf,
    #[error("The upload holds {0} models ({1}). Upload one model at a time.")]
    SeveralModels(usize, String),
    #[error("{0}")]
    Glb(String),
    #[error("The glTF JSON does not parse: {0}. Re-export the model from its editor.")]
    Json(String),
    #[error("{0}")]
    Zip(String),
}

/// Which kind of file the model came as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Glb,
    Gltf,
}

/// A document with its raw JSON and the upload it came from.
pub struct Loaded {
    pub container: Container,
    /// The model's file name (of the `.glb` or `.gltf`).
    pub name: String,
    pub json: Value,
    pub doc: Document,
    /// The model file's bytes as uploaded.
    pub main: Vec<u8>,
    /// Where the GLB's binary chunk is in `main`, if it has one.
    bin: Option<std::ops::Range<usize>>,
    /// The other files of the upload, by their path relative to the model.
    pub files: BTreeMap<String, Vec<u8>>,
    /// Bytes uploaded (unpacked).
    pub file_bytes: u64,
    /// Where the typed reading stopped, when the JSON is not a glTF's shape.
    pub shape_error: Option<(String, String)>,
}

/// Reads an upload: one or more named files, or one ZIP.
pub fn load(upload: Vec<(String, Vec<u8>)>) -> Result<Loaded, ReadError> {
    if upload.is_empty() || upload.iter().all(|(_, b)| b.is_empty()) {
        return Err(ReadError::Empty);
    }
    let total: u64 = upload.iter().map(|(_, b)| b.len() as u64).sum();
    if total > MAX_ASSET_BYTES as u64 {
        return Err(ReadError::TooLarge(total));
    }
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, bytes) in upload {
        if bytes.starts_with(b"PK\x03\x04") {
            files.extend(unzip(&name, &bytes)?);
        } else {
            files.push((base_name(&name).to_string(), bytes));
        }
    }
    let file_bytes: u64 = files.iter().map(|(_, b)| b.len() as u64).sum();
    if file_bytes > MAX_ASSET_BYTES as u64 {
        return Err(ReadError::TooLarge(file_bytes));
    }
    let models: Vec<usize> = (0..files.len())
        .filter(|&i| is_model(&files[i].0, &files[i].1))
        .collect();
    let main = match models.as_slice() {
        [] => return Err(ReadError::NotGltf),
        [one] => *one,
        many => {
            let names: Vec<&str> = many.iter().map(|&i| files[i].0.as_str()).collect();
            return Err(ReadError::SeveralModels(many.len(), names.join(", ")));
        }
    };
    let (name, bytes) = files.swap_remove(main);
    // Resources are named relative to the model's folder (inside a ZIP).
    let folder = name.rsplit_once('/').map(|(dir, _)| format!("{dir}/"));
    let files: BTreeMap<String, Vec<u8>> = files
        .into_iter()
        .filter_map(|(path, bytes)| match &folder {
            Some(dir) => path
                .strip_prefix(dir.as_str())
                .map(|p| (p.to_string(), bytes)),
            None => Some((path, bytes)),
        })
        .collect();
    let (container, json, bin) = if bytes.starts_with(GLB_MAGIC) {
        let (json, bin) = split_glb(&bytes)?;
        (Container::Glb, json, bin)
    } else {
        (Container::Gltf, 0..bytes.len(), None)
    };
    let json: Value =
        serde_json::from_slice(&bytes[json]).map_err(|e| ReadError::Json(e.to_string()))?;
    if !json.is_object() {
        return Err(ReadError::Json("the top level is not an object".into()));
    }
    let (doc, shape_error) = match serde_path_to_error::deserialize::<_, Document>(&json) {
        Ok(doc) => (doc, None),
        Err(e) => (
            Document::default(),
            Some((pointer(e.path()), e.inner().to_string())),
        ),
    };
    Ok(Loaded {
        container,
        name: base_name(&name).to_string(),
        json,
        doc,
        main: bytes,
        bin,
        files,
        file_bytes,
        shape_error,
    })
}

impl Loaded {
    /// The GLB's binary chunk, if it has one.
    pub fn bin(&self) -> Option<&[u8]> {
        self.bin.clone().map(|r| &self.main[r])
    }
}

fn is_model(name: &str, bytes: &[u8]) -> bool {
    let lower = name.to_ascii_lowercase();
    bytes.starts_with(GLB_MAGIC)
        || (lower.ends_with(".gltf")
            && bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{'))
}

fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// A serde path (`meshes[0].primitives[1]`) as a JSON pointer (`/meshes/0/primitives/1`).
fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } => {
                out.push('/');
                out.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    out
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    bytes
        .get(at..at + 4)
        .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
}

type Range = std::ops::Range<usize>;

/// Where the JSON and binary chunks of a GLB are, after checking its header against its bytes.
fn split_glb(bytes: &[u8]) -> Result<(Range, Option<Range>), ReadError> {
    let glb = |m: String| ReadError::Glb(format!("This GLB is damaged: {m}. Export it again."));
    if bytes.len() < 20 {
        return Err(glb(format!(
            "it is {} bytes, shorter than a GLB's headers",
            bytes.len()
        )));
    }
    let version = u32_at(bytes, 4).expect("checked length");
    if version != 2 {
        return Err(ReadError::Glb(format!(
            "This is a GLB of version {version}; only glTF 2.0 is read. Convert it with a current exporter."
        )));
    }
    let declared = u32_at(bytes, 8).expect("checked length") as usize;
    if declared != bytes.len() {
        return Err(glb(format!(
            "its header says {declared} bytes but the file has {} (truncated, or with bytes after its end)",
            bytes.len()
        )));
    }
    let mut at = 12;
    let mut chunks: Vec<(u32, Range)> = Vec::new();
    while at < bytes.len() {
        let (Some(length), Some(kind)) = (u32_at(bytes, at), u32_at(bytes, at + 4)) else {
            return Err(glb(format!("a chunk header at byte {at} is cut off")));
        };
        let start = at + 8;
        let end = start
            .checked_add(length as usize)
            .filter(|&end| end <= bytes.len())
            .ok_or_else(|| {
                glb(format!(
                    "the chunk at byte {at} declares {length} bytes, past the end of the file"
                ))
            })?;
        if length % 4 != 0 {
            return Err(glb(format!(
                "the chunk at byte {at} is {length} bytes, not a multiple of 4"
            )));
        }
        chunks.push((kind, start..end));
        at = end;
    }
    let json = match chunks.first() {
        Some((CHUNK_JSON, range)) => range.clone(),
        _ => return Err(glb("its first chunk is not the JSON chunk".into())),
    };
    let bin = match chunks.get(1) {
        Some((CHUNK_BIN, range)) => Some(range.clone()),
        _ => None,
    };
    Ok((json, bin))
}

/// The files of a ZIP, unpacked in memory with every size counted as it is read (a ZIP bomb
/// stops at the limit, whatever its directory claims).
fn unzip(name: &str, bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, ReadError> {
    let bad = |m: String| ReadError::Zip(format!("The ZIP {name} {m}"));
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| {
        bad(format!(
            "cannot be read ({e}). Make it again with a common archiver."
        ))
    })?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(bad(format!(
            "holds {} files; at most {MAX_ZIP_ENTRIES} are read. Keep only the model and its resources.",
            archive.len()
        )));
    }
    let mut budget = MAX_ASSET_BYTES as u64;
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| bad(format!("has an entry that cannot be read ({e})")))?;
        if entry.is_dir() {
            continue;
        }
        let path = entry
            .name()
            .map_err(|e| bad(format!("has an entry whose name cannot be read ({e})")))?
            .replace('\\', "/");
        if path.starts_with('/') || path.split('/').any(|s| s == "..") {
            return Err(bad(format!(
                "holds `{path}`, a path outside the archive. Nothing was unpacked."
            )));
        }
        if path.starts_with("__MACOSX/") {
            continue;
        }
        let mut data = Vec::new();
        (&mut entry)
            .take(budget + 1)
            .read_to_end(&mut data)
            .map_err(|e| bad(format!("has a damaged entry `{path}` ({e})")))?;
        if data.len() as u64 > budget {
            return Err(bad(format!(
                "unpacks to more than {MAX_ASSET_BYTES} bytes (a ZIP bomb?). Nothing was stored."
            )));
        }
        budget -= data.len() as u64;
        out.push((path, data));
    }
    Ok(out)
}

/// Where a URI's bytes are: a `data:` URI, or a file of the upload. Anything else is refused
/// with the reason.
pub fn resolve<'a>(
    uri: &str,
    files: &'a BTreeMap<String, Vec<u8>>,
) -> Result<std::borrow::Cow<'a, [u8]>, String> {
    if let Some(rest) = uri.strip_prefix("data:") {
        let (_, data) = rest
            .split_once(";base64,")
            .ok_or("is a data: URI that is not base64; embed the data as base64 or as a file")?;
        if data.len() > MAX_ASSET_BYTES / 3 * 4 {
            return Err("is a data: URI larger than a model may be".into());
        }
        return base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map(std::borrow::Cow::Owned)
            .map_err(|e| format!("is a data: URI whose base64 does not decode ({e})"));
    }
    let scheme = uri.split_once(':').is_some_and(|(s, _)| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    });
    if scheme {
        return Err(format!(
            "points to `{uri}`; this app never fetches a model's files from the network or the disk. Include the file in the upload"
        ));
    }
    let path = percent_decode(uri).ok_or("is not a valid URI (bad percent-encoding)")?;
    let path = path.strip_prefix("./").unwrap_or(&path).to_string();
    if path.starts_with('/') || path.contains('\\') || path.split('/').any(|s| s == "..") {
        return Err(format!(
            "points to `{uri}`, outside the model's folder; nothing outside the upload is ever read"
        ));
    }
    // Files dropped one by one lose their folders: `textures/a.png` is then the one `a.png`.
    let by_base_name = || {
        let name = base_name(&path);
        let mut matches = files.iter().filter(|(p, _)| base_name(p) == name);
        match (matches.next(), matches.next()) {
            (Some((_, bytes)), None) => Some(bytes),
            _ => None,
        }
    };
    files
        .get(&path)
        .or_else(by_base_name)
        .map(|b| std::borrow::Cow::Borrowed(b.as_slice()))
        .ok_or_else(|| {
            format!("names `{path}`, which is not among the uploaded files. Add it, or upload a ZIP of the model's folder")
        })
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_resolve_only_inside_the_upload() {
        let files = BTreeMap::from([("tex/a b.png".to_string(), vec![1u8, 2])]);
        assert_eq!(resolve("tex/a%20b.png", &files).unwrap().as_ref(), &[1, 2]);
        assert_eq!(
            resolve("./tex/a%20b.png", &files).unwrap().as_ref(),
            &[1, 2]
        );
        assert_eq!(
            resolve("data:application/octet-stream;base64,AQI=", &files)
                .unwrap()
                .as_ref(),
            &[1, 2]
        );
        for bad in [
            "../../etc/passwd",
            "/etc/passwd",
            "http://example.com/a.bin",
            "file:///etc/passwd",
            "tex/..%2F..%2Fx",
            "C:\\x",
        ] {
            let e = resolve(bad, &files).unwrap_err();
            assert!(e.contains("never") || e.contains("outside"), "{bad}: {e}");
        }
        assert!(resolve("missing.bin", &files)
            .unwrap_err()
            .contains("not among the uploaded files"));
    }

    #[test]
    fn glb_headers_are_checked_against_the_bytes() {
        let mut glb = b"glTF".to_vec();
        glb.extend(2u32.to_le_bytes());
        glb.extend(28u32.to_le_bytes());
        glb.extend(8u32.to_le_bytes());
        glb.extend(CHUNK_JSON.to_le_bytes());
        glb.extend(b"{}      ");
        assert!(split_glb(&glb).is_ok());
        let mut wrong = glb.clone();
        wrong[8..12].copy_from_slice(&999u32.to_le_bytes());
        assert!(split_glb(&wrong)
            .unwrap_err()
            .to_string()
            .contains("header says 999 bytes"));
        let mut long_chunk = glb.clone();
        long_chunk[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(split_glb(&long_chunk)
            .unwrap_err()
            .to_string()
            .contains("past the end"));
    }
}
