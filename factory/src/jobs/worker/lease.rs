//! The lease ticker: one per job task, for the task's whole life.
//!
//! A provider call can take much longer than a lease (an HTTP timeout is minutes; a lease is
//! seconds), so renewing only between steps would let the lease run out in the middle of a
//! submission and the job be claimed — and paid for — a second time. The ticker renews on its
//! own schedule, whatever the task is waiting for, and returns only when the lease is gone (or
//! can no longer be kept in time); the task's owner then drops the task mid-step.

use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::Context;
use crate::db;
use crate::jobs::claim::{renew_lease, LeaseStatus};
use crate::jobs::Lease;

/// Renewals per lease: a renewal may fail (or be slow) twice before the lease is at risk.
const RENEWALS_PER_LEASE: u32 = 3;
/// Cancel requests are passed on at least this often, whatever the lease.
const LONGEST_PERIOD: Duration = Duration::from_secs(2);

/// Keeps `lease` alive; sends `true` on `cancel` when a person asks to cancel the job. Returns
/// why the lease was lost: from then on the job is not this task's any more.
pub(super) async fn keep(ctx: &Context, lease: Lease, cancel: watch::Sender<bool>) -> String {
    let length = ctx.config.lease;
    let period = (length / RENEWALS_PER_LEASE).min(LONGEST_PERIOD);
    let mut renewed = Instant::now();
    loop {
        tokio::time::sleep(period).await;
        let attempt = tokio::time::timeout(period, async {
            let mut conn = db::get_conn(&ctx.pool).await.map_err(|e| e.to_string())?;
            renew_lease(&mut conn, lease, length)
                .await
                .map_err(|e| e.to_string())
        })
        .await
        .unwrap_or_else(|_| Err("the database did not answer in time".into()));
        match attempt {
            Ok(LeaseStatus::Held { cancel_requested }) => {
                renewed = Instant::now();
                if cancel_requested {
                    cancel.send_replace(true);
                }
            }
            Ok(LeaseStatus::Lost) => {
                return "the lease was lost (the job was claimed again, or finished elsewhere)"
                    .into()
            }
            // Stop while the last renewal still covers us: after that, another worker may
            // rightly claim the job.
            Err(e) if renewed.elapsed() + period * 2 >= length => {
                return format!("the lease could not be renewed in time ({e})")
            }
            Err(e) => tracing::warn!(job = lease.job, "renewing the lease failed: {e}"),
        }
    }
}
