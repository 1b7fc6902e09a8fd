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
                let mut id = String::with_capacity($prefix.len() + DIGITS);
                id.push_str($prefix);
                id.push_str(encode(raw).as_str());
                $name(id)
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

/// 62^10, the largest power of 62 below 2^64: the id is cut into 10-digit chunks that u64
/// arithmetic writes, since every u128 division is a call into a slow runtime routine (44 of
/// them per id, done digit by digit, were 1 % of hookd's CPU under load).
const CHUNK: u128 = 839_299_365_868_340_224;
const CHUNK_DIGITS: usize = 10;

/// The 22 base62 digits of `n`.
struct Digits([u8; DIGITS]);

impl Digits {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("base62 digits are ASCII")
    }
}

fn encode(n: u128) -> Digits {
    let mut out = [b'0'; DIGITS];
    let (high, low) = (n / CHUNK, n % CHUNK);
    let (top, middle) = (high / CHUNK, high % CHUNK);
    let chunks = [top, middle, low].map(|chunk| u64::try_from(chunk).expect("below 62^10"));
    // The last chunk fills the last 10 digits, the middle one the 10 before, the top one the
    // rest (at most 2: 62^22 > 2^128 > 62^21).
    for (i, mut chunk) in chunks.into_iter().rev().enumerate() {
        let end = DIGITS - i * CHUNK_DIGITS;
        let start = end.saturating_sub(CHUNK_DIGITS);
        for slot in out[start..end].iter_mut().rev() {
            *slot = ALPHABET[(chunk % 62) as usize];
            chunk /= 62;
        }
    }
    Digits(out)
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
    fn ids_are_the_base62_digits_of_their_number() {
        fn digit_by_digit(mut n: u128) -> String {
            let mut out = [b'0'; DIGITS];
            for slot in out.iter_mut().rev() {
                *slot = ALPHABET[(n % 62) as usize];
                n /= 62;
            }
            String::from_utf8(out.to_vec()).unwrap()
        }
        let samples = [
            0,
            1,
            61,
            62,
            CHUNK - 1,
            CHUNK,
            CHUNK * CHUNK - 1,
            CHUNK * CHUNK,
            0x0123_4567_89ab_cdef_fedc_ba98_7654_3210,
            u128::MAX,
        ];
        for n in samples {
            assert_eq!(encode(n).as_str(), digit_by_digit(n), "{n}");
        }
        assert_eq!(encode(u128::MAX).as_str(), "7n42DGM5Tflk9n8mt7Fhc7");
        assert_eq!(encode(62).as_str(), "0000000000000000000010");
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
