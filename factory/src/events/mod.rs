//! Engine events: every committed state change, in order, with a sequence number.
//!
//! Fan-out within one process is a tokio broadcast channel. A subscriber that falls behind
//! loses events (the channel is bounded) and is told so; it then re-reads the current state
//! from the database and carries on from the live stream, so no terminal state is ever missed.
//! Between processes on one database, [`relay`] carries ids over LISTEN/NOTIFY and each process
//! reads the rows and publishes them to its own subscribers.

use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::{broadcast, mpsc};

pub mod relay;

use crate::jobs::Job;
use crate::products::Product;

/// How many events a slow subscriber may lag before it must resync.
const CAPACITY: usize = 4096;

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Strictly increasing within a process run.
    pub seq: u64,
    pub kind: EventKind,
}

/// What changed. Rows travel whole, so subscribers need no database read per event.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// A job's new state (after any change: state, progress, cancel request, priority).
    Job(Box<Job>),
    ProductCreated(Box<Product>),
    QueuePaused {
        paused: bool,
    },
    /// A provider answered 429: no call goes to it before the pause ends.
    ProviderPaused(crate::providers::limits::Pause),
}

#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Event>,
    /// The last sequence number; held while sending so events leave in sequence order.
    seq: Arc<Mutex<u64>>,
    /// Where events made here go to reach other processes, once a relay runs.
    outbox: Arc<OnceLock<mpsc::UnboundedSender<relay::What>>>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(CAPACITY);
        Self {
            tx,
            seq: Arc::new(Mutex::new(0)),
            outbox: Arc::new(OnceLock::new()),
        }
    }

    /// Publishes after the change is committed (to this process's subscribers, and through the
    /// relay to other processes'). Returns the event's sequence number.
    pub fn publish(&self, kind: EventKind) -> u64 {
        if let (Some(outbox), Some(what)) = (self.outbox.get(), relay::What::of(&kind)) {
            let _ = outbox.send(what);
        }
        self.publish_here(kind)
    }

    /// Publishes to this process's subscribers only (an event another process made).
    fn publish_here(&self, kind: EventKind) -> u64 {
        let mut last = self.seq.lock().unwrap_or_else(|e| e.into_inner());
        *last += 1;
        let _ = self.tx.send(Event { seq: *last, kind });
        *last
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }

    /// The last sequence number handed out (0 before any event).
    pub fn last_seq(&self) -> u64 {
        *self.seq.lock().unwrap_or_else(|e| e.into_inner())
    }
}
