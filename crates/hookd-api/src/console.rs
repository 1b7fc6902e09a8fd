//! hookd's own wire types beside Svix's, for the web UI: who a token is, the console's admin
//! tokens, and the figures the charts and the overview show.

use serde::{Deserialize, Serialize};

/// What the token that calls `GET /auth/session` may reach.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionOut {
    /// An admin token reaches every application; the others one.
    pub admin: bool,
    pub app_id: Option<String>,
    pub app_uid: Option<String>,
    pub app_name: Option<String>,
    /// The token may only read.
    pub read_only: bool,
    pub expires_at: Option<String>,
}

/// `POST /token`: a new admin token.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiTokenIn {
    pub name: String,
}

/// An admin token as listed: never the token itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiTokenOut {
    /// `tok_` and the start of the token's SHA-256: not a secret, and enough to revoke it by.
    pub id: String,
    pub name: Option<String>,
    pub created_at: String,
    /// The token that asked.
    pub current: bool,
}

/// A token just made: the one time it is shown. Deliberately no `Debug`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiTokenCreatedOut {
    pub id: String,
    pub name: Option<String>,
    pub created_at: String,
    pub token: String,
}

/// Attempts made in one step of a series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptBucketOut {
    pub start: String,
    pub succeeded: u64,
    pub failed: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptSeriesOut {
    pub interval_seconds: u64,
    pub data: Vec<AttemptBucketOut>,
}

/// How an endpoint fares: its last day's attempts, and whether this node holds its deliveries
/// because it stopped answering.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointHealthOut {
    pub endpoint_id: String,
    pub succeeded: u64,
    pub failed: u64,
    pub held: bool,
    /// When a held endpoint gets its next probe.
    pub next_probe: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueOut {
    pub pending: u64,
    pub due: u64,
    pub sending: u64,
}

/// An endpoint in the overview's lists of failing and held endpoints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TroubledEndpointOut {
    pub app_id: String,
    pub endpoint_id: String,
    pub url: String,
    /// Deliveries waiting for a retry (failing endpoints).
    pub retrying: Option<u64>,
    /// The next retry, or for a held endpoint the next probe.
    pub next_attempt: Option<String>,
}

/// The console's overview.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OverviewOut {
    /// The last hour's attempts, minute by minute.
    pub per_minute: Vec<AttemptBucketOut>,
    pub queue: QueueOut,
    pub failing: Vec<TroubledEndpointOut>,
    pub held: Vec<TroubledEndpointOut>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppCountsOut {
    pub app_id: String,
    pub endpoints: u64,
    pub messages: u64,
}
