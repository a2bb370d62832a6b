//! The Blender engine: Cycles on the CPU, headless. Each render writes the scene's merged GLB,
//! an order (camera, lights, environment, size, samples, format) and [the script] into a
//! private temporary folder, and runs `blender -b` on them in a process group of its own.
//!
//! - Progress comes from the lines Cycles prints (`Sample 12/32`, `Remaining:00:03.10`).
//! - Dropping the run (a cancel, a lost lease) kills the whole process group.
//! - A render past the time limit is killed and fails with what to change.
//! - On Linux the child is also told to die with the thread that started it
//!   (`PR_SET_PDEATHSIG`), so a `kill -9` of the server leaves no Blender behind; the job's
//!   lease runs out and a later claim renders it again.
//!
//! [the script]: ./blender_render.py

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use super::{params, Order, Renderer};
use crate::providers::{Capability, ErrorKind, ModelInfo, Progress, ProviderError, ProviderInfo};
use crate::render::jobs::OutputFormat;
use crate::scenes::LightType;

pub const ID: &str = "blender";
pub const NAME: &str = "Blender";
pub const FORMATS: &[OutputFormat] = &[OutputFormat::Png, OutputFormat::Jpeg, OutputFormat::Exr];
pub const DEFAULT_SAMPLES: u32 = 32;
pub const MAX_SAMPLES: u32 = 4096;
/// How long a render may take unless configured otherwise.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(30 * 60);

const SCRIPT: &str = include_str!("blender_render.py");

pub struct BlenderEngine {
    info: ProviderInfo,
    program: PathBuf,
    version: String,
    time_limit: Duration,
}

/// Blender's version line (`Blender 3.4.1`) from running `program --version`.
pub async fn version(program: &Path) -> Result<String, String> {
    let run = Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .map_err(|_| format!("{} --version did not answer in 30 s", program.display()))?
        .map_err(|e| format!("{} could not be run: {e}", program.display()))?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .find(|l| l.starts_with("Blender "))
        .map(|l| l.trim().to_string())
        .ok_or_else(|| format!("{} does not say it is Blender", program.display()))
}

impl BlenderEngine {
    /// The engine, when `program` (default: `blender` on the PATH) runs and is Blender.
    pub async fn detect(program: Option<PathBuf>, time_limit: Duration) -> Result<Self, String> {
        let program = program.unwrap_or_else(|| PathBuf::from("blender"));
        let version = version(&program).await?;
        Ok(BlenderEngine {
            info: ProviderInfo {
                id: ID.into(),
                name: NAME.into(),
                description: format!(
                    "{version} at {}, Cycles on the CPU (path tracing: shadows, soft light). \
                     Renders stop after {} minutes.",
                    program.display(),
                    time_limit.as_secs().div_ceil(60)
                ),
                remote_queue: false,
                any_model: false,
                models: vec![ModelInfo {
                    id: "cycles".into(),
                    name: "Cycles".into(),
                    description: "Blender's path tracer, on the CPU.".into(),
                    capability: Capability::Render,
                    negative_prompt: false,
                    image_input: None,
                    image_strength: None,
                    networks: false,
                    inputs: Default::default(),
                    params: params(
                        FORMATS,
                        DEFAULT_SAMPLES,
                        MAX_SAMPLES,
                        "Paths traced per pixel: more is less noisy and slower.",
                    ),
                }],
            },
            program,
            version,
            time_limit,
        })
    }

    /// Blender's version line (`Blender 3.4.1`).
    pub fn version(&self) -> &str {
        &self.version
    }

    fn error(&self, kind: ErrorKind, message: impl Into<String>) -> ProviderError {
        ProviderError::new(NAME, kind, message)
    }
}

