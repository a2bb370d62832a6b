//! Video and audio: what a file is (sniffed by its magic bytes, then probed by `ffprobe`, never
//! taken from a declared type), and what a page shows of it (a poster frame and a short looping
//! animated WebP for a video, a waveform for a sound), made with the system's `ffmpeg`.
//!
//! `ffmpeg` is optional: without it the app works and video and audio are refused with how to
//! install it ([`Tools::detect`]).

pub mod encode;
mod store;
mod tools;
pub mod waveform;

use serde::{Deserialize, Serialize};

pub use store::StoredAv;
pub use tools::Tools;

/// Larger video or audio files are refused.
pub const MAX_AV_BYTES: usize = 512 * 1024 * 1024;
/// Longer clips are refused (a header can claim anything: the packets are counted too).
pub const MAX_DURATION_SECS: f64 = 30.0 * 60.0;
/// How long one run of `ffmpeg` or `ffprobe` may take on one file.
pub const TOOL_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// The containers stored, by their magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Container {
    /// ISO base media (MP4, M4A, MOV): `ftyp` at byte 4.
    Mp4,
    /// Matroska or WebM: EBML.
    Webm,
    /// RIFF WAVE.
    Wav,
    /// MPEG audio layer 3 (with or without an ID3 tag).
    Mp3,
    /// Ogg (Vorbis, Opus).
    Ogg,
    Flac,
}

impl Container {
    pub const ALL: [Container; 6] = [
        Container::Mp4,
        Container::Webm,
        Container::Wav,
        Container::Mp3,
        Container::Ogg,
        Container::Flac,
    ];

    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        let at =
            |offset: usize, magic: &[u8]| bytes.get(offset..offset + magic.len()) == Some(magic);
        if at(4, b"ftyp") {
            Some(Container::Mp4)
        } else if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
            Some(Container::Webm)
        } else if at(0, b"RIFF") && at(8, b"WAVE") {
            Some(Container::Wav)
        } else if at(0, b"ID3") || (bytes.len() > 1 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0)
        {
            Some(Container::Mp3)
        } else if at(0, b"OggS") {
            Some(Container::Ogg)
        } else if at(0, b"fLaC") {
            Some(Container::Flac)
        } else {
            None
        }
    }

    pub fn ext(self) -> &'static str {
        match self {
            Container::Mp4 => "mp4",
            Container::Webm => "webm",
            Container::Wav => "wav",
            Container::Mp3 => "mp3",
            Container::Ogg => "ogg",
            Container::Flac => "flac",
        }
    }

    pub fn from_ext(ext: &str) -> Option<Self> {
        Container::ALL.into_iter().find(|c| c.ext() == ext)
    }

    /// The type it is served as; `video` says whether it holds pictures.
    pub fn mime(self, video: bool) -> &'static str {
        match (self, video) {
            (Container::Mp4, true) => "video/mp4",
            (Container::Mp4, false) => "audio/mp4",
            (Container::Webm, true) => "video/webm",
            (Container::Webm, false) => "audio/webm",
            (Container::Wav, _) => "audio/wav",
            (Container::Mp3, _) => "audio/mpeg",
            (Container::Ogg, _) => "audio/ogg",
            (Container::Flac, _) => "audio/flac",
        }
    }

    /// Whether `ffprobe`'s demuxer name (`mov,mp4,m4a,3gp,3g2,mj2`, `matroska,webm`, ...) is this
    /// container: the bytes past the magic number must agree with it.
    fn agrees_with(self, format_name: &str) -> bool {
        let names: Vec<&str> = format_name.split(',').collect();
        let want: &[&str] = match self {
            Container::Mp4 => &["mp4", "mov"],
            Container::Webm => &["webm", "matroska"],
            Container::Wav => &["wav"],
            Container::Mp3 => &["mp3"],
            Container::Ogg => &["ogg"],
            Container::Flac => &["flac"],
        };
        names.iter().any(|n| want.contains(n))
    }
}

/// What a video or audio file holds, as probed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    pub container: Container,
    pub duration_secs: f64,
    pub video: Option<VideoStream>,
    pub audio: Option<AudioStream>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoStream {
    pub codec: String,
    pub width: u32,
    pub height: u32,
    pub frames_per_second: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioStream {
    pub codec: String,
    pub sample_rate: u32,
    pub channels: u32,
}

impl Probe {
    pub fn is_video(&self) -> bool {
        self.video.is_some()
    }

    pub fn mime(&self) -> &'static str {
        self.container.mime(self.is_video())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AvError {
    #[error(
        "video and audio need ffmpeg, which was not found ({0}). Install it with `apt install \
         ffmpeg` (Debian, Ubuntu), `brew install ffmpeg` (macOS) or `scripts/setup`, so that \
         ffmpeg and ffprobe are on the PATH, then restart Art Factory."
    )]
    Missing(String),
    #[error("the file is not an MP4, WebM, WAV, MP3, Ogg or FLAC file")]
    UnknownFormat,
    #[error(
        "the file is {bytes} bytes; video and audio files over {MAX_AV_BYTES} bytes are refused"
    )]
    TooLarge { bytes: usize },
    #[error("the file starts like {container} but is not one: {reason}")]
    Damaged {
        container: &'static str,
        reason: String,
    },
    #[error("the file lasts {0:.0} s; clips over {MAX_DURATION_SECS:.0} s are refused")]
    TooLong(f64),
    #[error("{tool} failed on the file: {reason}")]
    Tool { tool: &'static str, reason: String },
    #[error("could not work on the file: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] crate::media::MediaError),
}

/// The container of `bytes`, within the size limit.
pub fn checked_container(bytes: &[u8]) -> Result<Container, AvError> {
    let container = Container::sniff(bytes).ok_or(AvError::UnknownFormat)?;
    if bytes.len() > MAX_AV_BYTES {
        return Err(AvError::TooLarge { bytes: bytes.len() });
    }
    Ok(container)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_are_told_by_their_magic_bytes() {
        let mut mp4 = vec![0, 0, 0, 0x20];
        mp4.extend_from_slice(b"ftypisom");
        assert_eq!(Container::sniff(&mp4), Some(Container::Mp4));
        assert_eq!(
            Container::sniff(&[0x1A, 0x45, 0xDF, 0xA3, 1]),
            Some(Container::Webm)
        );
        assert_eq!(
            Container::sniff(b"RIFF\0\0\0\0WAVEfmt "),
            Some(Container::Wav)
        );
        assert_eq!(Container::sniff(b"RIFF\0\0\0\0WEBPVP8 "), None);
        assert_eq!(Container::sniff(b"ID3\x04"), Some(Container::Mp3));
        assert_eq!(Container::sniff(&[0xFF, 0xFB, 0x90]), Some(Container::Mp3));
        assert_eq!(Container::sniff(b"OggS\0"), Some(Container::Ogg));
        assert_eq!(Container::sniff(b"fLaC\0"), Some(Container::Flac));
        assert_eq!(Container::sniff(b"\x89PNG\r\n\x1a\n"), None);
        assert!(Container::Mp4.agrees_with("mov,mp4,m4a,3gp,3g2,mj2"));
        assert!(!Container::Mp4.agrees_with("png_pipe"));
        assert!(Container::Webm.agrees_with("matroska,webm"));
        for c in Container::ALL {
            assert_eq!(Container::from_ext(c.ext()), Some(c));
        }
    }
}
