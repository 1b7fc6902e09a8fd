//! EventType: a kind of event the provider declares (`invoice.paid`), global to the server as
//! in Svix, with its description and JSON schemas. Endpoints may only filter on declared,
//! unarchived event types.

use crate::Timestamp;

#[derive(Clone, Debug, PartialEq)]
pub struct EventType {
    /// The key: follows the name rules (`name.rs`); never changes.
    pub name: String,
    pub description: String,
    /// Archived ("deleted" without expunge): kept, but endpoints may no longer add it.
    pub archived: bool,
    pub deprecated: bool,
    pub feature_flag: Option<String>,
    /// JSON object text: a JSON schema per version (`{"1": {...}}`), as the provider sent it.
    pub schemas: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
