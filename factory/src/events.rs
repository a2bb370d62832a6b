//! Engine events: every committed state change, in order, with a sequence number.
//!
//! Fan-out within one process is a tokio broadcast channel. A subscriber that falls behind
//! loses events (the channel is bounded) and is told so; it then re-reads the current state
//! from the database and carries on from the live stream, so no terminal state is ever missed.

use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

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
        }
    }

    /// Publishes after the change is committed. Returns the event's sequence number.
    pub fn publish(&self, kind: EventKind) -> u64 {
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
