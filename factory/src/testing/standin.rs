//! What every stand-in provider shares (binding a port, the result picture) and records for the
//! crash tests: each submission, by seed (tests give each job its own seed), and whether an
//! earlier request for that seed had already been polled when it arrived — which would mean a
//! committed request id was submitted again, the one thing the engine must never do.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;

use crate::providers::local::{render, Scene, Style};

#[derive(Debug, Default)]
pub struct Submissions {
    /// (seed, whether an earlier request for that seed had been polled) per submission.
    log: Vec<(i64, bool)>,
    polled: HashSet<i64>,
}

impl Submissions {
    pub fn submitted(&mut self, seed: i64) {
        let earlier_polled = self.polled.contains(&seed);
        self.log.push((seed, earlier_polled));
    }

    pub fn polled(&mut self, seed: i64) {
        self.polled.insert(seed);
    }

    pub fn per_seed(&self) -> HashMap<i64, usize> {
        let mut counts = HashMap::new();
        for (seed, _) in &self.log {
            *counts.entry(*seed).or_default() += 1;
        }
        counts
    }

    pub fn resubmitted_after_poll(&self) -> Vec<i64> {
        self.log
            .iter()
            .filter(|(_, earlier_polled)| *earlier_polled)
            .map(|(seed, _)| *seed)
            .collect()
    }
}

/// Input images a stand-in accepted: sent inline (`data:`), or uploaded to it first.
#[derive(Debug, Default)]
pub struct Inputs {
    uploads: Vec<Vec<u8>>,
    /// (`"inline"` or `"uploaded"`, the image's size in bytes), one per generation.
    pub seen: Vec<(&'static str, usize)>,
}

impl Inputs {
    pub fn uploads_len(&self) -> usize {
        self.uploads.len()
    }

    /// Sets the bytes of an upload announced before (fal: initiate, then PUT).
    pub fn fill(&mut self, n: usize, bytes: Vec<u8>) {
        self.uploads[n] = bytes;
    }

    /// Keeps uploaded bytes; returns their number (for their URL).
    pub fn upload(&mut self, bytes: Vec<u8>) -> usize {
        self.uploads.push(bytes);
        self.uploads.len() - 1
    }

