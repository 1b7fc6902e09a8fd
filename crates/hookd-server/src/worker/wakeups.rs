//! Wake-ups from other nodes on a shared database, passed on to this node's dispatcher.

use std::sync::Arc;
use std::time::Duration;

use hookd_store::Wakeups;
use tokio::sync::{Notify, watch};

use crate::error_chain::error_chain;

/// How long to wait before listening again when the database cannot be reached; meanwhile the
/// dispatcher's slow poll still finds the work.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Wakes the dispatcher on each wake-up until `shutdown` turns true.
pub async fn forward(mut wakeups: Wakeups, wake: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
    loop {
        let woken = tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => return,
            woken = wakeups.next() => woken,
        };
        match woken {
            Ok(()) => wake.notify_one(),
            Err(e) => {
                tracing::warn!(error = %error_chain(&e), "listening for other nodes' wake-ups failed");
                tokio::select! {
                    _ = shutdown.wait_for(|stop| *stop) => return,
                    _ = tokio::time::sleep(RETRY_AFTER) => {}
                }
            }
        }
    }
}
