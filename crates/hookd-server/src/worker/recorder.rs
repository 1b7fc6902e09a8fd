//! The recorder: writes finished attempts and released deliveries to the store in batches, off
//! the delivery path, so one transaction covers many attempts.

use std::time::Duration;

use hookd_store::{DeliveryId, NextStep, Outcome};
use tokio::sync::mpsc;

use crate::api::error::error_chain;
use crate::state::AppState;

const MAX_BATCH: usize = 512;
const WRITE_TRIES: u32 = 5;

pub enum Record {
    /// An attempt was made.
    Attempted(Box<Outcome>),
    /// The delivery was claimed but not attempted (shutdown); give it back.
    Released(DeliveryId),
}

pub async fn run(state: AppState, mut records: mpsc::Receiver<Record>) {
    let mut buffer = Vec::with_capacity(MAX_BATCH);
    while records.recv_many(&mut buffer, MAX_BATCH).await > 0 {
        let mut outcomes = Vec::new();
        let mut released = Vec::new();
        for record in buffer.drain(..) {
            match record {
                Record::Attempted(outcome) => outcomes.push(*outcome),
                Record::Released(id) => released.push(id),
            }
        }
        if !outcomes.is_empty() {
            write(|| state.store.record_outcomes(&outcomes)).await;
            // A retry may fall due sooner than the dispatcher's sleep. (Room in a lane wakes it
            // when the attempt ends; on PostgreSQL the cluster-wide room a recorded outcome
            // frees wakes every node through NOTIFY.)
            if outcomes
                .iter()
                .any(|o| matches!(o.next, NextStep::RetryAt(_)))
            {
                state.wake.notify_one();
            }
        }
        if !released.is_empty() {
            write(|| state.store.release(&released)).await;
            state.wake.notify_one();
        }
    }
}

/// Retries a failed write a few times. If it still fails, the leases run out and another claim
/// makes the attempts again: delivery stays at-least-once.
async fn write<'a, F, Fut>(mut op: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = hookd_store::Result<()>> + 'a,
{
    for try_number in 1..=WRITE_TRIES {
        match op().await {
            Ok(()) => return,
            Err(e) => {
                tracing::error!(error = %error_chain(&e), try_number, "recording delivery results failed");
                tokio::time::sleep(Duration::from_millis(100 * u64::from(try_number))).await;
            }
        }
    }
}
