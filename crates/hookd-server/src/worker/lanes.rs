//! Lanes: how much delivery work each endpoint, and the whole worker, may have at once.
//!
//! Every endpoint gets its own lane: at most `per_endpoint` requests in flight and as many
//! waiting behind them. A slow or dead endpoint fills only its own lane; the dispatcher stops
//! claiming for it until it drains, so the others keep going at full speed.
//!
//! Lanes see only this node. On a shared database the claim keeps each endpoint's leases over
//! all nodes within `per_endpoint`, so a lane there never holds more than it can send at once.
//!
//! Lanes also say where the commit loop may hand new deliveries straight to the worker (see
//! `Handover`): only to a lane with room, and only to an endpoint with nothing due in the store
//! that a claim has not taken yet, so new deliveries never pass an endpoint's backlog or its
//! released deliveries. They track which endpoints may have such deliveries: all of them until
//! the first claim finds the queue drained, then each endpoint the commit loop queued
//! deliveries for, until a claim takes all that is due for it.
//!
//! An endpoint whose circuit is open (see `circuit`) gets no room, or room for its one probe.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use hookd_core::{EndpointId, Timestamp};
use hookd_store::Handoff;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use super::circuit::{Circuits, Heard};

pub struct Lanes {
    per_endpoint: usize,
    global_cap: usize,
    global: Arc<Semaphore>,
    outstanding: Arc<AtomicUsize>,
    lanes: Mutex<HashMap<EndpointId, Arc<Lane>>>,
    queued: Mutex<Queued>,
    wake: Arc<Notify>,
    circuits: Arc<Circuits>,
}

/// Which endpoints may have deliveries due in the store that no claim has taken.
struct Queued {
    /// Every endpoint may (at start-up, before a claim drained the queue).
    all: bool,
    endpoints: HashSet<EndpointId>,
    /// Bumped whenever endpoints are added, so a claim that ran meanwhile clears nothing.
    generation: u64,
}

struct Lane {
    endpoint: EndpointId,
    slots: Arc<Semaphore>,
    outstanding: AtomicUsize,
}

/// A delivery's place in its lane, from claim until its attempt is done.
pub struct Ticket {
    lane: Arc<Lane>,
    lane_cap: usize,
    global: Arc<Semaphore>,
    outstanding: Arc<AtomicUsize>,
    global_cap: usize,
    wake: Arc<Notify>,
    circuits: Arc<Circuits>,
    /// The probe of its endpoint's open circuit, until what it heard is told.
    probe: bool,
}

/// Permission to send now: a slot in the endpoint's lane and one overall.
pub struct Slots {
    _lane: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

impl Lanes {
    pub fn new(
        per_endpoint: usize,
        max_in_flight: usize,
        wake: Arc<Notify>,
        circuits: Arc<Circuits>,
    ) -> Lanes {
        Lanes {
            per_endpoint,
            global_cap: max_in_flight * 2,
            global: Arc::new(Semaphore::new(max_in_flight)),
            outstanding: Arc::new(AtomicUsize::new(0)),
            lanes: Mutex::new(HashMap::new()),
            queued: Mutex::new(Queued {
                all: true,
                endpoints: HashSet::new(),
                generation: 0,
            }),
            wake,
            circuits,
        }
    }

    /// How many more deliveries may be claimed now.
    pub fn room(&self) -> usize {
        self.global_cap
            .saturating_sub(self.outstanding.load(Ordering::Acquire))
    }

    /// The room left in each lane that has deliveries outstanding (0: full) or whose circuit
    /// is open, for the next claim; an endpoint not listed has a whole lane's room. Also
    /// forgets idle lanes.
    pub fn rooms(&self, now: Timestamp) -> Vec<(EndpointId, u32)> {
        let mut rooms: HashMap<EndpointId, u32> = {
            let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
            lanes.retain(|_, lane| lane.outstanding.load(Ordering::Acquire) > 0);
            lanes
                .iter()
                .map(|(id, lane)| {
                    let room = self
                        .lane_cap()
                        .saturating_sub(lane.outstanding.load(Ordering::Acquire));
                    (id.clone(), u32::try_from(room).unwrap_or(u32::MAX))
                })
                .collect()
        };
        for (id, cap) in self.circuits.caps(now) {
            let room = rooms.entry(id).or_insert(cap);
            *room = (*room).min(cap);
        }
        rooms.into_iter().collect()
    }

    /// When the dispatcher must look for a probe to send, if a circuit pauses now.
    pub fn next_probe(&self, now: Timestamp) -> Option<Timestamp> {
        self.circuits.next_probe(now)
    }

