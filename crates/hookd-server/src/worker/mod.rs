//! The delivery worker: claims due deliveries, runs each in its endpoint's lane, and hands the
//! results to the recorder.
//!
//! The dispatcher sleeps until it is woken (a new message, room in a full lane, a retry
//! recorded, or, on a shared database, any of these on another node) or the next delivery falls
//! due, so a new message leaves within milliseconds with no polling. No transaction is open
//! while a request is in flight: claim, send, and record are three separate steps.
//!
//! On a shared database the claim itself holds each endpoint to `max_in_flight_per_endpoint`
//! leases over all nodes. An endpoint at that cap is left out of the claim's next due time, so
//! the dispatcher does not spin on it: it sleeps until a recorded outcome, on any node, wakes
//! it (the store's `NOTIFY` reaches this node's own listener too), or the slow poll.
//!
//! A claim is a lease, and other nodes take over a delivery whose lease ran out. So an attempt
//! starts only while its lease still covers the whole request and the recording after it; a
//! delivery that waited too long in its lane is given back instead of sent. While its node is
//! alive, a delivery is therefore never sent by two nodes.

mod deliver;
mod lanes;
mod recorder;
mod wakeups;

use std::time::Duration;

use hookd_core::Timestamp;
use hookd_store::{DueDelivery, Wakeups};
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};

pub use deliver::{RESPONSE_CAP, attempt, signature_headers};
use lanes::{Lanes, Ticket};
use recorder::Record;

use crate::api::error::error_chain;
use crate::state::AppState;

/// The most deliveries one claim takes.
const CLAIM_BATCH: usize = 256;
/// The longest the dispatcher sleeps without looking at the queue: a safety net only, and what
/// finds the leases a dead node left once they run out.
const IDLE_POLL: Duration = Duration::from_secs(5);
/// What a lease must still cover after a request's timeout when the request starts: time for
/// the recorder to write the outcome, retries included.
const RECORD_ALLOWANCE: Duration = Duration::from_secs(10);

/// The shortest `delivery_lease` that lets a claimed delivery wait one full round of requests
/// in its lane and still be sent.
pub fn shortest_lease(delivery_timeout: Duration) -> Duration {
    delivery_timeout * 2 + RECORD_ALLOWANCE
}

/// Starts the worker. It stops claiming when `shutdown` turns true, lets requests in flight
/// finish, gives back what it claimed but did not start, and ends when all is recorded.
/// `wakeups`, on a shared database, wake it when other nodes queue work.
pub fn spawn(
    state: AppState,
    shutdown: watch::Receiver<bool>,
    wakeups: Option<Wakeups>,
) -> JoinHandle<()> {
    if let Some(wakeups) = wakeups {
        tokio::spawn(wakeups::forward(
            wakeups,
            state.wake.clone(),
            shutdown.clone(),
        ));
    }
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
    let lease = state.config.delivery_lease;
    let per_endpoint = u32::try_from(state.config.max_in_flight_per_endpoint).unwrap_or(u32::MAX);
    let mut tasks = JoinSet::new();
    while !*shutdown.borrow() {
        while tasks.try_join_next().is_some() {}
        let mut sleep = IDLE_POLL;
        let room = lanes.room().min(CLAIM_BATCH);
        if room > 0 {
            let now = state.now();
            let lease_until = now.saturating_add(lease);
            let limit = u32::try_from(room).unwrap_or(u32::MAX);
            let rooms = lanes.rooms();
            match state
                .store
                .claim_due(now, lease_until, limit, per_endpoint, &rooms)
                .await
            {
                Ok(claim) => {
                    let claimed = claim.due.len();
                    for due in claim.due {
                        let ticket = lanes.ticket(&due.endpoint_id);
                        tasks.spawn(deliver_one(
                            state.clone(),
                            Leased { due, lease_until },
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

/// A claimed delivery and the end of its lease.
struct Leased {
    due: DueDelivery,
    lease_until: Timestamp,
}

async fn deliver_one(
    state: AppState,
    Leased { due, lease_until }: Leased,
    ticket: Ticket,
    records: mpsc::Sender<Record>,
    mut shutdown: watch::Receiver<bool>,
) {
    let record = tokio::select! {
        biased;
        _ = async { shutdown.wait_for(|stop| *stop).await.is_ok() } => Record::Released(due.id),
        slots = ticket.slots() => {
            let must_end_by = state
                .now()
                .saturating_add(state.config.delivery_timeout + RECORD_ALLOWANCE);
            if must_end_by > lease_until {
                // Too late to finish within the lease: another node could send it meanwhile.
                tracing::debug!(delivery = due.id.0, "lease nearly over before a slot was free; giving it back");
                Record::Released(due.id)
            } else {
                let outcome = attempt(&state, &due).await;
                drop(slots);
                Record::Attempted(Box::new(outcome))
            }
        }
    };
    drop(ticket);
    let _ = records.send(record).await;
}
