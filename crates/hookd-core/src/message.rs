//! Message: an event the provider sent, stored byte for byte as received.

use crate::{AppId, MessageId, Timestamp};

#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub id: MessageId,
    pub app_id: AppId,
    pub event_type: String,
    pub event_id: Option<String>,
    pub channels: Option<Vec<String>>,
    /// The JSON object exactly as the provider sent it; `None` once removed (expunged, or past
    /// its retention period): the message can then no longer be sent.
    pub payload: Option<String>,
    pub retention_days: i64,
    pub created_at: Timestamp,
}