/// The order file the script reads.
fn order_json(order: &Order<'_>, dir: &Path, ext: &str) -> serde_json::Value {
    let doc = &order.scene.doc;
    let (position, target, projection) = doc
        .camera(Some(&order.scene.camera))
        .expect("the camera was checked when the job was queued");
    let lights: Vec<serde_json::Value> = doc
        .world_lights()
        .into_iter()
        .map(|(l, position, target)| {
            // A point light points nowhere; any target away from it does.
            let target = if l.light == LightType::Point {
                [position[0], position[1] - 1.0, position[2]]
            } else {
                target
            };
            json!({"name": l.name, "light": l.light, "color": l.color, "strength": l.strength,
                   "position": position, "target": target,
                   "inner_cone": l.inner_cone, "outer_cone": l.outer_cone})
        })
        .collect();
    json!({
        "glb": dir.join("scene.glb"),
        "output": dir.join(format!("render.{ext}")),
        "camera": {"projection": projection, "position": position, "target": target,
                   "near": 0.01, "far": 100000.0},
        "lights": lights,
        "environment": doc.environment,
        "width": order.width,
        "height": order.height,
        "samples": order.samples,
        "format": order.format,
    })
}

/// How far a Cycles line says the render is, and a line for people.
pub fn parse_progress(line: &str) -> Option<(Option<f32>, String)> {
    let sample = line.split('|').find_map(|part| {
        let part = part.trim();
        let rest = part.strip_prefix("Sample ")?;
        let (done, total) = rest.split_once('/')?;
        let done: u32 = done.trim().parse().ok()?;
        let total: u32 = total.trim().parse().ok()?;
        (total > 0).then_some((done, total))
    });
    let remaining = line
        .split('|')
        .find_map(|part| part.trim().strip_prefix("Remaining:").map(str::trim));
    match sample {
        Some((done, total)) => {
            let mut status = format!("Cycles: sample {done} of {total}");
            if let Some(left) = remaining {
                status.push_str(&format!(", {left} left"));
            }
            Some((Some(done as f32 / total as f32), status))
        }
        None if line.starts_with("Fra:") => {
            let stage = line.rsplit('|').next()?.trim();
            (!stage.is_empty()).then(|| (None, format!("Cycles: {stage}")))
        }
        None => None,
    }
}

/// Kills the render's process group when dropped (a cancel, a lost lease, a time limit).
struct Group(Option<u32>);

impl Drop for Group {
    fn drop(&mut self) {
        if let Some(pid) = self.0.take() {
            use nix::sys::signal::{killpg, Signal};
            use nix::unistd::Pid;
            // The group may be gone already: nothing to do then.
            let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
        }
    }
}

