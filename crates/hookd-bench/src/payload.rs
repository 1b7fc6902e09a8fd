//! Payload: the event body the client sends and the receiver reads back.
//!
//! `{"seq":N,"sent_us":T,"pad":"xx…"}`, padded to the requested size. `seq` numbers the event
//! (0..events) and `sent_us` is when it was meant to be sent, in microseconds on the run's
//! `Clock`. hookd delivers the payload byte for byte, so the receiver reads both back from the
//! start of the body without a JSON parser.

use std::time::{Duration, Instant};

const SEQ: &[u8] = b"{\"seq\":";
const SENT: &[u8] = b",\"sent_us\":";

/// The run's time base, shared by the client (which stamps payloads) and the receiver (which
/// measures their age): one monotonic clock in one process.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    epoch: Instant,
}

impl Clock {
    pub fn start() -> Clock {
        Clock {
            epoch: Instant::now(),
        }
    }

    /// Microseconds since the clock started.
    pub fn now_us(&self) -> u64 {
        self.us_at(Instant::now())
    }

    pub fn us_at(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_micros()).unwrap_or(u64::MAX)
    }

    pub fn instant_at(&self, us: u64) -> Instant {
        self.epoch + Duration::from_micros(us)
    }
}

/// What the receiver reads from a delivered payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    pub seq: u64,
    pub sent_us: u64,
}

/// The payload for event `seq`, at least `size` bytes long.
pub fn build(stamp: Stamp, size: usize) -> String {
    let head = format!(
        "{{\"seq\":{},\"sent_us\":{},\"pad\":\"",
        stamp.seq, stamp.sent_us
    );
    let pad = size.saturating_sub(head.len() + 2);
    let mut body = String::with_capacity(head.len() + pad + 2);
    body.push_str(&head);
    body.extend(std::iter::repeat_n('x', pad));
    body.push_str("\"}");
    body
}

/// Reads the stamp back; `None` if the body is not one of ours.
pub fn read(body: &[u8]) -> Option<Stamp> {
    let rest = body.strip_prefix(SEQ)?;
    let (seq, rest) = number(rest)?;
    let rest = rest.strip_prefix(SENT)?;
    let (sent_us, _) = number(rest)?;
    Some(Stamp { seq, sent_us })
}

fn number(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 19 {
        return None;
    }
    let value = std::str::from_utf8(&bytes[..digits]).ok()?.parse().ok()?;
    Some((value, &bytes[digits..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_is_json_of_the_requested_size_and_reads_back() {
        let stamp = Stamp {
            seq: 41,
            sent_us: 1_234_567,
        };
        let body = build(stamp, 1024);
        assert_eq!(body.len(), 1024);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["seq"], 41);
        assert_eq!(read(body.as_bytes()), Some(stamp));
    }

    #[test]
    fn a_small_size_still_carries_the_stamp() {
        let stamp = Stamp { seq: 7, sent_us: 9 };
        assert_eq!(read(build(stamp, 0).as_bytes()), Some(stamp));
        assert_eq!(read(b"{\"other\":1}"), None);
    }
}
