//! The delivery queue: one row per (message, endpoint), leased by workers while in flight.

use std::collections::BTreeMap;

use hookd_core::{
    AppId, Attempt, AttemptStatus, Endpoint, EndpointId, Message, MessageId, Timestamp, TriggerType,
};

use crate::{KeyedIntake, MessageFilter};

/// The store's own key for one queued delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeliveryId(pub i64);

/// A message to store and fan out, due for its first attempt at `message.created_at`; with an
/// idempotency key, answered in the same transaction (`KeyedIntake`).
#[derive(Clone, Debug)]
pub struct NewMessage {
    pub message: Message,
    pub keyed: Option<KeyedIntake>,
}

impl NewMessage {
    pub fn new(message: Message) -> NewMessage {
        NewMessage {
            message,
            keyed: None,
        }
    }

    pub fn keyed(message: Message, keyed: KeyedIntake) -> NewMessage {
        NewMessage {
            message,
            keyed: Some(keyed),
        }
    }
}

/// What `insert_messages` did with one message.
#[derive(Clone, Debug, PartialEq)]
pub struct Inserted {
    pub msg_id: MessageId,
    /// How many deliveries the fan-out queued.
    pub deliveries: u32,
}

/// Everything a worker needs to make one attempt, read in the claim. `Debug` leaves out the
/// secrets, the header values and the payload.
#[derive(Clone)]
pub struct DueDelivery {
    pub id: DeliveryId,
    pub app_id: AppId,
    pub msg_id: MessageId,
    pub endpoint_id: EndpointId,
    pub event_type: String,
    pub payload: String,
    pub url: String,
    /// Every secret that signs this attempt, the current one first, then those a rotation
    /// retired whose grace period has not ended; each one's prefix says its `SignatureType`.
    pub secrets: Vec<String>,
    pub headers: BTreeMap<String, String>,
    /// Attempts made before this one.
    pub attempts_made: u32,
    pub trigger: TriggerType,
}

/// What a claimed queue row turned out to be, as a backend reads it.
pub(crate) enum Due {
    Send(Box<DueDelivery>),
    /// Its message or endpoint is gone: the row is dropped.
    Orphan,
    /// Its message's payload was removed: the row fails.
    PayloadRemoved,
}

impl std::fmt::Debug for DueDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DueDelivery")
            .field("id", &self.id)
            .field("msg_id", &self.msg_id)
            .field("endpoint_id", &self.endpoint_id)
            .field("url", &self.url)
            .field("secrets", &self.secrets.len())
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("attempts_made", &self.attempts_made)
            .field("trigger", &self.trigger)
            .finish_non_exhaustive()
    }
}

/// New deliveries the writer of a batch sends itself (`Store::write_batch`): they are leased to
/// it as they are stored, instead of queued for a claim to read back.
#[derive(Clone, Debug)]
pub struct Handoff {
    /// When the batch is written: the secrets that sign are those valid now.
    pub now: Timestamp,
    pub lease_until: Timestamp,
    /// The most new deliveries each listed endpoint may be handed (0: none, queue them all);
    /// an endpoint not listed may be handed `default_room`.
    pub rooms: Vec<(EndpointId, u32)>,
    pub default_room: u32,
    /// The most handed over in all.
    pub limit: u32,
}

/// What `Store::write_batch` did.
#[derive(Debug, Default)]
pub struct Written {
    /// What became of each message, in the batch's order.
    pub inserted: Vec<crate::Result<Inserted>>,
    /// The new deliveries handed over (leased until the handoff's `lease_until`), in the order
    /// their messages came; they are sent by the caller, never claimed while the lease lasts.
    pub handed: Vec<DueDelivery>,
    /// When a handoff was offered: the endpoints that got deliveries queued for a claim
    /// instead (no room).
    pub queued: Vec<EndpointId>,
}

/// The result of a claim.
#[derive(Clone, Debug, Default)]
pub struct Claim {
    pub due: Vec<DueDelivery>,
    /// When the earliest delivery not claimed now falls due, if any is queued, leaving out the
    /// endpoints the claim passed over: those whose lane in the caller has no room and, where
    /// nodes share the store, those at their cap.
    pub next_due_at: Option<Timestamp>,
    /// Whether an endpoint given fewer rows than its room may still have rows due: SQLite shares
    /// a claim among the endpoints with rows due, and this is set when such a claim left some
    /// due (`next_due_at` already past), not saying whose. Otherwise an endpoint given fewer
    /// than its room has none due left.
    pub left_due: bool,
}

/// Where a delivery goes after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextStep {
    /// Delivered; the queue row is done.
    Delivered,
    /// Try again at this time.
    RetryAt(Timestamp),
    /// No attempt left: failed for good.
    Exhausted,
}

/// One finished attempt and its consequence.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub delivery: DeliveryId,
    pub attempt: Attempt,
    pub next: NextStep,
}

/// Where the delivery of one message to one endpoint stands: the newest queue row of the pair
/// (a resend queues a row of its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeliveryState {
    pub status: AttemptStatus,
    /// When the next attempt is due, while one is pending.
    pub next_attempt: Option<Timestamp>,
}

/// An endpoint a message was queued for, and how its delivery stands.
#[derive(Clone, Debug)]
pub struct Destination {
    pub endpoint: Endpoint,
    pub state: DeliveryState,
}

/// A message queued for an endpoint, and how its delivery stands.
#[derive(Clone, Debug)]
pub struct QueuedMessage {
    pub message: Message,
    pub state: DeliveryState,
}

/// Filters for the messages queued for an endpoint.
#[derive(Clone, Debug, Default)]
pub struct QueuedMessageFilter {
    pub status: Option<AttemptStatus>,
    pub message: MessageFilter,
}

/// How an endpoint's deliveries stand, counted over its queue rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EndpointStats {
    pub success: u64,
    pub fail: u64,
    pub pending: u64,
    pub sending: u64,
}

/// What a request to send a message again found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resend {
    /// A manual delivery is queued, due now.
    Queued,
    /// The message's payload was removed: there is nothing to send.
    PayloadRemoved,
    /// No such message or endpoint in the application.
    NotFound,
}

impl EndpointStats {
    /// Adds `count` rows of `status`.
    pub(crate) fn add(&mut self, status: AttemptStatus, count: u64) {
        let slot = match status {
            AttemptStatus::Success => &mut self.success,
            AttemptStatus::Fail => &mut self.fail,
            AttemptStatus::Pending => &mut self.pending,
            AttemptStatus::Sending => &mut self.sending,
        };
        *slot += count;
    }
}