    /// Where new deliveries may be handed over now, leased until `lease_until`: each lane
    /// with deliveries outstanding its room, endpoints that may have deliveries queued in the
    /// store none, any other a whole lane. `None` while any endpoint may have deliveries
    /// queued, or there is no room at all.
    pub fn offer(&self, now: Timestamp, lease_until: Timestamp) -> Option<Handoff> {
        let limit = u32::try_from(self.room()).unwrap_or(u32::MAX);
        let queued = self.queued.lock().unwrap_or_else(|e| e.into_inner());
        if queued.all || limit == 0 {
            return None;
        }
        let mut rooms = self.rooms(now);
        for (id, room) in &mut rooms {
            if queued.endpoints.contains(id) {
                *room = 0;
            }
        }
        let listed: HashSet<EndpointId> = rooms.iter().map(|(id, _)| id.clone()).collect();
        rooms.extend(
            queued
                .endpoints
                .iter()
                .filter(|id| !listed.contains(*id))
                .map(|id| (id.clone(), 0)),
        );
        Some(Handoff {
            now,
            lease_until,
            rooms,
            default_room: u32::try_from(self.lane_cap()).unwrap_or(u32::MAX),
            limit,
        })
    }

    /// Notes that deliveries to `endpoints` were queued in the store rather than handed over.
    pub fn queued(&self, endpoints: &[EndpointId]) {
        if endpoints.is_empty() {
            return;
        }
        let mut queued = self.queued.lock().unwrap_or_else(|e| e.into_inner());
        queued.endpoints.extend(endpoints.iter().cloned());
        queued.generation += 1;
    }

    /// Whether the endpoint's lane could take another delivery now. (A full lane wakes the
    /// dispatcher when it has room again, a pausing circuit when its probe may go.)
    pub fn has_room(&self, endpoint: &EndpointId, now: Timestamp) -> bool {
        let outstanding = {
            let lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
            lanes
                .get(endpoint)
                .map_or(0, |lane| lane.outstanding.load(Ordering::Acquire))
        };
        outstanding < self.lane_cap() && self.room() > 0 && self.circuits.admits(endpoint, now)
    }

    /// Taken before a claim: hand to `claimed` after it.
    pub fn generation(&self) -> u64 {
        self.queued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .generation
    }

    /// After a claim of at most `limit` with the lanes' `rooms` (as `rooms()` gave them, taken
    /// with `generation` before the claim): an endpoint that was given room and got fewer
    /// deliveries than that has none due left in the store. A claim cut short by its limit, one
    /// during which deliveries were queued, or one that may have left an endpoint rows due
    /// (`left_due`, from `Claim::left_due`) proves nothing.
    pub fn claimed(
        &self,
        generation: u64,
        rooms: &[(EndpointId, u32)],
        limit: usize,
        due: &[hookd_store::DueDelivery],
        left_due: bool,
    ) {
        if due.len() >= limit || left_due {
            return;
        }
        let mut queued = self.queued.lock().unwrap_or_else(|e| e.into_inner());
        if queued.generation != generation {
            return;
        }
        let mut taken: HashMap<&EndpointId, usize> = HashMap::new();
        for delivery in due {
            *taken.entry(&delivery.endpoint_id).or_default() += 1;
        }
        let rooms: HashMap<&EndpointId, usize> = rooms
            .iter()
            .map(|(id, room)| (id, *room as usize))
            .collect();
        let lane_cap = self.lane_cap();
        let still_due = |id: &EndpointId| {
            let room = rooms.get(id).copied().unwrap_or(lane_cap);
            room == 0 || taken.get(id).copied().unwrap_or(0) >= room
        };
        if queued.all {
            // The endpoints passed over, or given all their room, may have more.
            queued.all = false;
            let maybe: HashSet<EndpointId> = rooms
                .keys()
                .chain(taken.keys())
                .filter(|id| still_due(id))
                .map(|id| (*id).clone())
                .collect();
            queued.endpoints = maybe;
        } else {
            queued.endpoints.retain(|id| still_due(id));
        }
    }

    fn lane_cap(&self) -> usize {
        self.per_endpoint * 2
    }

