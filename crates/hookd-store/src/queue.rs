//! The delivery queue: one row per (message, endpoint), leased by workers while in flight.

use std::collections::BTreeMap;

use hookd_core::{AppId, Attempt, EndpointId, Message, MessageId, Timestamp, TriggerType};

/// The store's own key for one queued delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeliveryId(pub i64);

/// A message to store and fan out, due for its first attempt at `message.created_at`.
#[derive(Clone, Debug)]
pub struct NewMessage {
    pub message: Message,
}

/// What `insert_messages` did with one message.
#[derive(Clone, Debug, PartialEq)]
pub struct Inserted {
    pub msg_id: MessageId,
    /// How many deliveries the fan-out queued.
    pub deliveries: u32,
}

/// Everything a worker needs to make one attempt, read in the claim.
#[derive(Clone, Debug)]
pub struct DueDelivery {
    pub id: DeliveryId,
    pub app_id: AppId,
    pub msg_id: MessageId,
    pub endpoint_id: EndpointId,
    pub event_type: String,
    pub payload: String,
    pub url: String,
    pub secret: String,
    pub headers: BTreeMap<String, String>,
    /// Attempts made before this one.
    pub attempts_made: u32,
    pub trigger: TriggerType,
}

/// The result of a claim.
#[derive(Clone, Debug, Default)]
pub struct Claim {
    pub due: Vec<DueDelivery>,
    /// When the earliest delivery not claimed now falls due, if any is queued.
    pub next_due_at: Option<Timestamp>,
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
