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
pub mod png;
pub mod srgb;
mod thumbs;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

pub use blobs::{Bucket, BucketError, BucketSettings, Key, Served};
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

/// Larger downloads are refused (a provider bug or a hostile server).
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;
/// Larger OpenEXR files are refused.
pub const MAX_EXR_BYTES: usize = 256 * 1024 * 1024;
/// The first four bytes of every OpenEXR file.
const EXR_MAGIC: [u8; 4] = [0x76, 0x2f, 0x31, 0x01];
/// Larger images are refused before decoding (a decompression bomb).
pub const MAX_SIDE: u32 = 16_384;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
    Webp,
    /// OpenEXR: linear light in floating point, as a renderer writes it. Browsers cannot show
    /// it; its thumbnails are sRGB.
    Exr,
}

impl ImageFormat {
    pub fn ext(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpg",
            ImageFormat::Webp => "webp",
            ImageFormat::Exr => "exr",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Webp => "image/webp",
            ImageFormat::Exr => "image/x-exr",
        }
    }

    pub fn from_ext(ext: &str) -> Option<Self> {
        match ext {
            "png" => Some(ImageFormat::Png),
            "jpg" => Some(ImageFormat::Jpeg),
            "webp" => Some(ImageFormat::Webp),
            "exr" => Some(ImageFormat::Exr),
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
        } else if bytes.starts_with(&EXR_MAGIC) {
            Some(ImageFormat::Exr)
        } else {
            None
        }
    }

    /// Whether a browser shows it in an `<img>`.
    pub fn browser_shows(self) -> bool {
        self != ImageFormat::Exr
    }

    /// Larger files of this format are refused. A render in OpenEXR holds 6 to 16 bytes a
    /// pixel before compression: a 4096² one does not fit the limit of the others.
    pub fn max_bytes(self) -> usize {
        match self {
            ImageFormat::Exr => MAX_EXR_BYTES,
            _ => MAX_FILE_BYTES,
        }
    }

    fn image_crate_format(self) -> image::ImageFormat {
        match self {
            ImageFormat::Png => image::ImageFormat::Png,
            ImageFormat::Jpeg => image::ImageFormat::Jpeg,
            ImageFormat::Webp => image::ImageFormat::WebP,
            ImageFormat::Exr => image::ImageFormat::OpenExr,
        }
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

/// A stored video or sound and what was learnt about it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAv {
    pub hash: String,
    pub rel_path: String,
    pub probe: av::Probe,
    pub bytes: u64,
    /// Of the poster frame or the waveform.
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

    /// Verifies `bytes` are a video or a sound (sniffed, then probed), stores them once per
    /// project, and makes what pages show: a poster frame's thumbnails and a looping preview
    /// for a video, a waveform's thumbnails for a sound. From a blocking thread.
    pub fn put_av(&self, project_id: i64, bytes: &[u8]) -> Result<StoredAv, av::AvError> {
        let container = av::checked_container(bytes)?;
        let tools = self.av_tools()?;
        // ffmpeg reads a file (an MP4's index may be at its end): a private one in the data dir
        // (made if this is its first file), removed when done.
        crate::private_files::create_dir_all(&self.root)?;
        let mut file = tempfile::Builder::new()
            .prefix(".tmp-av-")
            .tempfile_in(&self.root)?;
        std::io::Write::write_all(&mut file, bytes)?;
        let path = file.path();
        let mut probe = tools.probe(path, container)?;
        let (picture, preview) = if probe.is_video() {
            (
                tools.poster(path, probe.duration_secs)?,
                Some(tools.preview(path)?),
            )
        } else {
            let samples = tools.samples(path)?;
            // The sound as decoded is the truth, whatever its header claims.
            probe.duration_secs = samples.len() as f64 / av::waveform::RATE as f64;
            if samples.is_empty() {
                return Err(av::AvError::Damaged {
                    container: container.ext(),
                    reason: "it holds no sound".into(),
                });
            }
            let picture = av::waveform::draw(&samples, av::waveform::WIDTH, av::waveform::HEIGHT);
            (picture, None)
        };
        let hash = hex(&Sha256::digest(bytes));
        let key = self
            .original_key(project_id, &hash, container.ext())
            .expect("a fresh hash is valid");
        let written = |e: MediaError| match e {
            MediaError::Write { source, .. } => av::AvError::Io(source),
            other => av::AvError::Io(io::Error::other(other.to_string())),
        };
        self.write_once(&key, bytes).map_err(written)?;
        if let Some(preview) = &preview {
            let key = self.preview_key(project_id, &hash).expect("valid hash");
            self.write_once(&key, preview).map_err(written)?;
        }
        let thumbhash = self
            .write_thumbs(project_id, &hash, &picture)
            .map_err(written)?;
        Ok(StoredAv {
            rel_path: key.as_str().to_string(),
            hash,
            probe,
            bytes: bytes.len() as u64,
            thumbhash,
        })
    }

    /// ffmpeg and ffprobe from the PATH, looked for once; the error says how to install them.
    pub fn av_tools(&self) -> Result<&av::Tools, av::AvError> {
        self.av
            .get_or_init(|| {
                av::Tools::detect(None).map_err(|e| match e {
                    av::AvError::Missing(what) => what,
                    other => other.to_string(),
                })
            })
            .as_ref()
            .map_err(|e| av::AvError::Missing(e.clone()))
    }

    /// Where a video's looping preview is kept.
    pub fn preview_key(&self, project_id: i64, hash: &str) -> Option<Key> {
        valid_hash(hash).then(|| {
            Key::new(format!(
                "projects/{project_id}/thumbs/{}/{hash}-preview.webp",
                &hash[..2]
            ))
        })
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

/// The format of a file this store takes, by its magic bytes, within that format's size limit.
fn checked_format(bytes: &[u8]) -> Result<ImageFormat, MediaError> {
    let format = ImageFormat::sniff(bytes).ok_or(MediaError::UnknownFormat)?;
    if bytes.len() > format.max_bytes() {
        return Err(MediaError::TooLarge {
            bytes: bytes.len(),
            format: format.mime(),
            limit: format.max_bytes(),
        });
    }
    Ok(format)
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

pub fn decode_image(bytes: &[u8], format: ImageFormat) -> Result<image::DynamicImage, MediaError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

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
            let thumb = store
                .read(&store.thumb_key(7, &a.hash, size).unwrap())
                .unwrap();
            assert_eq!(ImageFormat::sniff(&thumb), Some(ImageFormat::Webp));
            let decoded = image::load_from_memory(&thumb).unwrap();
            assert!(decoded.width() <= size.pixels() && decoded.height() <= size.pixels());
        }
        assert!(!a.thumbhash.is_empty());
        let leftovers: Vec<_> = crate::testing::walk(root.path())
            .into_iter()
            .filter(|p| p.to_string_lossy().contains(".tmp-"))
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
    fn an_openexr_render_is_stored_as_it_is_with_srgb_thumbnails() {
        let root = tempfile::tempdir().unwrap();
        let store = MediaStore::new(root.path());
        // Linear 0.5 grey, with a highlight past white in one corner.
        let mut linear = image::Rgba32FImage::from_pixel(40, 30, image::Rgba([0.5, 0.5, 0.5, 1.0]));
        linear.put_pixel(0, 0, image::Rgba([8.0, 8.0, 8.0, 1.0]));
        let mut exr = Vec::new();
        image::DynamicImage::ImageRgba32F(linear)
            .write_to(
                &mut std::io::Cursor::new(&mut exr),
                image::ImageFormat::OpenExr,
            )
            .unwrap();
        let stored = store.put(3, &exr).unwrap();
        assert_eq!(
            (stored.format, stored.width, stored.height),
            (ImageFormat::Exr, 40, 30)
        );
        assert!(stored.rel_path.ends_with(".exr"), "{}", stored.rel_path);
        assert_eq!(fs::read(root.path().join(&stored.rel_path)).unwrap(), exr);
        assert_eq!(mime_of_ext("exr"), Some("image/x-exr"));
        let thumb = store
            .read(&store.thumb_key(3, &stored.hash, ThumbSize::Large).unwrap())
            .unwrap();
        let shown = image::load_from_memory(&thumb).unwrap().to_rgb8();
        // sRGB of linear 0.5 is 188; lossy WebP moves it a little.
        let centre = shown.get_pixel(20, 15).0;
        assert!(centre.iter().all(|c| c.abs_diff(188) <= 4), "{centre:?}");
        // The thumbnails are remade from the original the same way.
        let (thumbhash, rgba) = store.finish(3, &stored.hash, "exr").unwrap();
        assert_eq!(thumbhash, stored.thumbhash);
        assert_eq!(rgba.get_pixel(20, 15).0, [188, 188, 188, 255]);
        assert_eq!(rgba.get_pixel(0, 0).0, [255, 255, 255, 255]);

        // The magic number and nothing after it: refused, nothing written.
        let mut fake = EXR_MAGIC.to_vec();
        fake.extend_from_slice(b"not a header");
        let refused = store.put(3, &fake).unwrap_err();
        assert!(
            matches!(
                refused,
                MediaError::Undecodable {
                    format: "image/x-exr",
                    ..
                }
            ),
            "{refused}"
        );
        assert_eq!(store.list().unwrap().len(), 1 + THUMB_SIZES.len());
    }

    #[test]
    fn paths_are_only_built_from_a_hash_and_a_known_extension() {
        let store = MediaStore::new("/data");
        let hash = "ab".repeat(32);
        assert_eq!(
            store.original_key(3, &hash, "png").unwrap().as_str(),
            format!("projects/3/products/ab/{hash}.png")
        );
        assert!(store.original_key(3, "../../etc/passwd", "png").is_none());
        assert!(store.original_key(3, &"AB".repeat(32), "png").is_none());
        assert!(store.original_key(3, &hash, "exe").is_none());
        for key in store.keys_of(3, &hash, "png") {
            assert_eq!(MediaStore::parse_key(key.as_str()), Some(key));
        }
    }
}
