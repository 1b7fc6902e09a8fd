//! The delivery worker: claims due deliveries, runs each in its endpoint's lane, and hands the
//! results to the commit loop.
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
//!
//! The worker runs on `WorkerState`, its own handles, and reads the time from its clock; the
//! API reaches it only through `WorkerHandle` (wake it, close an endpoint's circuit), and
//! tests step it with `WorkerHandle::look`.

mod circuit;
mod deliver;
mod lanes;
mod look;
mod record;
mod state;
mod wakeups;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use hookd_core::{EndpointId, Timestamp};
use hookd_store::{DeliveryId, DueDelivery, Handoff, Wakeups, Written};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

pub use circuit::Circuits;
use circuit::Heard;
pub use deliver::{RESPONSE_CAP, attempt, signature_headers};
use lanes::{Lanes, Ticket};
use look::Looks;
pub use record::{Record, Records};
pub use state::WorkerState;

use crate::config::{Config, RECORD_ALLOWANCE};
use crate::error_chain::error_chain;

/// The most deliveries one claim takes.
const CLAIM_BATCH: usize = 256;
/// The longest the dispatcher sleeps without looking at the queue: a safety net only, and what
/// finds the leases a dead node left once they run out.
const IDLE_POLL: Duration = Duration::from_secs(5);
/// The shortest sleep until a delivery falls due of its own accord (a retry): retries falling
/// due a few milliseconds apart are claimed together, not one claim each. New deliveries do
/// not wait for it: their commit wakes the dispatcher.
const DUE_BATCHING: Duration = Duration::from_millis(50);

/// Starts the worker. It stops claiming when `shutdown` turns true, lets requests in flight
/// finish, gives back what it claimed but did not start, and ends when all is recorded.
/// `wakeups`, on a shared database, wake it when other nodes queue work.
pub fn spawn(
    state: WorkerState,
    dispatch: Dispatch,
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
    tokio::spawn(run(Arc::new(state), dispatch, shutdown))
}

/// What the rest of the node may ask of its worker. On a node that runs none, it does nothing.
#[derive(Clone)]
pub struct WorkerHandle {
    wake: Arc<Notify>,
    /// Which endpoints this node's worker holds deliveries for, as they do not answer.
    circuits: Arc<Circuits>,
    looks: Arc<Looks>,
}

impl WorkerHandle {
    pub fn new(wake: Arc<Notify>, circuits: Arc<Circuits>) -> WorkerHandle {
        let looks = Arc::new(Looks::new(wake.clone()));
        WorkerHandle {
            wake,
            circuits,
            looks,
        }
    }

    /// Has the dispatcher look at the queue now; resolves once it has, with the number of
    /// deliveries it has started so far (see `Looks::look`). For tests that step the worker.
    pub async fn look(&self) -> u64 {
        self.looks.look().await
    }

    /// Deliveries may have fallen due: let the dispatcher look.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Someone changed the endpoint or asked for its deliveries now: stop holding them if it
    /// did not answer lately, and let the worker look.
    pub fn endpoint_touched(&self, endpoint: &EndpointId) {
        self.circuits.close(endpoint);
        self.wake.notify_one();
    }

    /// The endpoints whose deliveries this node holds as they stopped answering, each with its
    /// next probe.
    pub fn held_endpoints(&self) -> Vec<(EndpointId, Option<Timestamp>)> {
        self.circuits.held()
    }
}

/// When the dispatcher next looks at the queue of its own accord, so that a retry recorded for
/// later needs no wake-up (each one costs a claim that finds nothing).
#[derive(Clone)]
pub struct NextLook(Arc<AtomicI64>);

impl NextLook {
    fn new() -> NextLook {
        NextLook(Arc::new(AtomicI64::new(i64::MAX)))
    }

    /// Whether a delivery due at `at` needs the dispatcher woken: it does not look by then.
    pub fn needs_wake(&self, at: Timestamp) -> bool {
        at.as_millis() < self.0.load(Ordering::Acquire)
    }

    /// While a claim runs, anything recorded may have been missed by it: wake for all.
    fn claiming(&self) {
        self.0.store(i64::MAX, Ordering::Release);
    }

    fn sleeping_until(&self, at: Timestamp) {
        self.0.store(at.as_millis(), Ordering::Release);
    }
}

