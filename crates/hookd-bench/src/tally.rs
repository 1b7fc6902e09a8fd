//! Tally: what the receiver counts. One bit per (endpoint, event) for duplicates and missing,
//! one latency histogram, and the times of the first and last delivery.
//!
//! A delivery is identified by its `webhook-id`. hookd assigns that id, so the client never
//! learns it without keeping a map of a million strings; instead each event carries its `seq`
//! and the client sends every seq exactly once, so (endpoint, seq) names the same delivery as
//! (endpoint, webhook-id) does, and a bitmap of 125 KB per million counts it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::payload::Clock;

/// One bit per index, settable from many tasks at once.
pub struct Bitmap {
    words: Vec<AtomicU64>,
}

impl Bitmap {
    pub fn new(bits: usize) -> Bitmap {
        Bitmap {
            words: (0..bits.div_ceil(64)).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Sets the bit; true if it was clear before.
    pub fn set(&self, index: usize) -> bool {
        let mask = 1u64 << (index % 64);
        self.words[index / 64].fetch_or(mask, Ordering::AcqRel) & mask == 0
    }

    pub fn get(&self, index: usize) -> bool {
        self.words[index / 64].load(Ordering::Acquire) & (1u64 << (index % 64)) != 0
    }
}

pub struct Tally {
    pub clock: Clock,
    events: usize,
    endpoints: usize,
    seen: Bitmap,
    unique: AtomicU64,
    duplicates: AtomicU64,
    unexpected: AtomicU64,
    bad_signatures: AtomicU64,
    first_us: AtomicU64,
    last_us: AtomicU64,
    latency: Mutex<Histogram<u64>>,
}

/// What the tally holds at the end of a run.
#[derive(Clone, Debug)]
pub struct Counts {
    pub unique: u64,
    pub duplicates: u64,
    pub unexpected: u64,
    pub bad_signatures: u64,
    pub first_us: Option<u64>,
    pub last_us: Option<u64>,
    pub latency: Histogram<u64>,
}

impl Tally {
    /// A tally for `events` events, each to each of `endpoints` counted endpoints.
    pub fn new(clock: Clock, events: usize, endpoints: usize) -> Tally {
        Tally {
            clock,
            events,
            endpoints,
            seen: Bitmap::new(events * endpoints),
            unique: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            unexpected: AtomicU64::new(0),
            bad_signatures: AtomicU64::new(0),
            first_us: AtomicU64::new(u64::MAX),
            last_us: AtomicU64::new(0),
            // 1 µs to 1 hour, 3 significant digits: about 200 KB.
            latency: Mutex::new(Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("bounds")),
        }
    }

    /// Counts one delivery of event `seq` to endpoint `endpoint`, sent at `sent_us`.
    pub fn record(&self, endpoint: usize, seq: u64, sent_us: u64) {
        let now = self.clock.now_us();
        let Ok(seq) = usize::try_from(seq) else {
            self.unexpected.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if endpoint >= self.endpoints || seq >= self.events {
            self.unexpected.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if !self.seen.set(endpoint * self.events + seq) {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.unique.fetch_add(1, Ordering::Relaxed);
        self.first_us.fetch_min(now, Ordering::Relaxed);
        self.last_us.fetch_max(now, Ordering::Relaxed);
        let waited = now.saturating_sub(sent_us).max(1);
        let mut latency = self.latency.lock().unwrap_or_else(|e| e.into_inner());
        latency.saturating_record(waited);
    }

    pub fn unexpected(&self) {
        self.unexpected.fetch_add(1, Ordering::Relaxed);
    }

    pub fn bad_signature(&self) {
        self.bad_signatures.fetch_add(1, Ordering::Relaxed);
    }

    /// How many endpoints each event is counted for.
    pub fn endpoints(&self) -> usize {
        self.endpoints
    }

    pub fn unique(&self) -> u64 {
        self.unique.load(Ordering::Relaxed)
    }

    pub fn duplicates(&self) -> u64 {
        self.duplicates.load(Ordering::Relaxed)
    }

    /// How many of the `accepted` events did not reach every counted endpoint.
    pub fn missing(&self, accepted: &Bitmap) -> u64 {
        let mut missing = 0;
        for seq in (0..self.events).filter(|&seq| accepted.get(seq)) {
            for endpoint in 0..self.endpoints {
                if !self.seen.get(endpoint * self.events + seq) {
                    missing += 1;
                }
            }
        }
        missing
    }

    /// Waits until `expected` unique deliveries arrived, or none arrived for `stall`.
    pub async fn wait_for(&self, expected: u64, stall: Duration) {
        let mut last = self.unique();
        let mut last_change = tokio::time::Instant::now();
        while self.unique() < expected {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let now = self.unique();
            if now != last {
                last = now;
                last_change = tokio::time::Instant::now();
            } else if last_change.elapsed() >= stall {
                return;
            }
        }
    }

    pub fn counts(&self) -> Counts {
        let first = self.first_us.load(Ordering::Relaxed);
        Counts {
            unique: self.unique(),
            duplicates: self.duplicates.load(Ordering::Relaxed),
            unexpected: self.unexpected.load(Ordering::Relaxed),
            bad_signatures: self.bad_signatures.load(Ordering::Relaxed),
            first_us: (first != u64::MAX).then_some(first),
            last_us: (first != u64::MAX).then(|| self.last_us.load(Ordering::Relaxed)),
            latency: self
                .latency
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_delivery_is_a_duplicate_and_an_undelivered_event_is_missing() {
        let tally = Tally::new(Clock::start(), 3, 2);
        let accepted = Bitmap::new(3);
        for seq in 0..3 {
            accepted.set(seq);
        }
        tally.record(0, 0, 0);
        tally.record(0, 0, 0);
        tally.record(1, 0, 0);
        tally.record(0, 1, 0);
        tally.record(5, 1, 0);
        let counts = tally.counts();
        assert_eq!(
            (counts.unique, counts.duplicates, counts.unexpected),
            (3, 1, 1)
        );
        // Missing: (1, seq 1), (0, seq 2), (1, seq 2).
        assert_eq!(tally.missing(&accepted), 3);
    }
}
