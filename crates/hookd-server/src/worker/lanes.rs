//! Lanes: how much delivery work each endpoint, and the whole worker, may have at once.
//!
//! Every endpoint gets its own lane: at most `per_endpoint` requests in flight and as many
//! waiting behind them. A slow or dead endpoint fills only its own lane; the dispatcher stops
//! claiming for it until it drains, so the others keep going at full speed.
//!
//! Lanes see only this node. On a shared database the claim keeps each endpoint's leases over
//! all nodes within `per_endpoint`, so a lane there never holds more than it can send at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use hookd_core::EndpointId;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

pub struct Lanes {
    per_endpoint: usize,
    global_cap: usize,
    global: Arc<Semaphore>,
    outstanding: Arc<AtomicUsize>,
    lanes: Mutex<HashMap<EndpointId, Arc<Lane>>>,
    wake: Arc<Notify>,
}

struct Lane {
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
}

/// Permission to send now: a slot in the endpoint's lane and one overall.
pub struct Slots {
    _lane: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

impl Lanes {
    pub fn new(per_endpoint: usize, max_in_flight: usize, wake: Arc<Notify>) -> Lanes {
        Lanes {
            per_endpoint,
            global_cap: max_in_flight * 2,
            global: Arc::new(Semaphore::new(max_in_flight)),
            outstanding: Arc::new(AtomicUsize::new(0)),
            lanes: Mutex::new(HashMap::new()),
            wake,
        }
    }

    /// How many more deliveries may be claimed now.
    pub fn room(&self) -> usize {
        self.global_cap
            .saturating_sub(self.outstanding.load(Ordering::Acquire))
    }

    /// The room left in each lane that has deliveries outstanding (0: full), for the next
    /// claim; an endpoint not listed has a whole lane's room. Also forgets idle lanes.
    pub fn rooms(&self) -> Vec<(EndpointId, u32)> {
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
    }

    fn lane_cap(&self) -> usize {
        self.per_endpoint * 2
    }

    /// Takes a place in the endpoint's lane for one claimed delivery.
    pub fn ticket(&self, endpoint: &EndpointId) -> Ticket {
        let lane = {
            let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
            lanes
                .entry(endpoint.clone())
                .or_insert_with(|| {
                    Arc::new(Lane {
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
        }
    }
}

impl Ticket {
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
        let lane_before = self.lane.outstanding.fetch_sub(1, Ordering::AcqRel);
        let global_before = self.outstanding.fetch_sub(1, Ordering::AcqRel);
        if lane_before == self.lane_cap || global_before == self.global_cap {
            // Room again where there was none: the dispatcher may claim more.
            self.wake.notify_one();
        }
    }
}
