//! `MessageAttemptOut`: one delivery attempt as the API shows it.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageAttemptOut {
    pub id: String,
    pub msg_id: String,
    pub endpoint_id: String,
    pub url: String,
    /// The start of the receiver's answer, or why there was none.
    pub response: String,
    /// 0 when no HTTP answer came back.
    pub response_status_code: i16,
    pub response_duration_ms: i64,
    /// 0 success, 1 pending, 2 fail, 3 sending.
    pub status: i16,
    /// `success`, `pending`, `fail` or `sending`.
    pub status_text: String,
    /// 0 scheduled, 1 manual.
    pub trigger_type: i16,
    pub timestamp: String,
}