    /// Takes a place in the endpoint's lane for one claimed delivery.
    pub fn ticket(&self, endpoint: &EndpointId, now: Timestamp) -> Ticket {
        let lane = {
            let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
            lanes
                .entry(endpoint.clone())
                .or_insert_with(|| {
                    Arc::new(Lane {
                        endpoint: endpoint.clone(),
                        slots: Arc::new(Semaphore::new(self.per_endpoint)),
                        outstanding: AtomicUsize::new(0),
                    })
                })
                .clone()
        };
        lane.outstanding.fetch_add(1, Ordering::AcqRel);
        self.outstanding.fetch_add(1, Ordering::AcqRel);
        Ticket {
            lane,
            lane_cap: self.lane_cap(),
            global: self.global.clone(),
            outstanding: self.outstanding.clone(),
            global_cap: self.global_cap,
            wake: self.wake.clone(),
            circuits: self.circuits.clone(),
            probe: self.circuits.sending(endpoint, now),
        }
    }
}

impl Ticket {
    /// Tells the endpoint's circuit what the attempt heard.
    pub fn heard(&mut self, heard: Heard, now: Timestamp) {
        if std::mem::take(&mut self.probe) {
            self.circuits.probe_heard(&self.lane.endpoint, heard, now);
        } else {
            self.circuits.heard(&self.lane.endpoint, heard, now);
        }
    }