impl BlenderEngine {
    async fn run_blender(
        &self,
        order: &Order<'_>,
        progress: &Progress,
    ) -> Result<Vec<u8>, ProviderError> {
        let local = |e: std::io::Error| {
            self.error(
                ErrorKind::Unavailable,
                format!("could not prepare the render: {e}"),
            )
        };
        let dir = tempfile::Builder::new()
            .prefix("art-factory-blender-")
            .tempdir()
            .map_err(local)?;
        let ext = order.format.ext();
        tokio::fs::write(dir.path().join("scene.glb"), order.glb)
            .await
            .map_err(local)?;
        tokio::fs::write(dir.path().join("render.py"), SCRIPT)
            .await
            .map_err(local)?;
        let order_file = dir.path().join("order.json");
        tokio::fs::write(&order_file, order_json(order, dir.path(), ext).to_string())
            .await
            .map_err(local)?;
        let mut command = Command::new(&self.program);
        command
            .args([
                "-b",
                "--factory-startup",
                "-noaudio",
                "--python-exit-code",
                "1",
                "-P",
            ])
            .arg(dir.path().join("render.py"))
            .arg("--")
            .arg(&order_file)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        #[cfg(target_os = "linux")]
        unsafe {
            // Runs in the child between fork and exec: only the async-signal-safe prctl.
            command.pre_exec(|| {
                nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                    .map_err(std::io::Error::from)
            });
        }
        let _ = progress.send(Some((Some(0.0), "Blender: starting".into())));
        let mut child = command.spawn().map_err(|e| {
            self.error(
                ErrorKind::Unavailable,
                format!("Blender could not be started: {e}"),
            )
        })?;
        let _group = Group(child.id());
        let mut out = BufReader::new(child.stdout.take().expect("piped")).lines();
        let mut err = BufReader::new(child.stderr.take().expect("piped")).lines();
        let mut tail: VecDeque<String> = VecDeque::new();
        let run = async {
            let (mut out_open, mut err_open) = (true, true);
            while out_open || err_open {
                let line = tokio::select! {
                    line = out.next_line(), if out_open => match line {
                        Ok(Some(l)) => l,
                        _ => { out_open = false; continue; }
                    },
                    line = err.next_line(), if err_open => match line {
                        Ok(Some(l)) => l,
                        _ => { err_open = false; continue; }
                    },
                };
                if let Some(report) = parse_progress(&line) {
                    let _ = progress.send(Some(report));
                }
                if tail.len() == 40 {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
            child.wait().await
        };
        let status = match tokio::time::timeout(self.time_limit, run).await {
            Ok(status) => status.map_err(|e| {
                self.error(
                    ErrorKind::Unavailable,
                    format!("Blender could not be waited for: {e}"),
                )
            })?,
            Err(_) => {
                return Err(self.error(
                    ErrorKind::InvalidInput,
                    format!(
                        "the render took longer than the limit of {} s and was stopped; lower the \
                         samples or the size, or raise ART_FACTORY_RENDER_TIME_LIMIT",
                        self.time_limit.as_secs()
                    ),
                ))
            }
        };
        if !status.success() {
            let lines: Vec<&String> = tail
                .iter()
                .filter(|l| l.contains("Error") || l.contains("error") || l.contains("Traceback"))
                .collect();
            let shown: Vec<&str> = if lines.is_empty() {
                tail.iter()
                    .rev()
                    .take(5)
                    .rev()
                    .map(String::as_str)
                    .collect()
            } else {
                lines
                    .iter()
                    .rev()
                    .take(5)
                    .rev()
                    .map(|s| s.as_str())
                    .collect()
            };
            return Err(self.error(
                ErrorKind::InvalidInput,
                format!("Blender failed ({status}): {}", shown.join(" / ")),
            ));
        }
        tokio::fs::read(dir.path().join(format!("render.{ext}")))
            .await
            .map_err(|e| {
                self.error(
                    ErrorKind::BadOutput,
                    format!("Blender finished but wrote no picture: {e}"),
                )
            })
    }
}

#[async_trait::async_trait]
impl Renderer for BlenderEngine {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    async fn render(
        &self,
        order: &Order<'_>,
        progress: &Progress,
    ) -> Result<Vec<u8>, ProviderError> {
        self.run_blender(order, progress).await
    }
}

#[cfg(test)]
mod tests {
    use super::parse_progress;

    #[test]
    fn cycles_lines_give_progress() {
        let line = "Fra:1 Mem:23.51M (Peak 24.01M) | Time:00:00.52 | Remaining:00:01.23 | \
                    Mem:3.19M, Peak:3.19M | Scene, ViewLayer | Sample 8/32";
        let (fraction, status) = parse_progress(line).unwrap();
        assert_eq!(fraction, Some(0.25));
        assert_eq!(status, "Cycles: sample 8 of 32, 00:01.23 left");
        let (fraction, status) = parse_progress(
            "Fra:1 Mem:12.00M (Peak 12.00M) | Time:00:00.10 | Mem:0.00M, Peak:0.00M | Scene, ViewLayer | Loading render kernels (may take a few minutes the first time)",
        )
        .unwrap();
        assert_eq!(fraction, None);
        assert!(status.starts_with("Cycles: Loading render kernels"));
        assert_eq!(parse_progress("Blender quit"), None);
    }
}
