//! Running `ffprobe` and `ffmpeg` on a file: bounded in time, their output read while they run,
//! killed when over the limit. Blocking: call from a blocking thread.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::waveform::RATE;
use super::{AudioStream, AvError, Container, Probe, VideoStream, MAX_DURATION_SECS};

/// The preview clip: this many seconds from the start, at this rate and size.
const PREVIEW_SECS: &str = "3";
const PREVIEW_FPS: u32 = 10;
const PREVIEW_SIDE: u32 = 256;

/// The two programs, found.
#[derive(Debug, Clone)]
pub struct Tools {
    ffmpeg: PathBuf,
    ffprobe: PathBuf,
    /// `ffmpeg version 5.1.9-0+deb12u1`, say.
    pub version: String,
    limit: Duration,
}

impl Tools {
    /// `ffmpeg` and `ffprobe` from `dir`, or from the PATH; `Err` says what was tried.
    pub fn detect(dir: Option<&Path>) -> Result<Tools, AvError> {
        let program = |name: &str| dir.map_or_else(|| PathBuf::from(name), |d| d.join(name));
        let (ffmpeg, ffprobe) = (program("ffmpeg"), program("ffprobe"));
        let version = |p: &Path| -> Result<String, AvError> {
            let out = Command::new(p)
                .arg("-version")
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output()
                .map_err(|e| AvError::Missing(format!("{}: {e}", p.display())))?;
            let text = String::from_utf8_lossy(&out.stdout);
            let first = text.lines().next().unwrap_or_default().trim().to_string();
            if out.status.success() && first.contains("version") {
                Ok(first)
            } else {
                Err(AvError::Missing(format!(
                    "{} does not answer -version",
                    p.display()
                )))
            }
        };
        version(&ffprobe)?;
        let version = version(&ffmpeg)?;
        Ok(Tools {
            ffmpeg,
            ffprobe,
            version: version
                .split(" Copyright")
                .next()
                .unwrap_or(&version)
                .to_string(),
            limit: super::TOOL_TIME_LIMIT,
        })
    }

