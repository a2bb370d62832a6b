//! Products on the wire: a stored result and the URLs of its files.

use serde::{Deserialize, Serialize};

/// A stored result, with the URLs of its file and thumbnails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProductDto {
    pub id: i64,
    pub project_id: i64,
    pub job_id: Option<i64>,
    pub batch_id: Option<i64>,
    pub url: String,
    pub thumb_url: String,
    pub preview_url: String,
    /// CSS colour for the thumbnail's box while it loads (the image's average, from ThumbHash).
    pub placeholder: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub prompt: String,
    pub seed: Option<i64>,
    pub kind: ProductKind,
    /// The original's format (`None` for a file this app does not write).
    pub format: Option<FileFormat>,
    /// How long a video or sound lasts.
    pub duration_ms: Option<i32>,
    /// The product it was made from (image-to-image).
    pub parent_id: Option<i64>,
    pub provider: Option<String>,
    pub model: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum ProductKind {
    Image,
    /// A picture a person uploaded or pasted.
    Upload,
    Video,
    Audio,
    Model3d,
}

impl ProductDto {
    /// What a page calls it: `Image #4`, `Video #7`, `Sound #9`.
    pub fn title(&self) -> String {
        let noun = match self.kind {
            ProductKind::Upload => "Upload",
            ProductKind::Model3d => "3D model",
            ProductKind::Video => "Video",
            ProductKind::Audio => "Sound",
            ProductKind::Image => "Image",
        };
        format!("{noun} #{}", self.id)
    }
}

impl ProductKind {
    /// The kind the engine stores as a word; anything unknown is an image.
    pub fn from_engine(kind: &str) -> Self {
        match kind {
            "upload" => ProductKind::Upload,
            "video" => ProductKind::Video,
            "audio" => ProductKind::Audio,
            "model3d" => ProductKind::Model3d,
            _ => ProductKind::Image,
        }
    }
}

/// The format of a product's original file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum FileFormat {
    Png,
    Jpeg,
    Webp,
    /// OpenEXR: linear light in floating point (a render).
    Exr,
    /// A binary glTF model.
    Glb,
    Mp4,
    Webm,
    Wav,
    Mp3,
    Ogg,
    Flac,
}

impl FileFormat {
    /// By the stored file's extension; `None` for one this app does not write.
    pub fn from_ext(ext: &str) -> Option<Self> {
        match ext {
            "png" => Some(FileFormat::Png),
            "jpg" => Some(FileFormat::Jpeg),
            "webp" => Some(FileFormat::Webp),
            "exr" => Some(FileFormat::Exr),
            "glb" => Some(FileFormat::Glb),
            "mp4" => Some(FileFormat::Mp4),
            "webm" => Some(FileFormat::Webm),
            "wav" => Some(FileFormat::Wav),
            "mp3" => Some(FileFormat::Mp3),
            "ogg" => Some(FileFormat::Ogg),
            "flac" => Some(FileFormat::Flac),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FileFormat::Png => "PNG",
            FileFormat::Jpeg => "JPEG",
            FileFormat::Webp => "WebP",
            FileFormat::Exr => "OpenEXR (linear, half float)",
            FileFormat::Glb => "glTF binary (GLB)",
            FileFormat::Mp4 => "MP4",
            FileFormat::Webm => "WebM",
            FileFormat::Wav => "WAV",
            FileFormat::Mp3 => "MP3",
            FileFormat::Ogg => "Ogg",
            FileFormat::Flac => "FLAC",
        }
    }

    /// Whether a browser shows the original in an `<img>`.
    pub fn browser_shows(self) -> bool {
        matches!(self, FileFormat::Png | FileFormat::Jpeg | FileFormat::Webp)
    }
}

impl ProductDto {
    /// The picture to show at full size: the original, or its large preview when a browser
    /// cannot show the original in an `<img>` (a 3D model, an OpenEXR render, a video's poster,
    /// a sound's waveform).
    pub fn shown_url(&self) -> &str {
        if self.format.is_some_and(FileFormat::browser_shows) {
            &self.url
        } else {
            &self.preview_url
        }
    }
}

/// One product with its settings and its lineage both ways.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProductDetailDto {
    pub product: ProductDto,
    pub negative_prompt: String,
    /// The model parameters, as pretty JSON.
    pub params: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// What it was made from.
    pub parent: Option<ProductDto>,
    /// What was made from it.
    pub children: Vec<ProductDto>,
    /// The character it is a portrait of.
    pub character: Option<super::CharacterLinkDto>,
    /// The 3D asset it holds (a product of kind `model3d`).
    pub asset: Option<super::AssetLinkDto>,
    /// The scene it is a render of.
    pub scene: Option<super::SceneLinkDto>,
    pub tags: Vec<String>,
    /// Which value each prompt token chose, as `token = value` pairs.
    pub bindings: Vec<(String, String)>,
    pub rating: Option<i16>,
    pub favourite: bool,
    pub rejected: bool,
    /// In the trash since then.
    pub deleted_at: Option<chrono::DateTime<chrono::Utc>>,
    /// What a video or sound holds, as probed.
    pub streams: Option<StreamsDto>,
}

/// A video's or sound's container and streams, as probed when it was stored (the engine's
/// record reads straight into it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StreamsDto {
    pub container: String,
    pub video: Option<VideoStreamDto>,
    pub audio: Option<AudioStreamDto>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VideoStreamDto {
    pub codec: String,
    pub width: u32,
    pub height: u32,
    pub frames_per_second: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AudioStreamDto {
    pub codec: String,
    pub sample_rate: u32,
    pub channels: u32,
}

/// Where the media route serves a product's files (content-hash URLs, cached forever).
pub fn media_urls(project_id: i64, hash: &str, ext: &str) -> (String, String, String) {
    (
        format!("/media/{project_id}/{hash}.{ext}"),
        format!("/media/{project_id}/{hash}-256.webp"),
        format!("/media/{project_id}/{hash}-768.webp"),
    )
}

#[cfg(feature = "ssr")]
impl From<factory::products::Product> for ProductDto {
    fn from(p: factory::products::Product) -> Self {
        let (url, thumb_url, preview_url) = media_urls(p.project_id, &p.content_hash, p.ext());
        let format = FileFormat::from_ext(p.ext());
        Self {
            id: p.id,
            project_id: p.project_id,
            job_id: p.job_id,
            batch_id: p.batch_id,
            url,
            thumb_url,
            preview_url,
            placeholder: p
                .thumbhash
                .as_deref()
                .and_then(factory::media::placeholder_color),
            width: p.width,
            height: p.height,
            prompt: p.prompt,
            seed: p.seed,
            kind: ProductKind::from_engine(&p.kind),
            format,
            duration_ms: p.duration_ms,
            parent_id: p.parent_id,
            provider: p.provider,
            model: p.model,
        }
    }
}
