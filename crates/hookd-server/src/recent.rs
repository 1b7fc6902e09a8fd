//! Recent: what the hot path looked up a moment ago, kept for a short while so a burst of
//! requests does not ask the store the same question thousands of times a second.
//!
//! Only found things are kept (an unknown token or application is asked about every time, so
//! nobody can fill the map with misses), each for `ttl`, and the map is emptied when it holds
//! `capacity` entries. A change made through this node forgets what it changes at once; one
//! made on another node is seen here within `ttl`.

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

    /// The value stored under `key` less than `ttl` ago.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(_, stored)| stored.elapsed() < self.ttl)
            .map(|(value, _)| value.clone())
    }

    pub fn put(&self, key: K, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.capacity {
            entries.clear();
        }
        entries.insert(key, (value, Instant::now()));
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
        let recent = Recent::new(Duration::from_millis(50), 10);
        recent.put("a".to_owned(), 1);
        recent.put("b".to_owned(), 2);
        assert_eq!(recent.get("a"), Some(1));
        recent.forget("a");
        assert_eq!(recent.get("a"), None);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(recent.get("b"), None, "expired");
    }

    #[test]
    fn a_full_map_starts_over() {
        let recent = Recent::new(Duration::from_secs(60), 2);
        recent.put(1, 'a');
        recent.put(2, 'b');
        recent.put(3, 'c');
        assert_eq!((recent.get(&1), recent.get(&3)), (None, Some('c')));
        recent.clear();
        assert_eq!(recent.get(&3), None);
    }
}
