//! The media store: result files on disk, content-addressed per project, with thumbnails.
//!
//! `<data dir>/projects/<project id>/products/<hh>/<sha256>.<ext>` holds each original once,
//! `<data dir>/projects/<project id>/thumbs/<hh>/<sha256>-<size>.webp` its thumbnails. Every path
//! is built here from a project id (a number), a hash (checked to be 64 hex digits) and an
//! extension from a fixed list: nothing a user or a provider sends becomes a path.
//!
//! Files are written atomically (temporary file, fsync, rename, fsync of the directory, and of
//! every directory created on the way, so the file is on disk before its product row commits),
//! readable by their owner only, and a file's bytes are checked by sniffing and decoding them,
//! never by trusting a declared type.

pub mod png;
mod thumbs;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::private_files;

pub use thumbs::{placeholder_color, ThumbSize, THUMB_SIZES};

/// Larger downloads are refused (a provider bug or a hostile server).
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;
/// Larger images are refused before decoding (a decompression bomb).
pub const MAX_SIDE: u32 = 16_384;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
    Webp,
}

impl ImageFormat {
    pub fn ext(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpg",
            ImageFormat::Webp => "webp",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Webp => "image/webp",
        }
    }

    pub fn from_ext(ext: &str) -> Option<Self> {
        match ext {
            "png" => Some(ImageFormat::Png),
            "jpg" => Some(ImageFormat::Jpeg),
            "webp" => Some(ImageFormat::Webp),
            _ => None,
        }
    }

    /// By magic bytes.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(png::PNG_SIGNATURE) {
            Some(ImageFormat::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageFormat::Jpeg)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(ImageFormat::Webp)
        } else {
            None
        }
    }

    fn image_crate_format(self) -> image::ImageFormat {
        match self {
            ImageFormat::Png => image::ImageFormat::Png,
            ImageFormat::Jpeg => image::ImageFormat::Jpeg,
            ImageFormat::Webp => image::ImageFormat::WebP,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("the file is {0} bytes; files over {MAX_FILE_BYTES} bytes are refused")]
    TooLarge(usize),
    #[error("the file is not a PNG, JPEG or WebP image")]
    UnknownFormat,
    #[error("the file claims to be {format} but does not decode as one: {reason}")]
    Undecodable {
        format: &'static str,
        reason: String,
    },
    #[error("could not write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A stored original and what was learnt about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// Lowercase hex SHA-256 of the bytes.
    pub hash: String,
    /// Relative to the data dir.
    pub rel_path: String,
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    /// Base64 ThumbHash: a ~25-byte blurry placeholder shown while the thumbnail loads.
    pub thumbhash: String,
}

/// An original stored before its pixels were decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Original {
    pub hash: String,
    pub rel_path: String,
    pub format: ImageFormat,
    /// From the header.
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone)]
pub struct MediaStore {
    root: PathBuf,
}

impl MediaStore {
    /// A store rooted at the data dir.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Verifies `bytes` are an image, stores them once per project, and makes the thumbnails.
    /// CPU and disk work: call from a blocking thread.
    pub fn put(&self, project_id: i64, bytes: &[u8]) -> Result<StoredFile, MediaError> {
        if bytes.len() > MAX_FILE_BYTES {
            return Err(MediaError::TooLarge(bytes.len()));
        }
        // Decoded before anything is written: a file that is not a picture leaves nothing.
        let format = ImageFormat::sniff(bytes).ok_or(MediaError::UnknownFormat)?;
        let image = decode(bytes, format)?;
        let original = self.put_original(project_id, bytes)?;
        let rgba = image.to_rgba8();
        let thumbhash = self.write_thumbs(project_id, &original.hash, &rgba)?;
        Ok(StoredFile {
            rel_path: original.rel_path,
            thumbhash,
            hash: original.hash,
            format: original.format,
            width: image.width(),
            height: image.height(),
            bytes: bytes.len() as u64,
        })
    }

    /// The fast half of [`put`](Self::put): checks the format and the size in the header and
    /// stores the original, without decoding the pixels. [`finish`](Self::finish) makes the
    /// thumbnails later.
    pub fn put_original(&self, project_id: i64, bytes: &[u8]) -> Result<Original, MediaError> {
        if bytes.len() > MAX_FILE_BYTES {
            return Err(MediaError::TooLarge(bytes.len()));
        }
        let format = ImageFormat::sniff(bytes).ok_or(MediaError::UnknownFormat)?;
        let (width, height) = dimensions(bytes, format)?;
        let hash = hex(&Sha256::digest(bytes));
        let path = self
            .original_path(project_id, &hash, format.ext())
            .expect("a fresh hash is valid");
        write_once(&path, bytes)?;
        Ok(Original {
            rel_path: path
                .strip_prefix(&self.root)
                .expect("under the root")
                .to_string_lossy()
                .into_owned(),
            hash,
            format,
            width,
            height,
        })
    }