    /// What the file at `path` (`container` by its magic) holds. Refuses a file the demuxer
    /// does not take as that container, one with neither pictures nor sound, one whose packets
    /// do not cover the duration its index promises (a download cut short), and one too long.
    pub fn probe(&self, path: &Path, container: Container) -> Result<Probe, AvError> {
        let damaged = |reason: String| AvError::Damaged {
            container: container.ext(),
            reason,
        };
        let out = self
            .ffprobe(
                path,
                &[
                    "-print_format",
                    "json",
                    "-show_format",
                    "-show_streams",
                    // Reading the packets reads the whole file, once.
                    "-show_entries",
                    "packet=pts_time,duration_time",
                ],
            )
            // What the demuxer could not read is what is wrong with the file.
            .map_err(|e| match e {
                AvError::Tool { reason, .. } => damaged(reason),
                other => other,
            })?;
        let found: Found = serde_json::from_slice(&out)
            .map_err(|e| damaged(format!("ffprobe's answer did not parse: {e}")))?;
        let format = found
            .format
            .ok_or_else(|| damaged("no container was found".into()))?;
        if !container.agrees_with(&format.format_name) {
            return Err(damaged(format!("it reads as {}", format.format_name)));
        }
        let video = found
            .streams
            .iter()
            // A cover picture in an MP3 or M4A is not a video.
            .filter(|s| s.codec_type == "video" && s.disposition.attached_pic == 0)
            .find_map(|s| {
                Some(VideoStream {
                    codec: s.codec_name.clone()?,
                    width: s.width?,
                    height: s.height?,
                    frames_per_second: ratio(s.avg_frame_rate.as_deref())
                        .or_else(|| ratio(s.r_frame_rate.as_deref()))
                        .unwrap_or(0.0),
                })
            });
        let audio = found
            .streams
            .iter()
            .filter(|s| s.codec_type == "audio")
            .find_map(|s| {
                Some(AudioStream {
                    codec: s.codec_name.clone()?,
                    sample_rate: s.sample_rate.as_deref()?.parse().ok()?,
                    channels: s.channels?,
                })
            });
        if video.is_none() && audio.is_none() {
            return Err(damaged("it holds neither pictures nor sound".into()));
        }
        if let Some(v) = &video {
            let max = crate::media::MAX_SIDE;
            if v.width == 0 || v.height == 0 || v.width > max || v.height > max {
                return Err(damaged(format!(
                    "it declares {}×{} pixels",
                    v.width, v.height
                )));
            }
        }
        let duration_secs = format
            .duration
            .as_deref()
            .and_then(|d| d.parse::<f64>().ok())
            .filter(|d| d.is_finite() && *d > 0.0)
            .ok_or_else(|| damaged("it has no duration".into()))?;
        if duration_secs > MAX_DURATION_SECS {
            return Err(AvError::TooLong(duration_secs));
        }
        // The index may promise more than the file holds (a download cut short with its index
        // first): the packets that can be read must cover the duration.
        let covered = found
            .packets
            .iter()
            .filter_map(|p| {
                let pts = p.pts_time.as_deref()?.parse::<f64>().ok()?;
                let duration = p
                    .duration_time
                    .as_deref()
                    .and_then(|d| d.parse::<f64>().ok());
                Some(pts + duration.unwrap_or(0.0))
            })
            .fold(None, |most: Option<f64>, end| {
                Some(most.map_or(end, |m| m.max(end)))
            })
            .ok_or_else(|| damaged("it holds no packets".into()))?;
        if covered < duration_secs * 0.9 - 0.1 {
            return Err(damaged(format!(
                "it is cut short: it promises {duration_secs:.1} s and holds {covered:.1} s"
            )));
        }
        Ok(Probe {
            container,
            duration_secs,
            video,
            audio,
        })
    }

    pub(super) fn ffmpeg_path(&self) -> &Path {
        &self.ffmpeg
    }

    pub(super) fn limit(&self) -> Duration {
        self.limit
    }

    /// A frame a second in (or at the middle of a shorter clip), as RGBA.
    pub fn poster(&self, path: &Path, duration_secs: f64) -> Result<image::RgbaImage, AvError> {
        let at = format!("{:.3}", (duration_secs / 2.0).min(1.0));
        let png = self.ffmpeg(
            path,
            &["-ss", &at],
            &["-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-"],
        )?;
        image::load_from_memory_with_format(&png, image::ImageFormat::Png)
            .map(|i| i.to_rgba8())
            .map_err(|e| AvError::Tool {
                tool: "ffmpeg",
                reason: format!("the poster frame did not decode: {e}"),
            })
    }

    /// The first seconds, small and looping, as an animated WebP (an `<img>` plays it).
    pub fn preview(&self, path: &Path) -> Result<Vec<u8>, AvError> {
        let filter = format!(
            "fps={PREVIEW_FPS},scale=w={PREVIEW_SIDE}:h={PREVIEW_SIDE}:force_original_aspect_ratio=decrease"
        );
        self.ffmpeg(
            path,
            &["-t", PREVIEW_SECS],
            &[
                "-an",
                "-vf",
                &filter,
                "-loop",
                "0",
                "-c:v",
                "libwebp_anim",
                "-quality",
                "50",
                "-f",
                "webp",
                "-",
            ],
        )
    }

    /// The sound mixed to one channel at [`RATE`], as samples.
    pub fn samples(&self, path: &Path) -> Result<Vec<i16>, AvError> {
        let rate = RATE.to_string();
        let raw = self.ffmpeg(
            path,
            &[],
            &["-vn", "-ac", "1", "-ar", &rate, "-f", "s16le", "-"],
        )?;
        Ok(raw
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect())
    }

