//! The picture formats the store takes: told by their magic bytes, checked against their size
//! limits, decoded with bounds (never by a declared type).

use super::{png, MediaError};

/// Larger downloads are refused (a provider bug or a hostile server).
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;
/// Larger OpenEXR files are refused.
pub const MAX_EXR_BYTES: usize = 256 * 1024 * 1024;
/// The first four bytes of every OpenEXR file.
pub(super) const EXR_MAGIC: [u8; 4] = [0x76, 0x2f, 0x31, 0x01];
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

/// The format of a file this store takes, by its magic bytes, within that format's size limit.
pub(super) fn checked_format(bytes: &[u8]) -> Result<ImageFormat, MediaError> {
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

/// The size the header declares (refused past [`MAX_SIDE`]), without decoding the pixels.
pub(super) fn dimensions(bytes: &[u8], format: ImageFormat) -> Result<(u32, u32), MediaError> {
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