/// The lanes of a node that runs the worker, where the commit loop can hand it new
/// deliveries (only with a store that `hands_over`: one process alone), and when the
/// dispatcher looks next.
pub fn lanes(
    config: &Config,
    worker: &WorkerHandle,
    hands_over: bool,
) -> (Dispatch, Option<Handover>, NextLook) {
    let lanes = Arc::new(Lanes::new(
        config.max_in_flight_per_endpoint,
        config.max_in_flight,
        worker.wake.clone(),
        worker.circuits.clone(),
    ));
    let (sender, handed) = mpsc::unbounded_channel();
    let handover = hands_over.then(|| Handover {
        lanes: lanes.clone(),
        lease: config.delivery_lease,
        sender,
    });
    let next_look = NextLook::new();
    let dispatch = Dispatch {
        lanes,
        handed,
        next_look: next_look.clone(),
        looks: worker.looks.clone(),
    };
    (dispatch, handover, next_look)
}

/// The dispatcher's side of the lanes: what it claims into, and the deliveries handed over.
pub struct Dispatch {
    lanes: Arc<Lanes>,
    handed: mpsc::UnboundedReceiver<Handed>,
    next_look: NextLook,
    looks: Arc<Looks>,
}

/// The commit loop's side: it offers new deliveries to the worker as it stores them, leased
/// already, so no claim has to read them back.
pub struct Handover {
    lanes: Arc<Lanes>,
    lease: Duration,
    sender: mpsc::UnboundedSender<Handed>,
}

/// A delivery handed over, with its place in its lane.
struct Handed {
    leased: Leased,
    ticket: Ticket,
}

impl Handover {
    /// What the next batch may hand over, if anything.
    pub fn offer(&self, now: Timestamp) -> Option<Handoff> {
        if self.sender.is_closed() {
            return None;
        }
        self.lanes.offer(now, now.saturating_add(self.lease))
    }

    /// Takes what a batch written with `handoff` handed over, and notes where it queued
    /// deliveries instead. Returns whether a claim should take those now (an endpoint whose
    /// lane is full is claimed for when it has room again), and the deliveries the worker can
    /// no longer take (it stopped): they must be given back.
    pub fn accept(&self, handoff: &Handoff, written: &mut Written) -> (bool, Vec<DeliveryId>) {
        self.lanes.queued(&written.queued);
        let mut refused = Vec::new();
        for due in written.handed.drain(..) {
            let ticket = self.lanes.ticket(&due.endpoint_id, handoff.now);
            let handed = Handed {
                leased: Leased {
                    due,
                    lease_until: handoff.lease_until,
                },
                ticket,
            };
            if let Err(mpsc::error::SendError(handed)) = self.sender.send(handed) {
                refused.push(handed.leased.due.id);
            }
        }
        // After the tickets: a lane this batch filled needs no claim.
        let claim = written
            .queued
            .iter()
            .any(|id| self.lanes.has_room(id, handoff.now));
        (claim, refused)
    }
}

