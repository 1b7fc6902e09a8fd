//! Message wire types: `MessageIn` and `MessageOut`. The payload is kept as raw JSON text so
//! its bytes go out exactly as they came in.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::application::ApplicationIn;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageIn {
    pub event_type: String,
    /// Must be a JSON object; the server checks.
    pub payload: Box<RawValue>,
    #[serde(default)]
    pub event_id: Option<String>,
    #[serde(default)]
    pub channels: Option<Vec<String>>,
    /// Days to keep the payload: 5 to 90, 90 when absent.
    #[serde(default)]
    pub payload_retention_period: Option<i64>,
    /// Creates the application alongside the message when the path names none yet.
    #[serde(default)]
    pub application: Option<ApplicationIn>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageOut {
    pub id: String,
    pub event_type: String,
    pub event_id: Option<String>,
    pub channels: Option<Vec<String>>,
    pub payload: Box<RawValue>,
    pub timestamp: String,
}
