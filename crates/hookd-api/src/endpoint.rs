//! Endpoint wire types: `EndpointIn` (create), `EndpointUpdate` (replace), `EndpointPatch`,
//! `EndpointOut`; the secret (`EndpointSecretOut`, `EndpointSecretRotateIn`) and the headers
//! (`EndpointHeadersIn`, `EndpointHeadersPatchIn`, `EndpointHeadersOut`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::patch::{Patch, null_as_default};

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointIn {
    pub url: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub description: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub disabled: bool,
    #[serde(default, alias = "filterTypes")]
    pub event_types: Option<Vec<String>>,
    #[serde(default)]
    pub channels: Option<Vec<String>>,
    #[serde(default, alias = "rateLimit")]
    pub throttle_rate: Option<u16>,
    #[serde(default)]
    pub uid: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: BTreeMap<String, String>,
    /// `whsec_<base64>` or bare base64 (HMAC), or `whsk_<base64>` (ed25519); `null` or absent
    /// makes the server generate one.
    #[serde(default)]
    pub secret: Option<String>,
    /// Headers to send with every delivery; the SDK sends them on create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
}

/// Shows the header names only, and never the secret: header values may be credentials.
impl std::fmt::Debug for EndpointIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointIn")
            .field("url", &self.url)
            .field("uid", &self.uid)
            .field("event_types", &self.event_types)
            .field("channels", &self.channels)
            .field("secret", &self.secret.as_ref().map(|_| "**redacted**"))
            .field(
                "headers",
                &self.headers.as_ref().map(|h| h.keys().collect::<Vec<_>>()),
            )
            .finish_non_exhaustive()
    }
}

/// What only a create sets: the secret and the headers.
#[derive(Clone, Default, PartialEq)]
pub struct EndpointCreateOnly {
    pub secret: Option<String>,
    pub headers: BTreeMap<String, String>,
}

impl EndpointIn {
    /// The settings a PUT could also set, and what only a create sets.
    pub fn split(self) -> (EndpointUpdate, EndpointCreateOnly) {
        let EndpointIn {
            url,
            description,
            disabled,
            event_types,
            channels,
            throttle_rate,
            uid,
            metadata,
            secret,
            headers,
        } = self;
        let settings = EndpointUpdate {
            url,
            description,
            disabled,
            event_types,
            channels,
            throttle_rate,
            uid,
            metadata,
        };
        let create_only = EndpointCreateOnly {
            secret,
            headers: headers.unwrap_or_default(),
        };
        (settings, create_only)
    }
}

/// The body of a PUT: an `EndpointIn` without the secret, which only rotation changes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointUpdate {
    pub url: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub description: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub disabled: bool,
    #[serde(default, alias = "filterTypes")]
    pub event_types: Option<Vec<String>>,
    #[serde(default)]
    pub channels: Option<Vec<String>>,
    #[serde(default, alias = "rateLimit")]
    pub throttle_rate: Option<u16>,
    #[serde(default)]
    pub uid: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    #[serde(
        default,
        alias = "filterTypes",
        skip_serializing_if = "Patch::is_absent"
    )]
    pub event_types: Patch<Vec<String>>,
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    pub channels: Patch<Vec<String>>,
    #[serde(default, alias = "rateLimit", skip_serializing_if = "Patch::is_absent")]
    pub throttle_rate: Patch<u16>,
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    pub uid: Patch<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointOut {
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
}

/// The signing secret. Deliberately no `Debug`: it must not reach a log by accident.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointSecretOut {
    pub key: String,
}

/// No `Debug`: it may hold a secret.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointSecretRotateIn {
    /// The new secret, as in `EndpointIn::secret`; `null` or absent makes the server generate one.
    #[serde(default)]
    pub key: Option<String>,
    /// How long the old secret keeps signing: 0 to 604800 seconds, 86400 when absent.
    #[serde(default)]
    pub grace_period_seconds: Option<u32>,
}

/// The body of a headers PUT: the whole set. No `Debug`: values may be credentials.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointHeadersIn {
    pub headers: BTreeMap<String, String>,
}

/// The body of a headers PATCH: a value sets a header, `null` removes it. No `Debug`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointHeadersPatchIn {
    pub headers: BTreeMap<String, Option<String>>,
}

/// The headers, less the values of sensitive ones, whose names are listed in `sensitive`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndpointHeadersOut {
    pub headers: BTreeMap<String, String>,
    pub sensitive: Vec<String>,
}
