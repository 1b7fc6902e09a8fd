//! Recent: what the hot path looked up a moment ago, kept for a short while so a burst of
//! requests does not ask the store the same question thousands of times a second.
//!
//! Only found things are kept (an unknown token or application is asked about every time, so
//! nobody can fill the map with misses), each for `ttl`, and the map is emptied when it holds
//! `capacity` entries. A change made through this node forgets what it changes at once; one
//! made on another node is seen here within `ttl`. The caller says what time it is, so the
//! tests need no sleep.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Recent<K, V> {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<K, (V, Instant)>>,
}

impl<K: Eq + Hash, V: Clone> Recent<K, V> {
    pub fn new(ttl: Duration, capacity: usize) -> Recent<K, V> {
        Recent {
            ttl,
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The value stored under `key` less than `ttl` before `now`.
    pub fn get<Q>(&self, key: &Q, now: Instant) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(_, stored)| now.saturating_duration_since(*stored) < self.ttl)
            .map(|(value, _)| value.clone())
    }

    pub fn put(&self, key: K, value: V, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.capacity {
            entries.clear();
        }
        entries.insert(key, (value, now));
    }

    pub fn forget<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_lives_for_its_ttl_and_can_be_forgotten() {
        let ttl = Duration::from_millis(50);
        let recent = Recent::new(ttl, 10);
        let start = Instant::now();
        recent.put("a".to_owned(), 1, start);
        recent.put("b".to_owned(), 2, start);
        assert_eq!(recent.get("a", start), Some(1));
        recent.forget("a");
        assert_eq!(recent.get("a", start), None);
        let almost = start + ttl - Duration::from_millis(1);
        assert_eq!(recent.get("b", almost), Some(2), "within its ttl");
        assert_eq!(recent.get("b", start + ttl), None, "expired");
    }

    #[test]
    fn a_full_map_starts_over() {
        let recent = Recent::new(Duration::from_secs(60), 2);
        let now = Instant::now();
        recent.put(1, 'a', now);
        recent.put(2, 'b', now);
        recent.put(3, 'c', now);
        assert_eq!(
            (recent.get(&1, now), recent.get(&3, now)),
            (None, Some('c'))
        );
        recent.clear();
        assert_eq!(recent.get(&3, now), None);
    }
}