    /// Waits for a free slot in the lane and overall.
    pub async fn slots(&self) -> Slots {
        let lane = self
            .lane
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("lane semaphores are never closed");
        let global = self
            .global
            .clone()
            .acquire_owned()
            .await
            .expect("the global semaphore is never closed");
        Slots {
            _lane: lane,
            _global: global,
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.probe {
            self.circuits.given_back(&self.lane.endpoint);
        }
        let lane_before = self.lane.outstanding.fetch_sub(1, Ordering::AcqRel);
        let global_before = self.outstanding.fetch_sub(1, Ordering::AcqRel);
        if lane_before == self.lane_cap || global_before == self.global_cap {
            // Room again where there was none: the dispatcher may claim more.
            self.wake.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use hookd_core::{AppId, MessageId, TriggerType};
    use hookd_store::{DeliveryId, DueDelivery};

    use super::*;
    use crate::config::Breaker;

    fn circuits() -> Circuits {
        Circuits::new(Breaker {
            after: 2,
            pause: std::time::Duration::from_secs(5),
            max_pause: std::time::Duration::from_secs(60),
        })
    }

    fn lanes() -> Lanes {
        // 2 in flight per endpoint, so a lane holds 4; 8 in flight overall, so room for 16.
        Lanes::new(2, 8, Arc::new(Notify::new()), Arc::new(circuits()))
    }

    fn endpoint(n: u8) -> EndpointId {
        EndpointId::from_stored(format!("ep_{n}"))
    }

    fn due(endpoint: &EndpointId) -> DueDelivery {
        DueDelivery {
            id: DeliveryId(1),
            app_id: AppId::from_stored("app_1".into()),
            msg_id: MessageId::from_stored("msg_1".into()),
            endpoint_id: endpoint.clone(),
            event_type: "a".into(),
            payload: "{}".into(),
            url: "http://127.0.0.1:1/".into(),
            secrets: Vec::new(),
            headers: Default::default(),
            attempts_made: 0,
            trigger: TriggerType::Scheduled,
        }
    }

    /// Runs a claim that found `taken` and drained what the lanes let it take.
    fn drained(lanes: &Lanes, taken: &[DueDelivery]) {
        let generation = lanes.generation();
        let rooms = lanes.rooms(Timestamp(0));
        lanes.claimed(generation, &rooms, 16, taken, false);
    }

    fn offer_of(lanes: &Lanes) -> Option<Handoff> {
        lanes.offer(Timestamp(0), Timestamp(1))
    }

    fn room_of(offer: &Handoff, endpoint: &EndpointId) -> u32 {
        offer
            .rooms
            .iter()
            .find(|(id, _)| id == endpoint)
            .map_or(offer.default_room, |(_, room)| *room)
    }

    #[test]
    fn nothing_is_handed_over_until_a_claim_finds_the_queue_drained() {
        let lanes = lanes();
        assert!(offer_of(&lanes).is_none(), "the store may hold a backlog");

        drained(&lanes, &[]);

        let offer = offer_of(&lanes).expect("an offer once drained");
        assert_eq!(offer.default_room, 4);
        assert_eq!(offer.limit, 16);
        assert!(offer.rooms.is_empty());
    }

    #[test]
    fn an_endpoint_with_deliveries_queued_gets_none_until_a_claim_takes_them() {
        let lanes = lanes();
        drained(&lanes, &[]);
        let (busy, other) = (endpoint(1), endpoint(2));

        lanes.queued(std::slice::from_ref(&busy));
        let offer = offer_of(&lanes).unwrap();
        assert_eq!(room_of(&offer, &busy), 0);
        assert_eq!(room_of(&offer, &other), 4);

        // A claim that took all the lane could hold proves nothing: more may be due.
        let full: Vec<DueDelivery> = (0..4).map(|_| due(&busy)).collect();
        drained(&lanes, &full);
        let tickets: Vec<Ticket> = full
            .iter()
            .map(|d| lanes.ticket(&d.endpoint_id, Timestamp(0)))
            .collect();
        assert_eq!(room_of(&offer_of(&lanes).unwrap(), &busy), 0);
        drop(tickets);

        // One that took fewer than the room did: the endpoint's queue is empty.
        drained(&lanes, &[due(&busy)]);
        assert_eq!(room_of(&offer_of(&lanes).unwrap(), &busy), 4);
    }

    #[test]
    fn a_shared_claim_that_left_rows_due_clears_nothing() {
        let lanes = lanes();
        drained(&lanes, &[]);
        let (shared, light) = (endpoint(1), endpoint(2));
        lanes.queued(&[shared.clone(), light.clone()]);

        // Each got fewer than its room of 4, but rows are due still, of one or the other.
        let generation = lanes.generation();
        let rooms = lanes.rooms(Timestamp(0));
        let taken = [due(&shared), due(&shared), due(&light)];
        lanes.claimed(generation, &rooms, 16, &taken, true);
        let offer = offer_of(&lanes).unwrap();
        assert_eq!(room_of(&offer, &shared), 0, "still queued");
        assert_eq!(room_of(&offer, &light), 0, "still queued");

        // The same claim with nothing left due: both are drained.
        let generation = lanes.generation();
        lanes.claimed(generation, &rooms, 16, &taken, false);
        let offer = offer_of(&lanes).unwrap();
        assert_eq!(room_of(&offer, &shared), 4);
        assert_eq!(room_of(&offer, &light), 4);
    }

    #[test]
    fn a_claim_during_which_deliveries_were_queued_clears_nothing() {
        let lanes = lanes();
        drained(&lanes, &[]);
        let ep = endpoint(1);
        lanes.queued(std::slice::from_ref(&ep));

        let generation = lanes.generation();
        let rooms = lanes.rooms(Timestamp(0));
        lanes.queued(std::slice::from_ref(&ep));
        lanes.claimed(generation, &rooms, 16, &[], false);

        assert_eq!(room_of(&offer_of(&lanes).unwrap(), &ep), 0);
    }

    #[test]
    fn a_claim_cut_short_by_its_limit_clears_nothing() {
        let lanes = lanes();
        let ep = endpoint(1);
        let generation = lanes.generation();
        lanes.claimed(generation, &[], 2, &[due(&ep), due(&endpoint(2))], false);
        assert!(offer_of(&lanes).is_none());
    }

    #[test]
    fn handed_over_deliveries_fill_their_lane_and_the_overall_room() {
        let lanes = lanes();
        drained(&lanes, &[]);
        let ep = endpoint(1);

        let tickets: Vec<Ticket> = (0..3).map(|_| lanes.ticket(&ep, Timestamp(0))).collect();
        let offer = offer_of(&lanes).unwrap();
        assert_eq!(room_of(&offer, &ep), 1);
        assert_eq!(offer.limit, 13);

        let more: Vec<Ticket> = (0..13)
            .map(|n| lanes.ticket(&endpoint(n + 2), Timestamp(0)))
            .collect();
        assert!(offer_of(&lanes).is_none(), "no room left overall");
        drop((tickets, more));
    }

    #[test]
    fn an_open_circuit_gets_no_room_then_room_for_one_probe() {
        let lanes = lanes();
        drained(&lanes, &[]);
        let (dead, other) = (endpoint(1), endpoint(2));
        for _ in 0..2 {
            let mut ticket = lanes.ticket(&dead, Timestamp(0));
            ticket.heard(Heard::Nothing, Timestamp(0));
        }
        let offer = offer_of(&lanes).unwrap();
        assert_eq!(room_of(&offer, &dead), 0, "open: new deliveries are queued");
        assert_eq!(room_of(&offer, &other), 4);
        assert!(!lanes.has_room(&dead, Timestamp(0)));
        assert_eq!(lanes.next_probe(Timestamp(0)), Some(Timestamp(5_000)));

        let later = Timestamp(5_000);
        assert_eq!(lanes.rooms(later), vec![(dead.clone(), 1)], "one probe");
        let mut probe = lanes.ticket(&dead, later);
        assert_eq!(lanes.rooms(later), vec![(dead.clone(), 0)]);
        probe.heard(Heard::Answer, later);
        drop(probe);
        assert!(lanes.rooms(later).is_empty(), "closed: a whole lane again");
        assert!(lanes.has_room(&dead, later));
    }
}