    /// `ffprobe -v error <args> <path>`.
    fn ffprobe(&self, path: &Path, args: &[&str]) -> Result<Vec<u8>, AvError> {
        let mut command = Command::new(&self.ffprobe);
        command.args(["-v", "error"]).args(args).arg(path);
        self.run("ffprobe", path, &mut command)
    }

    /// `ffmpeg -v error <input options> -i <path> <output options>`.
    fn ffmpeg(&self, path: &Path, input: &[&str], output: &[&str]) -> Result<Vec<u8>, AvError> {
        let mut command = Command::new(&self.ffmpeg);
        command
            .args(["-v", "error"])
            .args(input)
            .arg("-i")
            .arg(path)
            .args(output);
        self.run("ffmpeg", path, &mut command)
    }

    /// Runs `command` to its end within the time limit: its standard output, or its last
    /// words on failure.
    fn run(
        &self,
        tool: &'static str,
        path: &Path,
        command: &mut Command,
    ) -> Result<Vec<u8>, AvError> {
        let failed = |reason: String| AvError::Tool { tool, reason };
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| failed(format!("could not be started: {e}")))?;
        let mut stdout = child.stdout.take().expect("piped");
        let mut stderr = child.stderr.take().expect("piped");
        let out = std::thread::spawn(move || {
            let mut buf = Vec::new();
            stdout.read_to_end(&mut buf).map(|_| buf)
        });
        let err = std::thread::spawn(move || {
            let mut buf = Vec::new();
            // Only the end is kept: that is where the reason is.
            let _ = stderr.read_to_end(&mut buf);
            buf
        });
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if started.elapsed() > self.limit {
                let _ = child.kill();
                let _ = child.wait();
                return Err(failed(format!(
                    "it took over {} s and was stopped",
                    self.limit.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let out = out.join().expect("reader").map_err(AvError::Io)?;
        let err = err.join().expect("reader");
        if !status.success() {
            return Err(failed(said(&String::from_utf8_lossy(&err), path)));
        }
        Ok(out)
    }
}

/// What a tool said before it failed: its last two distinct lines, without the demuxer's
/// `[name @ 0x...]` prefix, the temporary file called "the file".
fn said(stderr: &str, path: &Path) -> String {
    let path = path.display().to_string();
    let mut lines: Vec<String> = Vec::new();
    for line in stderr.lines() {
        let line = match line.trim().split_once("] ") {
            Some((prefix, rest)) if prefix.starts_with('[') => rest,
            _ => line.trim(),
        };
        let line = line.replace(&path, "the file");
        if !line.is_empty() && !lines.contains(&line) {
            lines.push(line);
        }
    }
    let start = lines.len().saturating_sub(2);
    match lines[start..].join("; ") {
        words if words.is_empty() => "it failed without saying why".into(),
        words => words,
    }
}

/// `30000/1001` as a number.
fn ratio(text: Option<&str>) -> Option<f64> {
    let (n, d) = text?.split_once('/')?;
    let (n, d) = (n.parse::<f64>().ok()?, d.parse::<f64>().ok()?);
    (d > 0.0 && n > 0.0).then(|| n / d)
}

#[derive(Deserialize)]
struct Found {
    #[serde(default)]
    streams: Vec<Stream>,
    #[serde(default)]
    packets: Vec<Packet>,
    format: Option<Format>,
}

#[derive(Deserialize)]
struct Packet {
    pts_time: Option<String>,
    duration_time: Option<String>,
}

#[derive(Deserialize)]
struct Format {
    format_name: String,
    duration: Option<String>,
}

#[derive(Deserialize)]
struct Stream {
    codec_type: String,
    codec_name: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    avg_frame_rate: Option<String>,
    r_frame_rate: Option<String>,
    sample_rate: Option<String>,
    channels: Option<u32>,
    #[serde(default)]
    disposition: Disposition,
}

#[derive(Deserialize, Default)]
struct Disposition {
    #[serde(default)]
    attached_pic: u8,
}
