//! Circuits: hold the deliveries of an endpoint that stopped answering, and probe it.
//!
//! An attempt that gets no answer at all (the connection is refused or times out, the name does
//! not resolve, TLS fails, the address is refused) costs a connection, an attempt row and a
//! retry for nothing, and at a high rate it takes cores from the endpoints that work. After
//! `after` such attempts in a row the endpoint's circuit opens: the dispatcher leaves its
//! deliveries queued in the store, and the commit loop queues its new ones there too, untouched
//! and with their attempts unspent. When the pause ends, one due delivery goes as a probe. An
//! answer of any kind (even an error status: the endpoint is reachable, its retries take over)
//! closes the circuit, and the claims drain what was held in order; no answer opens it again
//! for twice the pause, up to `max_pause`.
//!
//! Circuits are this node's own view: on a shared database each node probes for itself.
//! Sending a message again, recovering, or changing the endpoint closes its circuit at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hookd_core::{EndpointId, FailureReason, Timestamp};

use crate::config::Breaker;

pub struct Circuits {
    breaker: Breaker,
    endpoints: Mutex<HashMap<EndpointId, Circuit>>,
    /// How many endpoints `endpoints` holds, read without the lock: while none failed, every
    /// delivery's ticket and answer skip the lock.
    tracked: AtomicUsize,
}

/// One endpoint's circuit; an endpoint without one is closed with no failures counted.
#[derive(Debug)]
struct Circuit {
    /// Attempts in a row that got no answer.
    unanswered: u32,
    open: Option<Open>,
}

#[derive(Debug)]
struct Open {
    /// When a probe may go.
    until: Timestamp,
    /// The pause that ended at `until`.
    pause: Duration,
    /// A probe is out.
    probing: bool,
}

/// How a delivery's attempt ended, for its endpoint's circuit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Heard {
    /// The endpoint answered, whatever the status.
    Answer,
    /// No answer.
    Nothing,
}

impl Heard {
    /// What an attempt that failed for `reason` (or succeeded: `None`) heard.
    pub fn from_failure(reason: Option<FailureReason>) -> Heard {
        match reason {
            None | Some(FailureReason::Status) => Heard::Answer,
            Some(
                FailureReason::Timeout
                | FailureReason::Dns
                | FailureReason::Connect
                | FailureReason::Tls
                | FailureReason::Blocked,
            ) => Heard::Nothing,
        }
    }
}

