//! `hookd prune --older-than AGE`: deletes the messages and attempts older than AGE, and the
//! finished delivery rows of those messages, in batches of short transactions so that a
//! running server goes on meanwhile. A message whose delivery is still queued is kept.

use std::time::Duration;

use hookd_server::{Config, clock};
use hookd_store::Pruned;

use crate::serve::open_store;

/// The most messages (and attempts) one transaction deletes.
const BATCH: u32 = 1000;

pub async fn prune(
    config: &Config,
    older_than: Duration,
) -> Result<(), Box<dyn std::error::Error>> {
    if older_than.is_zero() {
        return Err("--older-than must be more than 0s".into());
    }
    let store = open_store(config).await?;
    let cutoff = clock::now().saturating_sub(older_than);
    let mut total = Pruned::default();
    loop {
        let batch = store.prune_before(cutoff, BATCH).await?;
        if batch.is_empty() {
            break;
        }
        total.messages += batch.messages;
        total.attempts += batch.attempts;
        total.deliveries += batch.deliveries;
    }
    println!(
        "Deleted {} messages, {} attempts and {} delivery rows older than {} from {}.",
        total.messages,
        total.attempts,
        total.deliveries,
        humantime::format_duration(older_than),
        config.database
    );
    Ok(())
}
