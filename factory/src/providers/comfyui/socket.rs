//! Following prompts on ComfyUI's WebSocket: a reader task per provider keeps, per prompt,
//! the node running, the sampler's progress, the pictures saved, and how it ended.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::Url;
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::providers::http::endpoint;
use crate::providers::Output;

/// A picture the server saved, as `executed` and the history name it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Saved {
    pub(super) filename: String,
    pub(super) subfolder: String,
    pub(super) kind: String,
}

/// What the reader heard about one prompt.
#[derive(Debug, Default)]
pub(super) struct Track {
    pub(super) node: Option<String>,
    pub(super) progress: Option<f32>,
    pub(super) saved: Vec<Saved>,
    pub(super) error: Option<String>,
    pub(super) interrupted: bool,
    pub(super) done: bool,
}

/// The socket and what it heard.
#[derive(Default)]
pub(super) struct Socket {
    tracks: Arc<Mutex<HashMap<String, Track>>>,
    /// Whether the socket is open; when it is not, polls ask the server.
    listening: Arc<AtomicBool>,
    reader: tokio::sync::Mutex<Option<JoinHandle<()>>>,
    /// After a failed attempt to open it, not before this: each poll would otherwise wait on
    /// a socket that is not coming.
    next_attempt: Mutex<Option<Instant>>,
}

/// How long polls ask the server before the socket is tried again.
const RETRY_SOCKET_AFTER: Duration = Duration::from_secs(30);

impl Socket {
    pub fn listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    /// Runs `f` on the prompt's track, if one was heard of.
    pub fn with_track<T>(&self, prompt: &str, f: impl FnOnce(&Track) -> T) -> Option<T> {
        let tracks = self.tracks.lock().unwrap_or_else(|e| e.into_inner());
        tracks.get(prompt).map(f)
    }

    /// Takes the track of a prompt that ended.
    pub fn take_ended(&self, prompt: &str) -> Option<Track> {
        let mut tracks = self.tracks.lock().unwrap_or_else(|e| e.into_inner());
        match tracks.get(prompt) {
            Some(track) if track.done => tracks.remove(prompt),
            _ => None,
        }
    }

    /// Opens the socket and starts its reader, unless it is open. A socket that cannot be
    /// opened is not an error: polls then ask the server.
    pub async fn listen(&self, base: &Url, client_id: &str) {
        let mut reader = self.reader.lock().await;
        if self.listening.load(Ordering::Acquire) {
            return;
        }
        let waiting = {
            let next = self.next_attempt.lock().unwrap_or_else(|e| e.into_inner());
            next.is_some_and(|at| Instant::now() < at)
        };
        if waiting {
            return;
        }
        let mut url = endpoint(base, &["ws"]);
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        let _ = url.set_scheme(scheme);
        url.query_pairs_mut().append_pair("clientId", client_id);
        let connect = tokio_tungstenite::connect_async(url.as_str());
        let Ok(Ok((mut socket, _))) = tokio::time::timeout(Duration::from_secs(10), connect).await
        else {
            tracing::debug!("ComfyUI's socket could not be opened; polling its queue instead");
            *self.next_attempt.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(Instant::now() + RETRY_SOCKET_AFTER);
            return;
        };
        self.listening.store(true, Ordering::Release);
        let (tracks, listening) = (self.tracks.clone(), self.listening.clone());
        if let Some(old) = reader.take() {
            old.abort();
        }
        *reader = Some(tokio::spawn(async move {
            while let Some(Ok(message)) = socket.next().await {
                // Binary messages are previews of the sampler's work; not kept.
                if let Message::Text(text) = message {
                    if let Ok(message) = serde_json::from_str::<Value>(text.as_str()) {
                        hear(&tracks, &message);
                    }
                }
            }
            listening.store(false, Ordering::Release);
        }));
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        if let Ok(mut reader) = self.reader.try_lock() {
            if let Some(task) = reader.take() {
                task.abort();
            }
        }
    }
}

pub(super) fn saved_of(images: &Value) -> Vec<Saved> {
    images
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| {
            Some(Saved {
                filename: i["filename"].as_str()?.to_string(),
                subfolder: i["subfolder"].as_str().unwrap_or_default().to_string(),
                kind: i["type"].as_str().unwrap_or("output").to_string(),
            })
        })
        .collect()
}

/// What `execution_error` says: the node, its type, and the exception.
pub(super) fn failure_words(data: &Value) -> String {
    format!(
        "node {} ({}) failed: {}",
        data["node_id"].as_str().unwrap_or("?"),
        data["node_type"].as_str().unwrap_or("?"),
        data["exception_message"]
            .as_str()
            .unwrap_or("no reason given")
            .trim()
    )
}

/// Updates the tracks from one message of the socket.
fn hear(tracks: &Mutex<HashMap<String, Track>>, message: &Value) {
    let data = &message["data"];
    let Some(prompt) = data["prompt_id"].as_str() else {
        return;
    };
    let mut tracks = tracks.lock().unwrap_or_else(|e| e.into_inner());
    let track = tracks.entry(prompt.to_string()).or_default();
    match message["type"].as_str().unwrap_or_default() {
        "executing" => match data["node"].as_str() {
            Some(node) => {
                track.node = Some(node.to_string());
                track.progress = None;
            }
            None => track.done = true,
        },
        "progress" => {
            let (value, max) = (data["value"].as_f64(), data["max"].as_f64());
            if let (Some(value), Some(max)) = (value, max.filter(|m| *m > 0.0)) {
                track.progress = Some((value / max).clamp(0.0, 1.0) as f32);
            }
        }
        "executed" => track.saved.extend(saved_of(&data["output"]["images"])),
        "execution_error" => {
            track.error = Some(failure_words(data));
            track.done = true;
        }
        "execution_interrupted" => {
            track.interrupted = true;
            track.done = true;
        }
        "execution_success" => track.done = true,
        _ => {}
    }
}

/// The outputs to keep: the saved pictures, or the previews when nothing was saved.
pub(super) fn outputs_of(base: &Url, saved: &[Saved]) -> Vec<Output> {
    let kept: Vec<&Saved> = if saved.iter().any(|s| s.kind == "output") {
        saved.iter().filter(|s| s.kind == "output").collect()
    } else {
        saved.iter().collect()
    };
    kept.into_iter()
        .map(|s| {
            let mut url = endpoint(base, &["view"]);
            url.query_pairs_mut()
                .append_pair("filename", &s.filename)
                .append_pair("subfolder", &s.subfolder)
                .append_pair("type", &s.kind);
            Output::Url {
                url: url.to_string(),
                declared_mime: None,
            }
        })
        .collect()
}
