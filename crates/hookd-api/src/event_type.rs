//! Event type wire types: `EventTypeIn` (create), `EventTypeUpdate` (PUT), `EventTypePatch`,
//! `EventTypeOut`, and `EventExampleIn` (an endpoint's `send-example`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::patch::{Patch, null_as_default};

/// JSON schemas by version, `{"1": {...}}`; each value must be an object (the server checks).
pub type Schemas = Map<String, Value>;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventTypeIn {
    pub name: String,
    pub description: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub archived: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub deprecated: bool,
    #[serde(default)]
    pub feature_flag: Option<String>,
    #[serde(default)]
    pub schemas: Option<Schemas>,
}

impl EventTypeIn {
    /// The fields a PUT could also set, and the name.
    pub fn split_name(self) -> (String, EventTypeUpdate) {
        let EventTypeIn {
            name,
            description,
            archived,
            deprecated,
            feature_flag,
            schemas,
        } = self;
        let update = EventTypeUpdate {
            description,
            archived,
            deprecated,
            feature_flag,
            schemas,
        };
        (name, update)
    }
}

/// The body of a PUT: an `EventTypeIn` without the name, which the path gives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventTypeUpdate {
    pub description: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub archived: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub deprecated: bool,
    #[serde(default)]
    pub feature_flag: Option<String>,
    #[serde(default)]
    pub schemas: Option<Schemas>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventTypePatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated: Option<bool>,
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    pub feature_flag: Patch<String>,
    #[serde(default, skip_serializing_if = "Patch::is_absent")]
    pub schemas: Patch<Schemas>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventTypeOut {
    pub name: String,
    pub description: String,
    pub archived: bool,
    pub deprecated: bool,
    pub feature_flag: Option<String>,
    /// `null` in lists asked for without `with_content=true`.
    pub schemas: Option<Schemas>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventExampleIn {
    pub event_type: String,
    /// Which entry of the schema's `examples` to send; the first when absent.
    #[serde(default)]
    pub example_index: Option<usize>,
}
