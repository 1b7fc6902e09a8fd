//! Attempt: one try at delivering a message to an endpoint, and how it ended.

use crate::{AppId, AttemptId, EndpointId, MessageId, Timestamp};

/// The Svix message status, also used per attempt and per delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AttemptStatus {
    Success = 0,
    Pending = 1,
    Fail = 2,
    Sending = 3,
}

impl AttemptStatus {
    pub fn code(self) -> i16 {
        self as i16
    }

    pub fn from_code(code: i64) -> Option<AttemptStatus> {
        match code {
            0 => Some(AttemptStatus::Success),
            1 => Some(AttemptStatus::Pending),
            2 => Some(AttemptStatus::Fail),
            3 => Some(AttemptStatus::Sending),
            _ => None,
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            AttemptStatus::Success => "success",
            AttemptStatus::Pending => "pending",
            AttemptStatus::Fail => "fail",
            AttemptStatus::Sending => "sending",
        }
    }
}

/// What started an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriggerType {
    Scheduled = 0,
    Manual = 1,
}

impl TriggerType {
    pub fn code(self) -> i16 {
        self as i16
    }

    pub fn from_code(code: i64) -> TriggerType {
        if code == 1 {
            TriggerType::Manual
        } else {
            TriggerType::Scheduled
        }
    }
}

/// Why an attempt failed. A failed delivery is a value, not an error of the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailureReason {
    /// No complete answer within the timeout.
    Timeout,
    /// The host name did not resolve.
    Dns,
    /// The connection was refused or dropped.
    Connect,
    /// The TLS handshake failed.
    Tls,
    /// The receiver answered with a status other than 2xx.
    Status,
    /// The address is one hookd must not call (private, loopback, metadata), or the URL's
    /// scheme is not http(s).
    Blocked,
}

impl FailureReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::Timeout => "timeout",
            FailureReason::Dns => "dns",
            FailureReason::Connect => "connect",
            FailureReason::Tls => "tls",
            FailureReason::Status => "status",
            FailureReason::Blocked => "blocked",
        }
    }

    pub fn parse(s: &str) -> Option<FailureReason> {
        [
            FailureReason::Timeout,
            FailureReason::Dns,
            FailureReason::Connect,
            FailureReason::Tls,
            FailureReason::Status,
            FailureReason::Blocked,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Attempt {
    pub id: AttemptId,
    pub app_id: AppId,
    pub msg_id: MessageId,
    pub endpoint_id: EndpointId,
    pub url: String,
    pub status: AttemptStatus,
    /// 0 when no HTTP answer came back.
    pub response_status_code: i16,
    /// The start of the response body, capped; for failures without a response, the reason.
    pub response: String,
    pub response_duration_ms: i64,
    pub trigger: TriggerType,
    pub failure: Option<FailureReason>,
    pub created_at: Timestamp,
}
