//! `RecentIds`: the last N `webhook-id`s a receiver handled, to drop the duplicates that
//! at-least-once delivery sends.
//!
//! hookd sends the same `webhook-id` on every attempt of a message, and may deliver a message
//! twice (a retry after a lost answer, a resend, a restart mid-delivery). Memory is bounded: the
//! oldest id is forgotten once `capacity` newer ones were seen, so size it to cover the retry
//! window you care about, or keep ids in your database where exactly-once matters.

use std::collections::{HashMap, VecDeque};

/// A bounded set of recently seen ids, oldest forgotten first.
///
/// Not synchronised: share it behind a `Mutex`. Record an id only once its event was handled,
/// or `forget` it when handling failed, so the sender's retry is not dropped as a duplicate.
#[derive(Debug, Clone)]
pub struct RecentIds {
    capacity: usize,
    /// Each id with the sequence number of its latest insertion.
    seen: HashMap<Box<str>, u64>,
    /// Insertions in order; an entry whose sequence number is no longer the id's latest is
    /// stale (the id was forgotten, or inserted again) and is skipped when it is evicted.
    order: VecDeque<(u64, Box<str>)>,
    next: u64,
}

impl RecentIds {
    /// Remembers up to `capacity` ids (at least one).
    pub fn new(capacity: usize) -> RecentIds {
        let capacity = capacity.max(1);
        RecentIds {
            capacity,
            seen: HashMap::with_capacity(capacity.min(4096)),
            order: VecDeque::with_capacity(capacity.min(4096)),
            next: 0,
        }
    }

    /// Records `id`; true if it was not among the remembered ids (handle the event), false if
    /// it was (a duplicate: answer 2xx and skip it).
    pub fn first_time(&mut self, id: &str) -> bool {
        if self.seen.contains_key(id) {
            return false;
        }
        let seq = self.next;
        self.next += 1;
        self.seen.insert(id.into(), seq);
        self.order.push_back((seq, id.into()));
        while self.order.len() > self.capacity {
            let Some((seq, old)) = self.order.pop_front() else {
                break;
            };
            if self.seen.get(&old) == Some(&seq) {
                self.seen.remove(&old);
            }
        }
        true
    }

    pub fn contains(&self, id: &str) -> bool {
        self.seen.contains_key(id)
    }

    /// Forgets `id`, so its next delivery is handled again; true if it was remembered.
    pub fn forget(&mut self, id: &str) -> bool {
        self.seen.remove(id).is_some()
    }

    /// How many ids are remembered now.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_new_once_and_a_duplicate_after() {
        let mut ids = RecentIds::new(10);
        assert!(ids.first_time("msg_1"));
        assert!(!ids.first_time("msg_1"));
        assert!(ids.first_time("msg_2"));
        assert!(ids.contains("msg_1"));
    }

    #[test]
    fn the_oldest_id_is_forgotten_past_capacity() {
        let mut ids = RecentIds::new(2);
        assert!(ids.first_time("a"));
        assert!(ids.first_time("b"));
        assert!(ids.first_time("c"));
        assert_eq!(ids.len(), 2);
        assert!(!ids.contains("a"));
        assert!(ids.first_time("a"), "forgotten ids count as new");
    }

    #[test]
    fn a_forgotten_id_is_handled_again() {
        let mut ids = RecentIds::new(3);
        assert!(ids.first_time("a"));
        assert!(ids.forget("a"));
        assert!(!ids.forget("a"));
        assert!(ids.first_time("a"));
        assert!(!ids.first_time("a"));
    }

    #[test]
    fn memory_stays_bounded_however_ids_are_forgotten_and_reinserted() {
        let mut ids = RecentIds::new(3);
        for round in 0..100 {
            ids.first_time("x");
            ids.forget("x");
            ids.first_time(&format!("id{round}"));
            assert!(ids.order.len() <= 3 && ids.seen.len() <= 3);
        }
        // A reinserted id survives the eviction of its own stale, older entry.
        let mut ids = RecentIds::new(2);
        ids.first_time("x");
        ids.forget("x");
        ids.first_time("x");
        ids.first_time("y");
        assert!(ids.contains("x") && ids.contains("y"));
    }
}
