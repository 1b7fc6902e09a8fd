//! The background sweep: at start and then hourly, removes payloads past their message's
//! retention period (reads then show `{"expired": true}`), idempotency keys past their 12
//! hours, and app-portal tokens that ran out.
//!
//! Each batch is one short transaction of at most `BATCH` rows, so the sweep never holds the
//! database for long. On PostgreSQL the nodes share the work by not sharing it: the sweep runs
//! under an advisory lock, and a node that finds it taken skips its turn.

use std::sync::Arc;
use std::time::Duration;

use hookd_core::Timestamp;
use hookd_store::{Store, StoreError};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::error_chain::error_chain;

/// How often the sweep runs.
pub const INTERVAL: Duration = Duration::from_secs(3600);
/// The most rows one transaction of the sweep changes.
pub const BATCH: u32 = 1000;

/// What one sweep removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Messages whose payload was removed.
    pub payloads: u64,
    /// Idempotency keys and tokens that expired.
    pub keys: u64,
}

/// One sweep as of `now`; `None` when another node is running it.
pub async fn sweep_once(store: &dyn Store, now: Timestamp) -> Result<Option<Swept>, StoreError> {
    let Some(lock) = store.lock_sweep().await? else {
        return Ok(None);
    };
    let swept = sweep_locked(store, now).await;
    lock.release().await;
    swept.map(Some)
}

async fn sweep_locked(store: &dyn Store, now: Timestamp) -> Result<Swept, StoreError> {
    Ok(Swept {
        payloads: in_batches(|| store.expire_payloads(now, BATCH)).await?,
        keys: in_batches(|| store.delete_expired_keys(now, BATCH)).await?,
    })
}

/// Runs `batch` until one comes back with fewer than `BATCH` rows; the total.
async fn in_batches<F, Fut>(mut batch: F) -> Result<u64, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<u64, StoreError>>,
{
    let mut total = 0;
    loop {
        let done = batch().await?;
        total += done;
        if done < u64::from(BATCH) {
            return Ok(total);
        }
    }
}

/// Runs the sweep now and every `INTERVAL` until `shutdown` turns true. The server aborts the
/// task on shutdown: a batch cut short is a transaction rolled back.
pub fn spawn(
    store: Arc<dyn Store>,
    clock: Clock,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match sweep_once(store.as_ref(), clock.now()).await {
                Ok(Some(swept)) if swept != Swept::default() => {
                    tracing::info!(
                        payloads = swept.payloads,
                        keys = swept.keys,
                        "swept expired data"
                    );
                }
                Ok(Some(_)) => {}
                Ok(None) => tracing::debug!("another node is running the sweep"),
                Err(e) => tracing::error!(error = %error_chain(&e), "the sweep failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(INTERVAL) => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
        }
    })
}
