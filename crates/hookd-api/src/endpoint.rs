//! Endpoint wire types: `EndpointIn` (create), `EndpointUpdate` (replace), `EndpointPatch`,
//! `EndpointOut`, and `EndpointSecretOut`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::patch::{Patch, null_as_default};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    /// `whsec_<base64>` or bare base64; `null` or absent makes the server generate one.
    #[serde(default)]
    pub secret: Option<String>,
}

impl EndpointIn {
    /// The settings a PUT could also set, and the secret only a create sets.
    pub fn split_secret(self) -> (EndpointUpdate, Option<String>) {
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
        (settings, secret)
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
