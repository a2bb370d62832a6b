//! Logging: structured `tracing` events to stderr, filtered by `RUST_LOG`.

use tracing_subscriber::EnvFilter;

/// The filter when `RUST_LOG` is not set: our own crates at info, libraries at warn.
const DEFAULT_FILTER: &str = "warn,server=info,factory=info,app=info,tower_http=info";

pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
