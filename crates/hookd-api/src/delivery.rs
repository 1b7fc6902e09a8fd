//! How deliveries stand and sending them again: `EndpointStats`, `MessageEndpointOut` (an
//! endpoint a message went to), `EndpointMessageOut` (a message that went to an endpoint),
//! `RecoverIn` and `RecoverOut`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EndpointStats {
    pub success: u64,
    pub fail: u64,
    pub pending: u64,
    pub sending: u64,
    pub canceled: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageEndpointOut {
    pub id: String,
    pub uid: Option<String>,
    pub url: String,
    pub description: String,
    pub disabled: bool,
    pub event_types: Option<Vec<String>>,
    pub channels: Option<Vec<String>>,
    pub throttle_rate: Option<u16>,
    pub metadata: BTreeMap<String, String>,
    pub created_at: String,
    pub updated_at: String,
    /// 0 success, 1 pending, 2 fail, 3 sending.
    pub status: i16,
    pub status_text: String,
    /// When the next attempt is due, while one is pending.
    pub next_attempt: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointMessageOut {
    pub id: String,
    pub event_type: String,
    pub event_id: Option<String>,
    pub channels: Option<Vec<String>>,
    pub payload: Box<RawValue>,
    pub timestamp: String,
    pub status: i16,
    pub status_text: String,
    pub next_attempt: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecoverIn {
    pub since: String,
    #[serde(default)]
    pub until: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoverOut {
    pub id: String,
    /// `running`: the messages are queued again and go out as the worker gets to them.
    pub status: String,
    /// Always `endpoint.recover`.
    pub task: String,
    pub updated_at: String,
}