impl Circuits {
    pub fn new(breaker: Breaker) -> Circuits {
        Circuits {
            breaker,
            endpoints: Mutex::new(HashMap::new()),
            tracked: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<EndpointId, Circuit>> {
        self.endpoints.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// No endpoint failed lately: nothing is open, nothing to count an answer against.
    fn none_tracked(&self) -> bool {
        self.tracked.load(Ordering::Acquire) == 0
    }

    fn note_size(&self, endpoints: &HashMap<EndpointId, Circuit>) {
        self.tracked.store(endpoints.len(), Ordering::Release);
    }

    /// The open circuits and how many deliveries each endpoint may be given now: none while
    /// it pauses or a probe is out, one (the probe) once the pause is over.
    pub fn caps(&self, now: Timestamp) -> Vec<(EndpointId, u32)> {
        self.lock()
            .iter()
            .filter_map(|(id, circuit)| {
                let open = circuit.open.as_ref()?;
                let cap = u32::from(!open.probing && open.until <= now);
                Some((id.clone(), cap))
            })
            .collect()
    }

    /// The endpoints whose circuit is open, each with when its next probe may go (`None`: a
    /// probe is out now), for the web UI.
    pub fn held(&self) -> Vec<(EndpointId, Option<Timestamp>)> {
        if self.none_tracked() {
            return Vec::new();
        }
        self.lock()
            .iter()
            .filter_map(|(id, circuit)| {
                let open = circuit.open.as_ref()?;
                Some((id.clone(), (!open.probing).then_some(open.until)))
            })
            .collect()
    }

    /// Whether the endpoint may be given a delivery now.
    pub fn admits(&self, endpoint: &EndpointId, now: Timestamp) -> bool {
        self.lock()
            .get(endpoint)
            .and_then(|c| c.open.as_ref())
            .is_none_or(|open| !open.probing && open.until <= now)
    }

    /// The earliest end of a pause still running: when the dispatcher must look, since the
    /// store's next due time leaves held endpoints out.
    pub fn next_probe(&self, now: Timestamp) -> Option<Timestamp> {
        self.lock()
            .values()
            .filter_map(|c| c.open.as_ref())
            .filter(|open| !open.probing && open.until > now)
            .map(|open| open.until)
            .min()
    }

    /// A delivery to `endpoint` takes its place in the lane. Returns whether it is the probe
    /// of an open circuit; the probe must be `heard` or `given_back`.
    pub fn sending(&self, endpoint: &EndpointId, now: Timestamp) -> bool {
        if self.none_tracked() {
            return false;
        }
        let mut endpoints = self.lock();
        match endpoints.get_mut(endpoint).and_then(|c| c.open.as_mut()) {
            Some(open) if !open.probing && open.until <= now => {
                open.probing = true;
                true
            }
            _ => false,
        }
    }

    /// What an attempt to `endpoint` that was not its probe heard: enough attempts in a row
    /// without an answer open the circuit. (One sent before the circuit opened changes
    /// nothing but the count.)
    pub fn heard(&self, endpoint: &EndpointId, heard: Heard, now: Timestamp) {
        if heard == Heard::Answer && self.none_tracked() {
            return;
        }
        let mut endpoints = self.lock();
        let Some(circuit) = self.count(&mut endpoints, endpoint, heard) else {
            return;
        };
        if circuit.open.is_none() && circuit.unanswered >= self.breaker.after {
            let pause = self.breaker.pause.min(self.breaker.max_pause);
            circuit.open = Some(Open {
                until: now.saturating_add(pause),
                pause,
                probing: false,
            });
            tracing::warn!(endpoint = %endpoint, unanswered = circuit.unanswered, pause_ms = pause.as_millis() as u64, "endpoint does not answer; holding its deliveries and probing");
        }
    }

    /// What the probe of `endpoint` (as `sending` said) heard: no answer pauses twice as long.
    pub fn probe_heard(&self, endpoint: &EndpointId, heard: Heard, now: Timestamp) {
        if heard == Heard::Answer && self.none_tracked() {
            return;
        }
        let mut endpoints = self.lock();
        let Some(open) = self
            .count(&mut endpoints, endpoint, heard)
            .and_then(|c| c.open.as_mut())
        else {
            return;
        };
        open.pause = (open.pause * 2).min(self.breaker.max_pause);
        open.until = now.saturating_add(open.pause);
        open.probing = false;
        tracing::info!(endpoint = %endpoint, pause_ms = open.pause.as_millis() as u64, "probe got no answer; holding deliveries");
    }

    /// Counts what an attempt heard: an answer closes the circuit and forgets it (`None`); no
    /// answer counts one more, where the breaker is on.
    fn count<'m>(
        &self,
        endpoints: &'m mut HashMap<EndpointId, Circuit>,
        endpoint: &EndpointId,
        heard: Heard,
    ) -> Option<&'m mut Circuit> {
        if heard == Heard::Answer {
            if let Some(circuit) = endpoints.remove(endpoint) {
                self.note_size(endpoints);
                if circuit.open.is_some() {
                    tracing::info!(endpoint = %endpoint, "endpoint answers again; sending what was held");
                }
            }
            return None;
        }
        if self.breaker.after == 0 {
            return None;
        }
        if !endpoints.contains_key(endpoint) {
            endpoints.insert(
                endpoint.clone(),
                Circuit {
                    unanswered: 0,
                    open: None,
                },
            );
            self.note_size(endpoints);
        }
        let circuit = endpoints.get_mut(endpoint)?;
        circuit.unanswered = circuit.unanswered.saturating_add(1);
        Some(circuit)
    }

    /// The probe went back to the store unsent: another delivery may probe.
    pub fn given_back(&self, endpoint: &EndpointId) {
        if let Some(open) = self.lock().get_mut(endpoint).and_then(|c| c.open.as_mut()) {
            open.probing = false;
        }
    }

    /// Closes the endpoint's circuit: someone asked for its deliveries now.
    pub fn close(&self, endpoint: &EndpointId) {
        let mut endpoints = self.lock();
        if endpoints.remove(endpoint).is_some() {
            self.note_size(&endpoints);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn circuits() -> Circuits {
        Circuits::new(Breaker {
            after: 3,
            pause: 5 * SECOND,
            max_pause: 12 * SECOND,
        })
    }

    fn at(seconds: i64) -> Timestamp {
        Timestamp(seconds * 1000)
    }

    fn ep() -> EndpointId {
        EndpointId::from_stored("ep_1".into())
    }

    fn fail(circuits: &Circuits, now: Timestamp) {
        circuits.heard(&ep(), Heard::Nothing, now);
    }

    fn probe_fails(circuits: &Circuits, now: Timestamp) {
        circuits.probe_heard(&ep(), Heard::Nothing, now);
    }

    #[test]
    fn opens_after_enough_attempts_in_a_row_without_an_answer() {
        let circuits = circuits();
        fail(&circuits, at(0));
        fail(&circuits, at(0));
        // An error status is an answer: the count starts again.
        circuits.heard(&ep(), Heard::Answer, at(0));
        fail(&circuits, at(0));
        fail(&circuits, at(0));
        assert!(circuits.admits(&ep(), at(0)));
        assert!(circuits.caps(at(0)).is_empty());

        fail(&circuits, at(1));
        assert!(!circuits.admits(&ep(), at(1)));
        assert_eq!(circuits.caps(at(1)), vec![(ep(), 0)]);
        assert_eq!(circuits.next_probe(at(1)), Some(at(6)));
    }

    #[test]
    fn one_probe_after_the_pause_and_longer_pauses_while_it_fails() {
        let circuits = circuits();
        for _ in 0..3 {
            fail(&circuits, at(0));
        }
        assert!(!circuits.sending(&ep(), at(4)), "still pausing");
        assert_eq!(circuits.caps(at(5)), vec![(ep(), 1)]);
        assert_eq!(circuits.next_probe(at(5)), None, "due: the claim takes it");

        assert!(circuits.sending(&ep(), at(5)));
        assert!(!circuits.sending(&ep(), at(5)), "one probe at a time");
        assert_eq!(circuits.caps(at(5)), vec![(ep(), 0)]);
        // An attempt from before the opening changes nothing.
        fail(&circuits, at(6));
        assert_eq!(circuits.caps(at(6)), vec![(ep(), 0)]);

        probe_fails(&circuits, at(6));
        assert_eq!(circuits.next_probe(at(6)), Some(at(16)), "twice the pause");
        assert!(circuits.sending(&ep(), at(16)));
        probe_fails(&circuits, at(16));
        assert_eq!(
            circuits.next_probe(at(16)),
            Some(at(28)),
            "at most max_pause"
        );
    }

    #[test]
    fn an_answer_closes_it_and_a_probe_given_back_lets_another_go() {
        let circuits = circuits();
        for _ in 0..3 {
            fail(&circuits, at(0));
        }
        assert!(circuits.sending(&ep(), at(5)));
        circuits.given_back(&ep());
        assert!(circuits.sending(&ep(), at(5)));

        circuits.probe_heard(&ep(), Heard::Answer, at(6));
        assert!(circuits.admits(&ep(), at(6)));
        assert!(circuits.caps(at(6)).is_empty());
        // Counting starts again from nothing.
        fail(&circuits, at(7));
        assert!(circuits.admits(&ep(), at(7)));
    }

    #[test]
    fn held_lists_the_open_circuits_with_their_next_probe() {
        let circuits = circuits();
        fail(&circuits, at(0));
        fail(&circuits, at(0));
        assert!(circuits.held().is_empty(), "two in a row: still closed");
        fail(&circuits, at(0));
        let held = circuits.held();
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].0, ep());
        assert!(held[0].1.is_some_and(|next| next > at(0)), "{held:?}");
        circuits.close(&ep());
        assert!(circuits.held().is_empty());
    }

    #[test]
    fn closing_by_hand_and_a_breaker_that_never_opens() {
        let circuits = circuits();
        for _ in 0..3 {
            fail(&circuits, at(0));
        }
        circuits.close(&ep());
        assert!(circuits.admits(&ep(), at(0)));

        let never = Circuits::new(Breaker {
            after: 0,
            pause: SECOND,
            max_pause: SECOND,
        });
        for _ in 0..100 {
            never.heard(&ep(), Heard::Nothing, at(0));
        }
        assert!(never.caps(at(0)).is_empty());
    }
}
