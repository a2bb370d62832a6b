//! Video and sound in the media store: [`MediaStore::put_av`] and the files it writes.

use sha2::{Digest, Sha256};

use super::{waveform, AvError, Probe, Tools};
use crate::media::{hex, valid_hash, Key, MediaStore};

/// A stored video or sound and what was learnt about it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAv {
    pub hash: String,
    pub rel_path: String,
    pub probe: Probe,
    pub bytes: u64,
    /// Of the poster frame or the waveform.
    pub thumbhash: String,
}

impl MediaStore {
    /// Verifies `bytes` are a video or a sound (sniffed, then probed), stores them once per
    /// project, and makes what pages show: a poster frame's thumbnails and a looping preview
    /// for a video, a waveform's thumbnails for a sound. From a blocking thread.
    pub fn put_av(&self, project_id: i64, bytes: &[u8]) -> Result<StoredAv, AvError> {
        let container = super::checked_container(bytes)?;
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
            probe.duration_secs = samples.len() as f64 / waveform::RATE as f64;
            if samples.is_empty() {
                return Err(AvError::Damaged {
                    container: container.ext(),
                    reason: "it holds no sound".into(),
                });
            }
            let picture = waveform::draw(&samples, waveform::WIDTH, waveform::HEIGHT);
            (picture, None)
        };
        let hash = hex(&Sha256::digest(bytes));
        let key = self
            .original_key(project_id, &hash, container.ext())
            .expect("a fresh hash is valid");
        self.write_once(&key, bytes)?;
        if let Some(preview) = &preview {
            let key = self.preview_key(project_id, &hash).expect("valid hash");
            self.write_once(&key, preview)?;
        }
        let thumbhash = self.write_thumbs(project_id, &hash, &picture)?;
        Ok(StoredAv {
            rel_path: key.as_str().to_string(),
            hash,
            probe,
            bytes: bytes.len() as u64,
            thumbhash,
        })
    }

    /// ffmpeg and ffprobe from the PATH, looked for once; the error says how to install them.
    pub fn av_tools(&self) -> Result<&Tools, AvError> {
        self.av
            .get_or_init(|| {
                Tools::detect(None).map_err(|e| match e {
                    AvError::Missing(what) => what,
                    other => other.to_string(),
                })
            })
            .as_ref()
            .map_err(|e| AvError::Missing(e.clone()))
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
}