    /// Checks an input image reference (a `data:` URI, or `uploaded_prefix` + an upload's
    /// number) and records it; `None` when it is not an image the stand-in can load.
    pub fn accept(&mut self, value: &str, uploaded_prefix: &str) -> Option<()> {
        let (how, bytes) = if value.starts_with("data:") {
            ("inline", crate::providers::http::decode_data_uri(value)?)
        } else {
            let n: usize = value.strip_prefix(uploaded_prefix)?.parse().ok()?;
            ("uploaded", self.uploads.get(n)?.clone())
        };
        crate::media::ImageFormat::sniff(&bytes)?;
        self.seen.push((how, bytes.len()));
        Some(())
    }
}

/// A stand-in provider as the crash tests see it.
pub trait StandIn: Send + Sync {
    /// The provider's id in the app (`fal`, `replicate`).
    fn provider(&self) -> &'static str;
    fn base_url(&self) -> String;
    /// How many times each seed was submitted.
    fn submissions_per_seed(&self) -> HashMap<i64, usize>;
    /// Seeds submitted again after an earlier request for them had been polled (so its id had
    /// been committed): each is a double charge the engine should never cause.
    fn resubmitted_after_poll(&self) -> Vec<i64>;
}

/// What a stand-in's request log (`(when, "METHOD path status")`, in order) says about its
/// first 429: the requests that arrived after it and before the reset it announced (`reset`
/// later), except those already on their way when it was answered (within `in_flight`); and
/// whether any request came after the reset (work resumed).
pub fn sent_before_reset(
    log: &[(std::time::Instant, String)],
    reset: std::time::Duration,
    in_flight: std::time::Duration,
) -> (Vec<String>, bool) {
    let first_429 = log
        .iter()
        .find(|(_, r)| r.ends_with(" 429"))
        .map(|(at, _)| *at)
        .expect("a request was throttled");
    let early = log
        .iter()
        .filter(|(at, _)| *at > first_429 + in_flight && *at < first_429 + reset)
        .map(|(_, r)| r.clone())
        .collect();
    let resumed = log.iter().any(|(at, _)| *at >= first_429 + reset);
    (early, resumed)
}

/// The picture a stand-in returns for a prompt and seed: the offline generator's, so every
/// result is a real, distinct PNG.
pub fn result_png(prompt: &str, seed: i64, side: u32) -> Vec<u8> {
    let scene = Scene {
        width: side,
        height: side,
        style: Style::Aurora,
        detail: 2,
    };
    let pixels = render(&scene, prompt, "", seed);
    crate::media::png::encode_rgb(side, side, &pixels).expect("encode the stand-in image")
}

/// What a stand-in's video or sound model returns: a real one-second 640×360 H.264 MP4 (made by
/// the offline generator, so ffmpeg must be installed) or a two-second WAV of tones, from the
/// prompt and seed. With the file's extension and type.
pub fn result_clip(
    makes: crate::providers::Makes,
    prompt: &str,
    seed: i64,
) -> (Vec<u8>, &'static str, &'static str) {
    use crate::providers::local::clips;
    let params = |p: serde_json::Value| p.as_object().cloned().unwrap_or_default();
    let mut request = crate::providers::GenerationRequest::simple(
        clips::TONES,
        prompt,
        seed,
        params(serde_json::json!({"duration": 2})),
    );
    if makes != crate::providers::Makes::Video {
        return (clips::tones(&request), "wav", "audio/wav");
    }
    request.model = clips::MOTION.into();
    request.params = params(serde_json::json!({"duration": 1, "fps": 8, "resolution": "360p"}));
    let tools = crate::media::av::Tools::detect(None).expect("the stand-in's videos need ffmpeg");
    let mp4 = clips::video(&tools, &request).expect("encode the stand-in's video");
    (mp4, "mp4", "video/mp4")
}

/// A model's log while it runs, as `tqdm` prints it: `label` and a progress bar `done` of the way.
pub fn progress_log(label: &str, done: f64) -> String {
    let done = done.clamp(0.0, 1.0);
    let steps = (done * 30.0).round() as usize;
    format!(
        "{label}\n{:3.0}%|{}{}| {steps}/30",
        done * 100.0,
        "█".repeat(steps / 3),
        " ".repeat(10 - steps / 3)
    )
}

/// A free port on this machine for a stand-in, and its address.
pub async fn bind() -> (tokio::net::TcpListener, SocketAddr) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the stand-in");
    let addr = listener.local_addr().expect("a bound address");
    (listener, addr)
}

/// A stand-in's server, serving until dropped.
pub struct Served(tokio::task::JoinHandle<()>);

impl Served {
    pub fn serve(listener: tokio::net::TcpListener, app: axum::Router) -> Self {
        Self(tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        }))
    }

    /// A stand-in's background task (a worker), stopped with it.
    pub fn task(work: impl std::future::Future<Output = ()> + Send + 'static) -> Self {
        Self(tokio::spawn(work))
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The bytes of the file part named `field` of a one-part `multipart/form-data` body.
pub fn multipart_file(
    headers: &axum::http::HeaderMap,
    body: &[u8],
    field: &str,
) -> Option<Vec<u8>> {
    let boundary = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("boundary=").nth(1))
        .map(|b| b.trim_matches('"').to_string())?;
    let start = find(body, b"\r\n\r\n")? + 4;
    let end = find(body, format!("\r\n--{boundary}--").as_bytes())?;
    let part_headers = String::from_utf8_lossy(&body[..start]);
    (part_headers.contains(&format!("name=\"{field}\"")) && end >= start)
        .then(|| body[start..end].to_vec())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
