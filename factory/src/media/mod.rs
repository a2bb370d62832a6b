//! The media store: result files, content-addressed per project, with thumbnails.
//!
//! `projects/<project id>/products/<hh>/<sha256>.<ext>` holds each original once,
//! `projects/<project id>/thumbs/<hh>/<sha256>-<size>.webp` its thumbnails, in the data dir or in
//! an S3-compatible bucket ([`blobs`]): the same keys in both. Every key is built here from a
//! project id (a number), a hash (checked to be 64 hex digits) and an extension from a fixed
//! list: nothing a user or a provider sends becomes a key.
//!
//! On disk, files are written atomically (temporary file, fsync, rename, fsync of the directory,
//! and of every directory created on the way, so the file is on disk before its product row
//! commits) and readable by their owner only; a bucket's PUT is atomic by itself. A file's bytes
//! are checked by sniffing and decoding them, never by trusting a declared type.

pub mod av;
pub mod blobs;
mod format;
pub mod png;
pub mod srgb;
mod thumbs;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

pub use av::StoredAv;
pub use blobs::{Bucket, BucketError, BucketSettings, Key, Served};
use format::{checked_format, dimensions};
pub use format::{decode_image, ImageFormat, MAX_EXR_BYTES, MAX_FILE_BYTES, MAX_SIDE};
pub use thumbs::{placeholder_color, resize, ThumbSize, THUMB_SIZES};

use blobs::Blobs;

/// Extensions of stored originals that are not pictures (checked by their own modules).
pub const STORED_OTHER: &[&str] = &["glb"];

/// The type of a stored original, by its extension.
pub fn mime_of_ext(ext: &str) -> Option<&'static str> {
    match ext {
        "glb" => Some("model/gltf-binary"),
        other => ImageFormat::from_ext(other)
            .map(ImageFormat::mime)
            .or_else(|| av::Container::from_ext(other).map(|c| c.mime(true))),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("the file is {bytes} bytes; {format} files over {limit} bytes are refused")]
    TooLarge {
        bytes: usize,
        format: &'static str,
        limit: usize,
    },
    #[error("the file is not a PNG, JPEG, WebP or OpenEXR image")]
    UnknownFormat,
    #[error("the file claims to be {format} but does not decode as one: {reason}")]
    Undecodable {
        format: &'static str,
        reason: String,
    },
    #[error("could not store {key} in {place}: {source}")]
    Write {
        key: Key,
        place: String,
        source: io::Error,
    },
}

/// A stored original and what was learnt about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// Lowercase hex SHA-256 of the bytes.
    pub hash: String,
    /// Its key in the store (on disk: relative to the data dir).
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
    /// The data dir (temporary files and the export spool live here even with a bucket).
    root: PathBuf,
    blobs: Blobs,
    /// ffmpeg and ffprobe, looked for on the first video or sound.
    av: Arc<std::sync::OnceLock<Result<av::Tools, String>>>,
}