    /// The slow half: decodes a stored original, makes its thumbnails, and returns its ThumbHash
    /// and pixels (RGBA, for anything else to read from them).
    pub fn finish(
        &self,
        project_id: i64,
        hash: &str,
        ext: &str,
    ) -> Result<(String, image::RgbaImage), MediaError> {
        let path = self
            .original_path(project_id, hash, ext)
            .ok_or(MediaError::UnknownFormat)?;
        let bytes = fs::read(&path).map_err(|source| MediaError::Write {
            path: path.clone(),
            source,
        })?;
        let format = ImageFormat::sniff(&bytes).ok_or(MediaError::UnknownFormat)?;
        let rgba = decode(&bytes, format)?.to_rgba8();
        let thumbhash = self.write_thumbs(project_id, hash, &rgba)?;
        Ok((thumbhash, rgba))
    }

    fn write_thumbs(
        &self,
        project_id: i64,
        hash: &str,
        rgba: &image::RgbaImage,
    ) -> Result<String, MediaError> {
        for size in THUMB_SIZES {
            let thumb = self.thumb_path(project_id, hash, size).expect("valid hash");
            if !thumb.exists() {
                write_once(&thumb, &thumbs::webp_thumbnail(rgba, size))?;
            }
        }
        Ok(thumbs::thumbhash(rgba))
    }

    /// Where an original lives; `None` for anything that is not a hash and a known extension.
    pub fn original_path(&self, project_id: i64, hash: &str, ext: &str) -> Option<PathBuf> {
        let format = ImageFormat::from_ext(ext)?;
        valid_hash(hash).then(|| {
            self.project_dir(project_id)
                .join("products")
                .join(&hash[..2])
                .join(format!("{hash}.{}", format.ext()))
        })
    }

