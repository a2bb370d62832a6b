//! A stand-in ComfyUI server speaking its API: `GET /system_stats`, `GET /object_info` (a small
//! node catalog with real input specs), `POST /prompt` (validated against the catalog, answered
//! with `prompt_id` or ComfyUI's `error`/`node_errors`), the WebSocket `/ws?clientId=`
//! (`status`, `execution_start`, `executing`, `progress`, `executed`, `execution_error`,
//! `execution_interrupted`, `execution_success`, sent to the client that queued the prompt),
//! `GET /queue`, `POST /queue` (`delete`), `POST /interrupt`, `GET /history/{id}`,
//! `POST /upload/image` and `GET /view`. One prompt runs at a time; a sampler takes `step_time`
//! per step. Pictures are the offline generator's, from the prompt text and the seed. A prompt
//! whose text holds “explode” fails in its sampler.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use tokio::sync::{broadcast, Notify};

use super::standin::{bind, multipart_file, Served};

mod catalog;
mod run;

pub use catalog::{default_workflow, image_workflow, CHECKPOINTS, SAMPLERS};
use catalog::{object_info, validate};

#[derive(Clone)]
struct Queued {
    id: String,
    number: i64,
    client_id: String,
    graph: Map<String, Value>,
}

impl Queued {
    fn entry(&self) -> Value {
        json!([self.number, self.id, self.graph, {"client_id": self.client_id}, ["9"]])
    }
}

#[derive(Default)]
struct Shared {
    next: i64,
    pending: VecDeque<Queued>,
    running: Option<Queued>,
    history: Map<String, Value>,
    /// (type, subfolder, filename) -> bytes.
    files: HashMap<(String, String, String), Vec<u8>>,
    uploads: Vec<String>,
    /// Every graph queued, in order.
    queued: Vec<Map<String, Value>>,
    interrupt: bool,
    interrupts: usize,
    deleted: Vec<String>,
    sockets_opened: usize,
}

#[derive(Clone)]
struct Ctx {
    shared: Arc<Mutex<Shared>>,
    wake: Arc<Notify>,
    said: broadcast::Sender<(String, Value)>,
    step_time: Duration,
}

pub struct ComfyStandIn {
    pub base_url: String,
    ctx: Ctx,
    _server: Served,
    _worker: Served,
}

impl ComfyStandIn {
    /// A server whose samplers take `step_time` per step.
    pub async fn start(step_time: Duration) -> Self {
        let (listener, addr) = bind().await;
        let (said, _) = broadcast::channel(1024);
        let ctx = Ctx {
            shared: Arc::default(),
            wake: Arc::new(Notify::new()),
            said,
            step_time,
        };
        let app = Router::new()
            .route("/system_stats", get(system_stats))
            .route("/object_info", get(catalog))
            .route("/prompt", post(queue_prompt))
            .route("/queue", get(queue).post(edit_queue))
            .route("/interrupt", post(interrupt))
            .route("/history/{id}", get(history))
            .route("/upload/image", post(upload))
            .route("/view", get(view))
            .route("/ws", get(socket))
            .with_state(ctx.clone());
        let worker = Served::task(run::work(ctx.clone()));
        Self {
            base_url: format!("http://{addr}"),
            ctx,
            _server: Served::serve(listener, app),
            _worker: worker,
        }
    }

    /// Every graph queued, in order (with the marked inputs filled in).
    pub fn queued(&self) -> Vec<Map<String, Value>> {
        self.ctx.shared.lock().unwrap().queued.clone()
    }

    pub fn interrupts(&self) -> usize {
        self.ctx.shared.lock().unwrap().interrupts
    }

    /// Prompts taken out of the queue by `POST /queue {"delete": ...}`.
    pub fn deleted(&self) -> Vec<String> {
        self.ctx.shared.lock().unwrap().deleted.clone()
    }

    /// The names of uploaded pictures.
    pub fn uploads(&self) -> Vec<String> {
        self.ctx.shared.lock().unwrap().uploads.clone()
    }

    pub fn sockets_opened(&self) -> usize {
        self.ctx.shared.lock().unwrap().sockets_opened
    }
}

async fn system_stats() -> Json<Value> {
    Json(
        json!({"system": {"os": "posix", "python_version": "3.11.9", "embedded_python": false,
                           "comfyui_version": "0.3.40", "ram_total": 25769803776u64,
                           "ram_free": 20000000000u64},
                "devices": [{"name": "cpu", "type": "cpu", "index": null,
                             "vram_total": 0, "vram_free": 0}]}),
    )
}

async fn catalog(State(ctx): State<Ctx>) -> Json<Value> {
    let uploads = ctx.shared.lock().unwrap().uploads.clone();
    Json(object_info(uploads))
}

