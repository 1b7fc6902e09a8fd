//! hookd's storage: the `Store` trait every backend implements, and the SQLite backend.
//!
//! This is the only crate that knows SQL. The server calls intent-named methods
//! (`insert_messages`, `claim_due`, `record_outcomes`) and never sees a query.

mod page;
mod queue;
pub mod sqlite;
mod token;

use async_trait::async_trait;
use hookd_core::{
    AppId, Application, Attempt, AttemptStatus, Endpoint, EndpointId, Message, MessageId, Timestamp,
};

pub use page::{Ordering, Page, PageQuery};
pub use queue::{Claim, DeliveryId, DueDelivery, Inserted, NewMessage, NextStep, Outcome};
pub use sqlite::SqliteStore;
pub use token::{TokenRecord, TokenScope};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique key is taken: an application or endpoint uid, or a message's event id.
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed")]
    Migrate(#[source] sqlx::Error),
    /// The store could not take the write; a retry may succeed.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Filters for listing messages.
#[derive(Clone, Debug, Default)]
pub struct MessageFilter {
    pub event_types: Option<Vec<String>>,
    pub channel: Option<String>,
    pub before: Option<Timestamp>,
    pub after: Option<Timestamp>,
}

/// Filters for listing attempts.
#[derive(Clone, Debug, Default)]
pub struct AttemptFilter {
    pub status: Option<AttemptStatus>,
    /// 0 (no response), 100, 200, 300, 400 or 500.
    pub status_code_class: Option<i16>,
    pub event_types: Option<Vec<String>>,
    pub channel: Option<String>,
    pub before: Option<Timestamp>,
    pub after: Option<Timestamp>,
}

/// Everything hookd keeps. Methods are named for what the caller means; each is one short
/// transaction, and none is ever held open across a network call.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // Tokens.
    async fn insert_token(&self, token: &TokenRecord) -> Result<()>;
    async fn find_token(&self, hash: &str) -> Result<Option<TokenRecord>>;
    async fn count_tokens(&self) -> Result<u64>;

    // Applications. `id_or_uid` lookups try the id first, then the uid.
    async fn insert_application(&self, app: &Application) -> Result<()>;
    async fn get_application(&self, id_or_uid: &str) -> Result<Option<Application>>;
    async fn list_applications(&self, page: &PageQuery) -> Result<Page<Application>>;
    async fn update_application(&self, app: &Application) -> Result<()>;
    /// Deletes the application with its endpoints, messages, attempts and queued deliveries.
    async fn delete_application(&self, id: &AppId) -> Result<bool>;

    // Endpoints.
    async fn insert_endpoint(&self, endpoint: &Endpoint) -> Result<()>;
    async fn get_endpoint(&self, app: &AppId, id_or_uid: &str) -> Result<Option<Endpoint>>;
    async fn list_endpoints(&self, app: &AppId, page: &PageQuery) -> Result<Page<Endpoint>>;
    async fn update_endpoint(&self, endpoint: &Endpoint) -> Result<()>;
    /// Deletes the endpoint and drops its queued deliveries; its attempts stay in the log.
    async fn delete_endpoint(&self, app: &AppId, id: &EndpointId) -> Result<bool>;

    // Messages.
    /// Stores each message and fans it out to the matching enabled endpoints, all in one
    /// transaction: when this returns, every message and every delivery it made is durable.
    /// A message whose `event_id` is taken gets `Err(Conflict)` alone; the others still commit.
    async fn insert_messages(&self, batch: &[NewMessage]) -> Result<Vec<Result<Inserted>>>;
    /// Looks a message up by id, or by its event id.
    async fn get_message(&self, app: &AppId, id_or_event_id: &str) -> Result<Option<Message>>;
    async fn list_messages(
        &self,
        app: &AppId,
        page: &PageQuery,
        filter: &MessageFilter,
    ) -> Result<Page<Message>>;

    // Attempts.
    async fn list_attempts_by_endpoint(
        &self,
        app: &AppId,
        endpoint: &EndpointId,
        page: &PageQuery,
        filter: &AttemptFilter,
    ) -> Result<Page<Attempt>>;
    async fn list_attempts_by_message(
        &self,
        app: &AppId,
        msg: &MessageId,
        page: &PageQuery,
        filter: &AttemptFilter,
    ) -> Result<Page<Attempt>>;
    async fn get_attempt(&self, app: &AppId, msg: &MessageId, id: &str) -> Result<Option<Attempt>>;

    // The delivery queue.
    /// Leases up to `limit` deliveries due at `now` until `lease_until`, oldest first, skipping
    /// endpoints in `skip` (those with no free capacity).
    async fn claim_due(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
        skip: &[EndpointId],
    ) -> Result<Claim>;
    /// Writes each attempt to the log and moves its delivery on (done, retry later, or
    /// failed for good), releasing the lease; one transaction for the whole batch.
    async fn record_outcomes(&self, outcomes: &[Outcome]) -> Result<()>;
    /// Gives leased deliveries back without an attempt (on shutdown).
    async fn release(&self, ids: &[DeliveryId]) -> Result<()>;
    /// Gives back every lease; only for a single-process store at start-up.
    async fn release_all(&self) -> Result<()>;
}
