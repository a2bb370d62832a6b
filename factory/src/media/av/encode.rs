//! Making video and sound files: a WAV written here, an H.264 MP4 encoded by `ffmpeg` from
//! frames drawn in memory (the offline generator's clips, and the stand-ins' outputs).
//! Blocking: call from a blocking thread.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{AvError, Tools};

/// A mono 16-bit PCM WAV file of `samples` at `rate`.
pub fn wav(samples: &[i16], rate: u32) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + samples.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // one channel
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes()); // bytes per second
    out.extend_from_slice(&2u16.to_le_bytes()); // bytes per frame
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// A clip to encode: its size, rate and length, and what draws each frame.
pub struct Clip<'a> {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub frames: u32,
    /// Fills frame `n` (RGB, `width`×`height`×3 bytes).
    pub draw: &'a (dyn Fn(u32, &mut [u8]) + Sync),
}

impl Tools {
    /// `clip` as an H.264 MP4 (yuv420p, its index first so a browser starts playing at once).
    /// Sides must be even.
    pub fn encode_mp4(&self, clip: &Clip<'_>) -> Result<Vec<u8>, AvError> {
        if clip.width % 2 == 1 || clip.height % 2 == 1 || clip.frames == 0 || clip.fps == 0 {
            return Err(AvError::Tool {
                tool: "ffmpeg",
                reason: format!(
                    "a {}×{} clip of {} frames at {} fps cannot be encoded (sides must be even)",
                    clip.width, clip.height, clip.frames, clip.fps
                ),
            });
        }
        let out = tempfile::Builder::new()
            .prefix(".tmp-encode-")
            .suffix(".mp4")
            .tempfile()?;
        let size = format!("{}x{}", clip.width, clip.height);
        let rate = clip.fps.to_string();
        let mut child = Command::new(self.ffmpeg_path())
            .args(["-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24"])
            .args(["-s", &size, "-r", &rate, "-i", "-"])
            .args(["-c:v", "libx264", "-preset", "veryfast", "-crf", "26"])
            .args([
                "-pix_fmt",
                "yuv420p",
                "-movflags",
                "+faststart",
                "-f",
                "mp4",
            ])
            .arg(out.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| AvError::Tool {
                tool: "ffmpeg",
                reason: format!("could not be started: {e}"),
            })?;
        let mut stdin = child.stdin.take().expect("piped");
        let mut stderr = child.stderr.take().expect("piped");
        let limit = self.limit();
        let status = std::thread::scope(|scope| {
            scope.spawn(move || {
                let mut frame = vec![0u8; (clip.width * clip.height * 3) as usize];
                for n in 0..clip.frames {
                    (clip.draw)(n, &mut frame);
                    // ffmpeg gone (killed, or failed): its status says why.
                    if stdin.write_all(&frame).is_err() {
                        break;
                    }
                }
            });
            let said = scope.spawn(move || {
                let mut buf = String::new();
                let _ = stderr.read_to_string(&mut buf);
                buf
            });
            let started = Instant::now();
            let status = loop {
                match child.try_wait() {
                    Ok(Some(status)) => break Ok(status),
                    Ok(None) if started.elapsed() > limit => {
                        let _ = child.kill();
                        let _ = child.wait();
                        break Err(AvError::Tool {
                            tool: "ffmpeg",
                            reason: format!(
                                "encoding took over {} s and was stopped",
                                limit.as_secs()
                            ),
                        });
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                    Err(e) => break Err(AvError::Io(e)),
                }
            };
            let said = said.join().unwrap_or_default();
            status.and_then(|s| match s.success() {
                true => Ok(()),
                false => Err(AvError::Tool {
                    tool: "ffmpeg",
                    reason: said
                        .lines()
                        .rfind(|l| !l.trim().is_empty())
                        .unwrap_or("encoding failed without saying why")
                        .to_string(),
                }),
            })
        });
        status?;
        Ok(std::fs::read(out.path())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wav_header_says_what_follows() {
        let bytes = wav(&[0, 1000, -1000], 44_100);
        assert_eq!(&bytes[..4], b"RIFF");
        assert_eq!(&bytes[8..16], b"WAVEfmt ");
        assert_eq!(
            u32::from_le_bytes(bytes[24..28].try_into().unwrap()),
            44_100
        );
        assert_eq!(u32::from_le_bytes(bytes[40..44].try_into().unwrap()), 6);
        assert_eq!(bytes.len(), 44 + 6);
        assert_eq!(
            super::super::Container::sniff(&bytes),
            Some(super::super::Container::Wav)
        );
    }
}
