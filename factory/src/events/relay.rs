//! Events between processes that share one database: PostgreSQL's LISTEN/NOTIFY carries what
//! changed (a job's id, a product's id, the queue's pause), never the rows; each process reads
//! the rows and publishes them to its own subscribers. So a browser connected to a web process
//! sees the jobs that `art-factory worker` processes run.
//!
//! A notification is sent after the change commits, by a task that batches them into one
//! statement. A process skips its own notifications (each carries the sender's random origin).
//! When the listening connection drops, the relay reconnects; notifications sent meanwhile are
//! lost (and logged as such): open pages show those changes on their next reload.

use std::time::Duration;

use diesel::sql_types::{Array, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::{EventBus, EventKind};
use crate::db::{DbError, Pool};

/// The channel every process listens on.
pub const CHANNEL: &str = "art_factory_events";
/// The most notifications sent in one statement.
const BATCH: usize = 200;

/// What changed, by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum What {
    Job(i64),
    Product(i64),
    QueuePaused(bool),
    /// A provider's pause (re-read from the pauses table).
    ProviderPaused,
}

impl What {
    pub(super) fn of(kind: &EventKind) -> Option<Self> {
        Some(match kind {
            EventKind::Job(job) => Self::Job(job.id),
            EventKind::ProductCreated(product) => Self::Product(product.id),
            EventKind::QueuePaused { paused } => Self::QueuePaused(*paused),
            EventKind::ProviderPaused(_) => Self::ProviderPaused,
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Notice {
    /// The sending process.
    origin: u64,
    what: What,
}

/// The relay's tasks; dropping the handle leaves them running until the runtime ends, and
/// [`RelayHandle::stop`] ends them.
pub struct RelayHandle {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl RelayHandle {
    pub fn stop(self) {
        for task in self.tasks {
            task.abort();
        }
    }
}

/// Starts relaying `bus`'s events to the other processes on the database at `url`, and theirs
/// to `bus`. Answers once this process listens.
pub async fn start(bus: &EventBus, pool: Pool, url: &str) -> Result<RelayHandle, DbError> {
    let origin: u64 = rand::random();
    let listener = listen(url).await?;
    let (tx, rx) = mpsc::unbounded_channel();
    if bus.outbox.set(tx).is_err() {
        return Err(DbError::Connect(
            "this engine's events are already relayed".into(),
        ));
    }
    let sender = tokio::spawn(send_all(rx, pool.clone(), origin));
    let receiver = tokio::spawn(receive_all(
        listener,
        bus.clone(),
        pool,
        url.to_string(),
        origin,
    ));
    Ok(RelayHandle {
        tasks: vec![sender, receiver],
    })
}

async fn listen(url: &str) -> Result<AsyncPgConnection, DbError> {
    let mut conn = AsyncPgConnection::establish(url)
        .await
        .map_err(|e| DbError::Connect(e.to_string()))?;
    diesel::sql_query(format!("LISTEN {CHANNEL}"))
        .execute(&mut conn)
        .await?;
    Ok(conn)
}

async fn send_all(mut rx: mpsc::UnboundedReceiver<What>, pool: Pool, origin: u64) {
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let payloads: Vec<String> = batch
            .drain(..)
            .map(|what| {
                serde_json::to_string(&Notice { origin, what }).expect("a notice serialises")
            })
            .collect();
        let sent = async {
            let mut conn = crate::db::get_conn(&pool).await?;
            diesel::sql_query(format!(
                "SELECT pg_notify('{CHANNEL}', payload) FROM unnest($1) AS payload"
            ))
            .bind::<Array<Text>, _>(&payloads)
            .execute(&mut conn)
            .await?;
            Ok::<_, DbError>(())
        }
        .await;
        if let Err(e) = sent {
            tracing::warn!(
                events = payloads.len(),
                "could not tell other processes about events: {e}"
            );
        }
    }
}

async fn receive_all(
    mut conn: AsyncPgConnection,
    bus: EventBus,
    pool: Pool,
    url: String,
    origin: u64,
) {
    loop {
        {
            let mut notifications = std::pin::pin!(conn.notifications_stream());
            while let Some(next) = notifications.next().await {
                let Ok(notification) = next else { break };
                let Ok(notice) = serde_json::from_str::<Notice>(&notification.payload) else {
                    continue;
                };
                if notice.origin == origin {
                    continue;
                }
                if let Err(e) = republish(&bus, &pool, notice.what).await {
                    tracing::warn!("could not read an event from another process: {e}");
                }
            }
        }
        // The connection dropped: listen again.
        tracing::warn!(
            "lost the event channel to other processes; reconnecting (changes they make meanwhile \
             reach open pages at their next reload)"
        );
        conn = loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if let Ok(conn) = listen(&url).await {
                break conn;
            }
        };
    }
}

async fn republish(bus: &EventBus, pool: &Pool, what: What) -> Result<(), DbError> {
    let mut conn = crate::db::get_conn(pool).await?;
    let kind = match what {
        What::Job(id) => match crate::jobs::queue::get(&mut conn, id).await {
            Ok(job) => EventKind::Job(Box::new(job)),
            Err(_) => return Ok(()),
        },
        What::Product(id) => match crate::products::get(&mut conn, id).await? {
            Some(product) => EventKind::ProductCreated(Box::new(product)),
            None => return Ok(()),
        },
        What::QueuePaused(paused) => EventKind::QueuePaused { paused },
        What::ProviderPaused => {
            // The newest pause stands for all: each is a whole row of the pauses table.
            let pauses = crate::providers::limits::load_pauses(&mut conn).await?;
            match pauses.into_values().max_by_key(|p| p.until) {
                Some(pause) => EventKind::ProviderPaused(pause),
                None => return Ok(()),
            }
        }
    };
    bus.publish_here(kind);
    Ok(())
}
