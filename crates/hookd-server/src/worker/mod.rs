//! The delivery worker: claims due deliveries, runs each in its endpoint's lane, and hands the
//! results to the recorder.
//!
//! The dispatcher sleeps until it is woken (a new message, room in a full lane, a retry
//! recorded) or the next delivery falls due, so a new message leaves within milliseconds with no
//! polling. No transaction is open while a request is in flight: claim, send, and record are
//! three separate steps.

mod deliver;
mod lanes;
mod recorder;

use std::time::Duration;

use hookd_store::DueDelivery;
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};

pub use deliver::{RESPONSE_CAP, attempt, lease_for, signature_headers};
use lanes::{Lanes, Ticket};
use recorder::Record;

use crate::api::error::error_chain;
use crate::state::AppState;

/// The most deliveries one claim takes.
const CLAIM_BATCH: usize = 256;
/// The longest the dispatcher sleeps without looking at the queue: a safety net only.
const IDLE_POLL: Duration = Duration::from_secs(5);

/// Starts the worker. It stops claiming when `shutdown` turns true, lets requests in flight
/// finish, gives back what it claimed but did not start, and ends when all is recorded.
pub fn spawn(state: AppState, shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(run(state, shutdown))
}

async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let (records, record_queue) = mpsc::channel(4 * CLAIM_BATCH);
    let recorder = tokio::spawn(recorder::run(state.clone(), record_queue));
    let lanes = Lanes::new(
        state.config.max_in_flight_per_endpoint,
        state.config.max_in_flight,
        state.wake.clone(),
    );
    let lease = lease_for(state.config.delivery_timeout);
    let mut tasks = JoinSet::new();
    while !*shutdown.borrow() {
        while tasks.try_join_next().is_some() {}
        let mut sleep = IDLE_POLL;
        let room = lanes.room().min(CLAIM_BATCH);
        if room > 0 {
            let now = state.now();
            let limit = u32::try_from(room).unwrap_or(u32::MAX);
            match state
                .store
                .claim_due(
                    now,
                    now.saturating_add(lease),
                    limit,
                    &lanes.full_endpoints(),
                )
                .await
            {
                Ok(claim) => {
                    let claimed = claim.due.len();
                    for due in claim.due {
                        let ticket = lanes.ticket(&due.endpoint_id);
                        tasks.spawn(deliver_one(
                            state.clone(),
                            due,
                            ticket,
                            records.clone(),
                            shutdown.clone(),
                        ));
                    }
                    if claimed == room {
                        continue;
                    }
                    if let Some(at) = claim.next_due_at {
                        sleep = at.since(state.now()).min(IDLE_POLL);
                    }
                }
                Err(e) => {
                    tracing::error!(error = %error_chain(&e), "claiming deliveries failed");
                    sleep = Duration::from_secs(1);
                }
            }
        }
        tokio::select! {
            _ = state.wake.notified() => {}
            _ = tokio::time::sleep(sleep) => {}
            _ = shutdown.changed() => {}
        }
    }
    while tasks.join_next().await.is_some() {}
    drop(records);
    let _ = recorder.await;
}

async fn deliver_one(
    state: AppState,
    due: DueDelivery,
    ticket: Ticket,
    records: mpsc::Sender<Record>,
    mut shutdown: watch::Receiver<bool>,
) {
    let record = tokio::select! {
        biased;
        _ = async { shutdown.wait_for(|stop| *stop).await.is_ok() } => Record::Released(due.id),
        slots = ticket.slots() => {
            let outcome = attempt(&state, &due).await;
            drop(slots);
            Record::Attempted(Box::new(outcome))
        }
    };
    drop(ticket);
    let _ = records.send(record).await;
}