impl MediaStore {
    /// A store in the data dir.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        Self {
            blobs: Blobs::Dir(root.clone()),
            root,
            av: Default::default(),
        }
    }

    /// A store in `bucket`, with `root` the data dir for temporary files.
    pub fn in_bucket(root: impl Into<PathBuf>, bucket: Bucket) -> Self {
        Self {
            root: root.into(),
            blobs: Blobs::Bucket(Arc::new(bucket)),
            av: Default::default(),
        }
    }

    /// The data dir.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the files are, for the log and the Storage page (never the credentials).
    pub fn describe(&self) -> String {
        self.blobs.describe()
    }

    pub fn is_bucket(&self) -> bool {
        matches!(self.blobs, Blobs::Bucket(_))
    }

    /// Verifies `bytes` are an image, stores them once per project, and makes the thumbnails.
    /// CPU and disk work: call from a blocking thread.
    pub fn put(&self, project_id: i64, bytes: &[u8]) -> Result<StoredFile, MediaError> {
        // Decoded before anything is written: a file that is not a picture leaves nothing.
        let format = checked_format(bytes)?;
        let image = decode_image(bytes, format)?;
        let (width, height) = (image.width(), image.height());
        let original = self.put_original(project_id, bytes)?;
        let rgba = srgb::display_rgba(image);
        let thumbhash = self.write_thumbs(project_id, &original.hash, &rgba)?;
        Ok(StoredFile {
            rel_path: original.rel_path,
            thumbhash,
            hash: original.hash,
            format: original.format,
            width,
            height,
            bytes: bytes.len() as u64,
        })
    }

    /// The fast half of [`put`](Self::put): checks the format and the size in the header and
    /// stores the original, without decoding the pixels. [`finish`](Self::finish) makes the
    /// thumbnails later. From a blocking thread.
    pub fn put_original(&self, project_id: i64, bytes: &[u8]) -> Result<Original, MediaError> {
        let format = checked_format(bytes)?;
        let (width, height) = dimensions(bytes, format)?;
        let hash = hex(&Sha256::digest(bytes));
        let key = self
            .original_key(project_id, &hash, format.ext())
            .expect("a fresh hash is valid");
        self.write_once(&key, bytes)?;
        Ok(Original {
            rel_path: key.as_str().to_string(),
            hash,
            format,
            width,
            height,
        })
    }

    /// The slow half: decodes a stored original, makes its thumbnails, and returns its ThumbHash
    /// and pixels (RGBA, for anything else to read from them). From a blocking thread.
    pub fn finish(
        &self,
        project_id: i64,
        hash: &str,
        ext: &str,
    ) -> Result<(String, image::RgbaImage), MediaError> {
        let key = self
            .original_key(project_id, hash, ext)
            .ok_or(MediaError::UnknownFormat)?;
        let bytes = self
            .blobs
            .read(&key)
            .map_err(|source| self.failed(&key, source))?;
        let format = ImageFormat::sniff(&bytes).ok_or(MediaError::UnknownFormat)?;
        let rgba = srgb::display_rgba(decode_image(&bytes, format)?);
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
            let thumb = self.thumb_key(project_id, hash, size).expect("valid hash");
            let there = self
                .blobs
                .exists(&thumb)
                .map_err(|source| self.failed(&thumb, source))?;
            if !there {
                self.blobs
                    .write(&thumb, &thumbs::webp_thumbnail(rgba, size))
                    .map_err(|source| self.failed(&thumb, source))?;
            }
        }
        Ok(thumbs::thumbhash(rgba))
    }

    fn write_once(&self, key: &Key, bytes: &[u8]) -> Result<(), MediaError> {
        self.blobs
            .write_once(key, bytes)
            .map_err(|source| self.failed(key, source))
    }

    fn failed(&self, key: &Key, source: io::Error) -> MediaError {
        MediaError::Write {
            key: key.clone(),
            place: self.describe(),
            source,
        }
    }

    /// An original's key; `None` for anything that is not a hash and a known extension.
    pub fn original_key(&self, project_id: i64, hash: &str, ext: &str) -> Option<Key> {
        let ext = ImageFormat::from_ext(ext)
            .map(ImageFormat::ext)
            .or_else(|| av::Container::from_ext(ext).map(av::Container::ext))
            .or_else(|| STORED_OTHER.iter().copied().find(|known| *known == ext))?;
        valid_hash(hash).then(|| {
            Key::new(format!(
                "projects/{project_id}/products/{}/{hash}.{ext}",
                &hash[..2]
            ))
        })
    }

    /// Stores a file that is not a picture (a checked GLB) once per project, with thumbnails
    /// made from `preview`: its hash, its key and the preview's ThumbHash. From a blocking
    /// thread.
    pub fn put_other(
        &self,
        project_id: i64,
        bytes: &[u8],
        ext: &'static str,
        preview: &image::RgbaImage,
    ) -> Result<(String, Key, String), MediaError> {
        let hash = hex(&Sha256::digest(bytes));
        let key = self
            .original_key(project_id, &hash, ext)
            .ok_or(MediaError::UnknownFormat)?;
        self.write_once(&key, bytes)?;
        let thumbhash = self.write_thumbs(project_id, &hash, preview)?;
        Ok((hash, key, thumbhash))
    }

    pub fn thumb_key(&self, project_id: i64, hash: &str, size: ThumbSize) -> Option<Key> {
        valid_hash(hash).then(|| {
            Key::new(format!(
                "projects/{project_id}/thumbs/{}/{hash}-{}.webp",
                &hash[..2],
                size.pixels()
            ))
        })
    }

    /// Every file of one stored original: the original and its thumbnails.
    pub fn keys_of(&self, project_id: i64, hash: &str, ext: &str) -> Vec<Key> {
        let mut keys: Vec<Key> = self
            .original_key(project_id, hash, ext)
            .into_iter()
            .collect();
        keys.extend(
            THUMB_SIZES
                .into_iter()
                .filter_map(|size| self.thumb_key(project_id, hash, size)),
        );
        // A video's preview (a sound in the same containers has none).
        if av::Container::from_ext(ext).is_some() {
            keys.extend(self.preview_key(project_id, hash));
        }
        keys
    }

    /// A stored file's bytes. From a blocking thread.
    pub fn read(&self, key: &Key) -> io::Result<Vec<u8>> {
        self.blobs.read(key)
    }

    /// A stored file's bytes, from async code.
    pub async fn read_async(&self, key: &Key) -> io::Result<Vec<u8>> {
        self.blobs.read_async(key).await
    }

    /// Whether a file is stored under `key`. From a blocking thread.
    pub fn exists(&self, key: &Key) -> io::Result<bool> {
        self.blobs.exists(key)
    }

    /// How a browser gets the file at `key`.
    pub async fn serve(&self, key: &Key) -> io::Result<Served> {
        self.blobs.serve(key).await
    }

    /// Every stored file of the library (`projects/...`) with its size, in key order.
    /// From a blocking thread.
    pub fn list(&self) -> io::Result<Vec<(Key, u64)>> {
        self.blobs.list("projects/")
    }

    /// [`list`](Self::list), from async code.
    pub async fn list_async(&self) -> io::Result<Vec<(Key, u64)>> {
        self.blobs.list_async("projects/").await
    }

    /// Stores `bytes` under `key` as they are, unchecked (a restore puts back what a backup
    /// took, once it has checked the hash). From a blocking thread.
    pub fn put_raw(&self, key: &Key, bytes: &[u8]) -> io::Result<()> {
        self.blobs.write_once(key, bytes)
    }

    /// Removes one file; an absent file is not an error. From a blocking thread.
    pub fn delete(&self, key: &Key) -> io::Result<()> {
        self.blobs.remove(key)
    }

    /// A key from a listing or an archive, if it names a file this store writes
    /// (`projects/<digits>/<products|thumbs>/<hh>/<file>`, nothing else).
    pub fn parse_key(text: &str) -> Option<Key> {
        let parts: Vec<&str> = text.split('/').collect();
        let ok = parts.len() == 5
            && parts[0] == "projects"
            && !parts[1].is_empty()
            && parts[1].bytes().all(|b| b.is_ascii_digit())
            && matches!(parts[2], "products" | "thumbs")
            && parts[3].len() == 2
            && parts[3].bytes().all(|b| b.is_ascii_hexdigit())
            && !parts[4].is_empty()
            && !parts[4].starts_with('.')
            && parts[4]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        ok.then(|| Key::new(text.to_string()))
    }

    /// Moves a file nobody uses to `trash/orphans/<key>` (kept, never deleted here). From a
    /// blocking thread.
    pub fn set_aside(&self, key: &Key) -> io::Result<()> {
        self.blobs.set_aside(key, &Self::aside_key(key))
    }

    /// Where [`set_aside`](Self::set_aside) puts a file.
    pub fn aside_key(key: &Key) -> Key {
        Key::new(format!("trash/orphans/{key}"))
    }

    /// Makes an original and its thumbnails available in another project (a hard link or a
    /// copy on disk, a copy inside a bucket). Files already there are kept. From a blocking
    /// thread.
    pub fn copy_to_project(&self, from: i64, to: i64, hash: &str, ext: &str) -> io::Result<()> {
        for (source, target) in self
            .keys_of(from, hash, ext)
            .into_iter()
            .zip(self.keys_of(to, hash, ext))
        {
            // A missing source (a sound's preview) is skipped.
            self.blobs.copy(&source, &target)?;
        }
        Ok(())
    }

    /// Removes an original and its thumbnails (absent files are not an error). From a
    /// blocking thread.
    pub fn remove(&self, project_id: i64, hash: &str, ext: &str) -> io::Result<()> {
        for key in self.keys_of(project_id, hash, ext) {
            self.delete(&key)?;
        }
        Ok(())
    }
}

/// One thumbnail straight from a file's bytes (decode, resize, encode): what `put` does per size.
pub fn thumbnail(bytes: &[u8], size: ThumbSize) -> Result<Vec<u8>, MediaError> {
    let format = ImageFormat::sniff(bytes).ok_or(MediaError::UnknownFormat)?;
    let image = decode_image(bytes, format)?;
    Ok(thumbs::webp_thumbnail(&srgb::display_rgba(image), size))
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

#[cfg(test)]
mod tests;
