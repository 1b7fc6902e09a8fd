//! Ids: prefixed, time-sortable identifiers (`app_`, `ep_`, `msg_`, `atmpt_`, `qtask_`).
//!
//! An id is 128 bits, the top 48 a millisecond timestamp and the rest random, written as 22
//! base62 digits after the prefix. Base62 in ASCII order sorts like the number, so ids sort by
//! creation time and pagination can walk them with `<` and `>`. The generator is monotonic: two
//! ids made in the same millisecond still sort in the order they were made.

use std::fmt;
use std::sync::Mutex;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const DIGITS: usize = 22;
const RANDOM_BITS: u32 = 80;

macro_rules! prefixed_id {
    ($name:ident, $prefix:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// Accepts a well-formed id of this kind; anything else (a uid, say) is `None`.
            pub fn parse(s: &str) -> Option<$name> {
                let digits = s.strip_prefix($prefix)?;
                (digits.len() == DIGITS && digits.bytes().all(|b| b.is_ascii_alphanumeric()))
                    .then(|| $name(s.to_owned()))
            }

            pub fn from_raw(raw: u128) -> $name {
                $name(format!("{}{}", $prefix, encode(raw)))
            }

            /// The least id made at millisecond `ms`: every id made before `ms` sorts below it,
            /// so a range of ids is a range of creation times.
            pub fn first_at(ms: i64) -> $name {
                $name::from_raw(time_bits(ms) << RANDOM_BITS)
            }

            /// An id as stored; the store trusts what it wrote itself.
            pub fn from_stored(s: String) -> $name {
                $name(s)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

prefixed_id!(AppId, "app_", "The id of an application.");
prefixed_id!(EndpointId, "ep_", "The id of an endpoint.");
prefixed_id!(
    MessageId,
    "msg_",
    "The id of a message; also the `webhook-id` of its deliveries."
);
prefixed_id!(AttemptId, "atmpt_", "The id of one delivery attempt.");
prefixed_id!(
    TaskId,
    "qtask_",
    "The id of a background task, such as an endpoint's recovery."
);

fn encode(mut n: u128) -> String {
    let mut out = [b'0'; DIGITS];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out.to_vec()).expect("base62 digits are ASCII")
}

/// The top 48 bits of an id: milliseconds since the epoch (none before it).
fn time_bits(ms: i64) -> u128 {
    u128::from(u64::try_from(ms).unwrap_or(0) & ((1 << 48) - 1))
}

/// Makes monotonic raw ids from a clock reading and random bits given by the caller.
#[derive(Debug, Default)]
pub struct IdGenerator {
    last: Mutex<u128>,
}

impl IdGenerator {
    pub fn new() -> IdGenerator {
        IdGenerator::default()
    }

    /// The next raw id: `now_ms` in the top bits, `random` below; never less than the last one.
    pub fn next_raw(&self, now_ms: i64, random: u128) -> u128 {
        let candidate =
            (time_bits(now_ms) << RANDOM_BITS) | (random & ((1u128 << RANDOM_BITS) - 1));
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let next = if candidate > *last {
            candidate
        } else {
            *last + 1
        };
        *last = next;
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_in_the_order_they_were_made_even_within_one_millisecond() {
        let generator = IdGenerator::new();
        let a = MessageId::from_raw(generator.next_raw(1_700_000_000_000, u128::MAX));
        let b = MessageId::from_raw(generator.next_raw(1_700_000_000_000, 0));
        let c = MessageId::from_raw(generator.next_raw(1_700_000_000_001, 0));
        assert!(a < b && b < c, "{a} {b} {c}");
        assert_eq!(a.as_str().len(), 4 + DIGITS);
    }

    #[test]
    fn first_at_sorts_above_every_id_made_earlier_and_not_above_any_made_then() {
        let generator = IdGenerator::new();
        let earlier = MessageId::from_raw(generator.next_raw(1_700_000_000_000, u128::MAX));
        let then = MessageId::from_raw(generator.next_raw(1_700_000_000_001, 0));
        let bound = MessageId::first_at(1_700_000_000_001);
        assert!(earlier < bound, "{earlier} {bound}");
        assert!(bound <= then, "{bound} {then}");
        assert!(MessageId::first_at(-5) <= MessageId::from_raw(0));
    }

    #[test]
    fn parse_accepts_only_well_formed_ids_of_its_kind() {
        let id = AppId::from_raw(12345);
        assert_eq!(AppId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(EndpointId::parse(id.as_str()), None);
        assert_eq!(AppId::parse("app_short"), None);
        assert_eq!(AppId::parse("my-app-uid"), None);
    }
}