async fn run(state: Arc<WorkerState>, dispatch: Dispatch, mut shutdown: watch::Receiver<bool>) {
    let Dispatch {
        lanes,
        handed: mut handover,
        next_look,
        looks,
    } = dispatch;
    let lease = state.config.delivery_lease;
    let per_endpoint = u32::try_from(state.config.max_in_flight_per_endpoint).unwrap_or(u32::MAX);
    let mut tasks = JoinSet::new();
    let mut claim_now = true;
    let mut deadline = Instant::now();
    let mut handed = Vec::new();
    let mut handing_over = true;
    // Deliveries started, and the last look answered (`Looks`).
    let (mut started, mut answered) = (0, 0);
    while !*shutdown.borrow() {
        while tasks.try_join_next().is_some() {}
        let room = lanes.room().min(CLAIM_BATCH);
        let asked = looks.asked();
        if claim_now {
            next_look.claiming();
        }
        if claim_now && room > 0 {
            let now = state.clock.now();
            let lease_until = now.saturating_add(lease);
            let limit = u32::try_from(room).unwrap_or(u32::MAX);
            let generation = lanes.generation();
            let rooms = lanes.rooms(now);
            let mut sleep = IDLE_POLL;
            match state
                .store
                .claim_due(now, lease_until, limit, per_endpoint, &rooms)
                .await
            {
                Ok(claim) => {
                    lanes.claimed(generation, &rooms, room, &claim.due, claim.left_due);
                    let claimed = claim.due.len();
                    started += claimed as u64;
                    for due in claim.due {
                        let ticket = lanes.ticket(&due.endpoint_id, now);
                        tasks.spawn(deliver_one(
                            state.clone(),
                            Leased { due, lease_until },
                            ticket,
                            shutdown.clone(),
                        ));
                    }
                    if claimed == room {
                        continue;
                    }
                    if let Some(at) = claim.next_due_at {
                        // Due already (a lane that had room left): claim again at once.
                        let until = at.since(state.clock.now());
                        sleep = if until.is_zero() {
                            until
                        } else {
                            until.clamp(DUE_BATCHING, IDLE_POLL)
                        };
                    }
                }
                Err(e) => {
                    tracing::error!(error = %error_chain(&e), "claiming deliveries failed");
                    sleep = Duration::from_secs(1);
                }
            }
            // The next due time leaves out held endpoints: look when a probe may go.
            if let Some(at) = lanes.next_probe(state.clock.now()) {
                sleep = sleep.min(at.since(state.clock.now()));
            }
            deadline = Instant::now() + sleep;
            next_look.sleeping_until(state.clock.now().saturating_add(sleep));
        } else if claim_now {
            // No room: a lane's room coming back wakes the dispatcher.
            deadline = Instant::now() + IDLE_POLL;
            next_look.sleeping_until(state.clock.now().saturating_add(IDLE_POLL));
        }
        if claim_now && asked > answered {
            // What was handed over before the look was asked for counts in its answer.
            while let Ok(Handed { leased, ticket }) = handover.try_recv() {
                tasks.spawn(deliver_one(state.clone(), leased, ticket, shutdown.clone()));
                started += 1;
            }
            looks.answer(asked, started);
            answered = asked;
        }
        // Deliveries handed over need no claim: only a wake-up or the due time makes one.
        claim_now = tokio::select! {
            _ = state.wake.notified() => true,
            _ = tokio::time::sleep_until(deadline) => true,
            // Closed at once where the store does not hand over (no sender).
            n = handover.recv_many(&mut handed, CLAIM_BATCH), if handing_over => {
                handing_over = n > 0;
                false
            }
            _ = shutdown.changed() => false,
        };
        started += handed.len() as u64;
        for Handed { leased, ticket } in handed.drain(..) {
            tasks.spawn(deliver_one(state.clone(), leased, ticket, shutdown.clone()));
        }
    }
    // What was handed over and not yet taken is given back; the commit loop gives back what
    // it hands over from now on.
    handover.close();
    while let Ok(Handed { leased, ticket }) = handover.try_recv() {
        drop(ticket);
        state.records.record(Record::Released(leased.due.id)).await;
    }
    // Their outcomes are handed to the commit loop, which writes them before the server ends.
    while tasks.join_next().await.is_some() {}
}

/// A claimed delivery and the end of its lease.
struct Leased {
    due: DueDelivery,
    lease_until: Timestamp,
}

async fn deliver_one(
    state: Arc<WorkerState>,
    Leased { due, lease_until }: Leased,
    mut ticket: Ticket,
    mut shutdown: watch::Receiver<bool>,
) {
    let record = tokio::select! {
        biased;
        _ = async { shutdown.wait_for(|stop| *stop).await.is_ok() } => Record::Released(due.id),
        slots = ticket.slots() => {
            let must_end_by = state
                .clock
                .now()
                .saturating_add(state.config.delivery_timeout + RECORD_ALLOWANCE);
            if must_end_by > lease_until {
                // Too late to finish within the lease: another node could send it meanwhile.
                tracing::debug!(delivery = due.id.0, "lease nearly over before a slot was free; giving it back");
                Record::Released(due.id)
            } else {
                let outcome = attempt(&state, &due).await;
                drop(slots);
                ticket.heard(Heard::from_failure(outcome.attempt.failure), state.clock.now());
                Record::Attempted(Box::new(outcome))
            }
        }
    };
    drop(ticket);
    state.records.record(record).await;
}
