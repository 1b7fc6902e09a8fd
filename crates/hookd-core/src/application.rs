//! Application: one of the provider's customers; it owns endpoints and messages.

use std::collections::BTreeMap;

use crate::{AppId, Timestamp};

#[derive(Clone, Debug, PartialEq)]
pub struct Application {
    pub id: AppId,
    pub uid: Option<String>,
    pub name: String,
    pub rate_limit: Option<u16>,
    pub metadata: BTreeMap<String, String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