async fn queue_prompt(State(ctx): State<Ctx>, Json(body): Json<Value>) -> Response {
    let Some(graph) = body["prompt"].as_object().cloned() else {
        return (
            StatusCode::BAD_REQUEST,
            Json(
                json!({"error": {"type": "no_prompt", "message": "No prompt provided",
                                      "details": "No prompt provided", "extra_info": {}},
                            "node_errors": {}}),
            ),
        )
            .into_response();
    };
    let mut s = ctx.shared.lock().unwrap();
    if let Err(refusal) = validate(&graph, &object_info(s.uploads.clone())) {
        return (StatusCode::BAD_REQUEST, Json(refusal)).into_response();
    }
    s.next += 1;
    let number = s.next;
    let id = format!(
        "{:08x}-0000-4000-8000-{:012x}",
        rand::random::<u32>(),
        number
    );
    s.queued.push(graph.clone());
    s.pending.push_back(Queued {
        id: id.clone(),
        number,
        client_id: body["client_id"].as_str().unwrap_or_default().to_string(),
        graph,
    });
    drop(s);
    ctx.wake.notify_one();
    Json(json!({"prompt_id": id, "number": number, "node_errors": {}})).into_response()
}

async fn queue(State(ctx): State<Ctx>) -> Json<Value> {
    let s = ctx.shared.lock().unwrap();
    Json(json!({
        "queue_running": s.running.iter().map(Queued::entry).collect::<Vec<_>>(),
        "queue_pending": s.pending.iter().map(Queued::entry).collect::<Vec<_>>(),
    }))
}

async fn edit_queue(State(ctx): State<Ctx>, Json(body): Json<Value>) -> StatusCode {
    let mut s = ctx.shared.lock().unwrap();
    if body["clear"] == json!(true) {
        s.pending.clear();
    }
    for id in body["delete"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let before = s.pending.len();
        s.pending.retain(|q| q.id != id);
        if s.pending.len() < before {
            s.deleted.push(id.to_string());
        }
    }
    StatusCode::OK
}

async fn interrupt(State(ctx): State<Ctx>, body: axum::body::Bytes) -> StatusCode {
    let named = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|b| b["prompt_id"].as_str().map(str::to_string));
    let mut s = ctx.shared.lock().unwrap();
    s.interrupts += 1;
    let running = s.running.as_ref().map(|q| q.id.clone());
    if named.is_none() || named == running {
        s.interrupt = true;
    }
    StatusCode::OK
}

async fn history(State(ctx): State<Ctx>, Path(id): Path<String>) -> Json<Value> {
    let s = ctx.shared.lock().unwrap();
    let mut out = Map::new();
    if let Some(entry) = s.history.get(&id) {
        out.insert(id, entry.clone());
    }
    Json(Value::Object(out))
}

async fn upload(State(ctx): State<Ctx>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let Some(bytes) = multipart_file(&headers, &body, "image")
        .filter(|b| crate::media::ImageFormat::sniff(b).is_some())
    else {
        return (
            StatusCode::BAD_REQUEST,
            "Expected a multipart body with an `image` picture",
        )
            .into_response();
    };
    let mut s = ctx.shared.lock().unwrap();
    let name = format!("upload_{:03}.png", s.uploads.len() + 1);
    s.uploads.push(name.clone());
    s.files
        .insert(("input".into(), String::new(), name.clone()), bytes);
    Json(json!({"name": name, "subfolder": "", "type": "input"})).into_response()
}

async fn view(State(ctx): State<Ctx>, Query(q): Query<HashMap<String, String>>) -> Response {
    let key = (
        q.get("type").cloned().unwrap_or_else(|| "output".into()),
        q.get("subfolder").cloned().unwrap_or_default(),
        q.get("filename").cloned().unwrap_or_default(),
    );
    match ctx.shared.lock().unwrap().files.get(&key) {
        Some(bytes) => ([("content-type", "image/png")], bytes.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn socket(
    State(ctx): State<Ctx>,
    Query(q): Query<HashMap<String, String>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let client_id = q.get("clientId").cloned().unwrap_or_default();
    upgrade.on_upgrade(move |ws| follow(ctx, client_id, ws))
}

async fn follow(ctx: Ctx, client_id: String, mut ws: WebSocket) {
    let mut said = ctx.said.subscribe();
    let remaining = {
        let mut s = ctx.shared.lock().unwrap();
        s.sockets_opened += 1;
        s.pending.len() + usize::from(s.running.is_some())
    };
    let hello = json!({"type": "status", "data": {"status": {"exec_info": {"queue_remaining": remaining}},
                                                 "sid": client_id}});
    if ws
        .send(Message::Text(hello.to_string().into()))
        .await
        .is_err()
    {
        return;
    }
    while let Ok((to, message)) = said.recv().await {
        if to == client_id
            && ws
                .send(Message::Text(message.to_string().into()))
                .await
                .is_err()
        {
            return;
        }
    }
}
