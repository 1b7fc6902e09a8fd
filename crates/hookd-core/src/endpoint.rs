//! Endpoint: a receiver's URL registered under an application, with its filters and secret.

use std::collections::BTreeMap;
use std::fmt;

use crate::{AppId, EndpointId, Timestamp};

#[derive(Clone, PartialEq)]
pub struct Endpoint {
    pub id: EndpointId,
    pub app_id: AppId,
    pub uid: Option<String>,
    pub url: String,
    pub description: String,
    pub disabled: bool,
    pub event_types: Option<Vec<String>>,
    pub channels: Option<Vec<String>>,
    pub rate_limit: Option<u16>,
    pub metadata: BTreeMap<String, String>,
    /// The signing secret, `whsec_...`. Never printed: see the `Debug` impl.
    pub secret: String,
    /// Extra headers sent with every delivery.
    pub headers: BTreeMap<String, String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("id", &self.id)
            .field("app_id", &self.app_id)
            .field("uid", &self.uid)
            .field("url", &self.url)
            .field("disabled", &self.disabled)
            .field("event_types", &self.event_types)
            .field("channels", &self.channels)
            .field("secret", &"**redacted**")
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}
