//! `/ws` (WebSocket) and `/events` (server-sent events): the engine's events, live.
//!
//! Each client gets its own feed task and a bounded buffer. The feed subscribes first, then
//! sends a snapshot of the current state (tagged with the last sequence number published before
//! it was read), then every later event in order. The snapshot is bounded however long the
//! queue: the totals, the jobs in flight, the front of the queue and the latest finished. A client that falls behind — its buffer full,
//! the broadcast ring overrun — gets a fresh snapshot instead of the events it missed, so it can
//! never miss a job's terminal state. A client that reconnects starts over with a snapshot.
//!
//! Both feeds end when the server starts shutting down (a WebSocket with a Close frame), so an
//! open browser tab never keeps Ctrl-C or SIGTERM from finishing.

use std::convert::Infallible;

use app::dto::{JobDto, LiveMessage, ProductDto};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::Response;
use factory::events::{Event, EventKind};
use factory::jobs::queue;
use factory::providers::limits;
use factory::Engine;
use futures::{Stream, StreamExt};
use tokio::sync::{broadcast, mpsc};

use super::Shutdown;

/// Messages buffered per client before it counts as lagging.
const CLIENT_BUFFER: usize = 256;
/// The largest message a client may send over `/ws`.
const INCOMING_MESSAGE_BYTES: usize = 64 * 1024;
/// Waiting jobs included in a snapshot (the front of the queue; every job in flight always is).
const SNAPSHOT_WAITING_JOBS: i64 = 100;
/// Finished jobs included in a snapshot, the most recent.
const SNAPSHOT_FINISHED_JOBS: i64 = 100;

pub async fn websocket(
    State(engine): State<Engine>,
    State(shutdown): State<Shutdown>,
    upgrade: WebSocketUpgrade,
) -> Response {
    // The client only listens: anything it sends is small or a mistake.
    upgrade
        .max_message_size(INCOMING_MESSAGE_BYTES)
        .on_upgrade(move |socket| serve_socket(socket, engine, shutdown))
}

async fn serve_socket(mut socket: WebSocket, engine: Engine, shutdown: Shutdown) {
    let mut feed = spawn_feed(engine);
    let stopping = shutdown.started();
    tokio::pin!(stopping);
    loop {
        tokio::select! {
            _ = &mut stopping => {
                let _ = socket.send(Message::Close(None)).await;
                break;
            }
            message = feed.recv() => {
                let Some(message) = message else { break };
                let text = serde_json::to_string(&message).expect("live messages serialise");
                if socket.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            incoming = socket.recv() => match incoming {
                // The client only listens; anything but a close is ignored.
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
}

pub async fn server_sent_events(
    State(engine): State<Engine>,
    State(shutdown): State<Shutdown>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let feed = spawn_feed(engine);
    let stream = futures::stream::unfold(feed, |mut feed| async move {
        let message = feed.recv().await?;
        let kind = match &message {
            LiveMessage::Snapshot { .. } => "snapshot",
            LiveMessage::Job { .. } => "job",
            LiveMessage::ProductCreated { .. } => "product_created",
            LiveMessage::Paused { .. } => "paused",
            LiveMessage::ProviderPaused { .. } => "provider_paused",
        };
        let event = SseEvent::default()
            .event(kind)
            .id(message.seq().to_string())
            .json_data(&message)
            .expect("live messages serialise");
        Some((Ok(event), feed))
    })
    .take_until(shutdown.started());
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Starts the feed task for one client.
fn spawn_feed(engine: Engine) -> mpsc::Receiver<LiveMessage> {
    let (tx, rx) = mpsc::channel(CLIENT_BUFFER);
    tokio::spawn(async move {
        let mut events = engine.events().subscribe();
        let Some(mut seen) = send_snapshot(&engine, &tx).await else {
            return;
        };
        loop {
            match events.recv().await {
                Ok(event) if event.seq <= seen => {}
                Ok(event) => {
                    seen = event.seq;
                    let message = live_message(event);
                    match tx.try_send(message) {
                        Ok(()) => {}
                        Err(mpsc::error::TrySendError::Closed(_)) => return,
                        // The client is not keeping up: drop what is queued for it and
                        // start it over from the current state.
                        Err(mpsc::error::TrySendError::Full(_)) => {
                            events = engine.events().subscribe();
                            match send_snapshot(&engine, &tx).await {
                                Some(seq) => seen = seq,
                                None => return,
                            }
                        }
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "a live client lagged; resending the current state");
                    match send_snapshot(&engine, &tx).await {
                        Some(seq) => seen = seq,
                        None => return,
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    });
    rx
}

/// Reads and sends the current state; returns its sequence number, or `None` when the client is
/// gone or the database cannot be read.
async fn send_snapshot(engine: &Engine, tx: &mpsc::Sender<LiveMessage>) -> Option<u64> {
    // Taken before reading: everything published up to here is committed, so it is in the
    // snapshot; later events are applied on top.
    let seq = engine.events().last_seq();
    let snapshot = async {
        let mut conn = engine.conn().await.map_err(|e| e.to_string())?;
        let paused = queue::is_paused(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        let totals = queue::totals(&mut conn).await.map_err(|e| e.to_string())?;
        let jobs = queue::list_live(&mut conn, SNAPSHOT_WAITING_JOBS, SNAPSHOT_FINISHED_JOBS)
            .await
            .map_err(|e| e.to_string())?;
        let pauses = limits::load_pauses(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(LiveMessage::Snapshot {
            seq,
            paused,
            totals: totals.into(),
            jobs: jobs.into_iter().map(JobDto::from).collect(),
            provider_pauses: pauses.into_values().map(Into::into).collect(),
        })
    };
    match snapshot.await {
        Ok(message) => tx.send(message).await.ok().map(|_| seq),
        Err(e) => {
            tracing::warn!("could not read the queue for a live client: {e}");
            None
        }
    }
}

fn live_message(event: Event) -> LiveMessage {
    let seq = event.seq;
    match event.kind {
        EventKind::Job(job) => LiveMessage::Job {
            seq,
            job: JobDto::from(*job),
        },
        EventKind::ProductCreated(product) => LiveMessage::ProductCreated {
            seq,
            product: ProductDto::from(*product),
        },
        EventKind::QueuePaused { paused } => LiveMessage::Paused { seq, paused },
        EventKind::ProviderPaused(pause) => LiveMessage::ProviderPaused {
            seq,
            pause: pause.into(),
        },
    }
}