    /// Every file of one stored original: the original and its thumbnails.
    pub fn files_of(&self, project_id: i64, hash: &str, ext: &str) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = self
            .original_path(project_id, hash, ext)
            .into_iter()
            .collect();
        files.extend(
            THUMB_SIZES
                .into_iter()
                .filter_map(|size| self.thumb_path(project_id, hash, size)),
        );
        files
    }

    /// Makes an original and its thumbnails available in another project (a hard link where
    /// the file system allows, else a copy). Files already there are kept.
    pub fn copy_to_project(
        &self,
        from: i64,
        to: i64,
        hash: &str,
        ext: &str,
    ) -> std::io::Result<()> {
        for (source, target) in self
            .files_of(from, hash, ext)
            .into_iter()
            .zip(self.files_of(to, hash, ext))
        {
            if target.exists() || !source.exists() {
                continue;
            }
            if let Some(dir) = target.parent() {
                crate::private_files::create_dir_all(dir)?;
            }
            if std::fs::hard_link(&source, &target).is_err() {
                std::fs::copy(&source, &target)?;
            }
        }
        Ok(())
    }

    /// Removes an original and its thumbnails (absent files are not an error).
    pub fn remove(&self, project_id: i64, hash: &str, ext: &str) -> std::io::Result<()> {
        for file in self.files_of(project_id, hash, ext) {
            match std::fs::remove_file(&file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    pub fn thumb_path(&self, project_id: i64, hash: &str, size: ThumbSize) -> Option<PathBuf> {
        valid_hash(hash).then(|| {
            self.project_dir(project_id)
                .join("thumbs")
                .join(&hash[..2])
                .join(format!("{hash}-{}.webp", size.pixels()))
        })
    }

    fn project_dir(&self, project_id: i64) -> PathBuf {
        self.root.join("projects").join(project_id.to_string())
    }
}

/// One thumbnail straight from a file's bytes (decode, resize, encode): what `put` does per size.
pub fn thumbnail(bytes: &[u8], size: ThumbSize) -> Result<Vec<u8>, MediaError> {
    let format = ImageFormat::sniff(bytes).ok_or(MediaError::UnknownFormat)?;
    let image = decode(bytes, format)?;
    Ok(thumbs::webp_thumbnail(&image.to_rgba8(), size))
}

pub fn valid_hash(hash: &str) -> bool {
    hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The size the header declares (refused past [`MAX_SIDE`]), without decoding the pixels.
fn dimensions(bytes: &[u8], format: ImageFormat) -> Result<(u32, u32), MediaError> {
    let reader =
        image::ImageReader::with_format(std::io::Cursor::new(bytes), format.image_crate_format());
    let (width, height) = reader
        .into_dimensions()
        .map_err(|e| MediaError::Undecodable {
            format: format.mime(),
            reason: e.to_string(),
        })?;
    if width > MAX_SIDE || height > MAX_SIDE || width == 0 || height == 0 {
        return Err(MediaError::Undecodable {
            format: format.mime(),
            reason: format!("it declares {width}×{height} pixels"),
        });
    }
    Ok((width, height))
}

fn decode(bytes: &[u8], format: ImageFormat) -> Result<image::DynamicImage, MediaError> {
    let undecodable = |reason: String| MediaError::Undecodable {
        format: format.mime(),
        reason,
    };
    let mut reader =
        image::ImageReader::with_format(std::io::Cursor::new(bytes), format.image_crate_format());
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    reader.limits(limits);
    reader.decode().map_err(|e| undecodable(e.to_string()))
}

/// Writes `bytes` to `path` unless it exists: temporary file (0600) in the same directory,
/// fsync, rename, fsync the directory; any directory created on the way is fsynced into its
/// parent first. A crash leaves either nothing or the whole file, reachable from the root.
fn write_once(path: &Path, bytes: &[u8]) -> Result<(), MediaError> {
    if path.exists() {
        return Ok(());
    }
    let err = |source| MediaError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().expect("media paths have a parent");
    private_files::create_dir_all(dir).map_err(err)?;
    let tmp = dir.join(format!(
        ".tmp-{}-{}",
        std::process::id(),
        rand::random::<u64>()
    ));
    let result = (|| {
        let mut file = private_files::create_new(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        private_files::sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_bytes(w: u32, h: u32, value: u8) -> Vec<u8> {
        png::encode_rgb(w, h, &vec![value; (w * h * 3) as usize]).unwrap()
    }

    #[test]
    fn the_same_bytes_are_stored_once_under_their_hash_with_thumbnails() {
        let root = tempfile::tempdir().unwrap();
        let store = MediaStore::new(root.path());
        let bytes = png_bytes(300, 200, 90);
        let a = store.put(7, &bytes).unwrap();
        let b = store.put(7, &bytes).unwrap();
        assert_eq!(a, b);
        assert_eq!((a.width, a.height, a.format), (300, 200, ImageFormat::Png));
        assert_eq!(
            a.rel_path,
            format!("projects/7/products/{}/{}.png", &a.hash[..2], a.hash)
        );
        assert_eq!(fs::read(root.path().join(&a.rel_path)).unwrap(), bytes);
        for size in THUMB_SIZES {
            let thumb = fs::read(store.thumb_path(7, &a.hash, size).unwrap()).unwrap();
            assert_eq!(ImageFormat::sniff(&thumb), Some(ImageFormat::Webp));
            let decoded = image::load_from_memory(&thumb).unwrap();
            assert!(decoded.width() <= size.pixels() && decoded.height() <= size.pixels());
        }
        assert!(!a.thumbhash.is_empty());
        let leftovers: Vec<_> = walk(root.path())
            .into_iter()
            .filter(|p| p.contains(".tmp-"))
            .collect();
        assert!(
            leftovers.is_empty(),
            "no temporary files remain: {leftovers:?}"
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let original = root.path().join(&a.rel_path);
        assert_eq!(
            mode(&original),
            0o600,
            "others cannot read a person's images"
        );
        assert_eq!(mode(original.parent().unwrap()), 0o700);
        assert_eq!(mode(&root.path().join("projects")), 0o700);
    }

    #[test]
    fn bytes_that_are_not_an_image_or_lie_about_their_type_are_refused() {
        let store = MediaStore::new(tempfile::tempdir().unwrap().path());
        assert!(matches!(
            store.put(1, b"<html>hello</html>"),
            Err(MediaError::UnknownFormat)
        ));
        let mut fake = png::PNG_SIGNATURE.to_vec();
        fake.extend_from_slice(b"definitely not chunks");
        assert!(matches!(
            store.put(1, &fake),
            Err(MediaError::Undecodable { .. })
        ));
    }

    #[test]
    fn paths_are_only_built_from_a_hash_and_a_known_extension() {
        let store = MediaStore::new("/data");
        let hash = "ab".repeat(32);
        assert_eq!(
            store.original_path(3, &hash, "png").unwrap(),
            PathBuf::from(format!("/data/projects/3/products/ab/{hash}.png"))
        );
        assert!(store.original_path(3, "../../etc/passwd", "png").is_none());
        assert!(store.original_path(3, &"AB".repeat(32), "png").is_none());
        assert!(store.original_path(3, &hash, "exe").is_none());
    }

    fn walk(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        for entry in fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path.display().to_string());
            }
        }
        out
    }
}
