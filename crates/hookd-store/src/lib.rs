//! hookd's storage: the `Store` trait every backend implements, and its two backends: SQLite
//! for one process, PostgreSQL for any number of nodes sharing the work.
//!
//! This is the only crate that knows SQL. The server calls intent-named methods
//! (`insert_messages`, `claim_due`, `record_outcomes`) and never sees a query.

mod convert;
mod database;
mod page;
pub mod postgres;
mod queue;
pub mod sqlite;
mod token;
mod window;

use async_trait::async_trait;
use hookd_core::{
    AppId, Application, Attempt, AttemptStatus, Endpoint, EndpointId, Message, MessageId, Timestamp,
};

pub use database::{Database, DatabaseUrl};
pub use page::{Ordering, Page, PageQuery};
pub use postgres::{PostgresOptions, PostgresStore, Wakeups};
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
    /// The database is reachable but not set up for hookd, e.g. its search_path names no schema.
    #[error("database misconfigured: {0}")]
    Misconfigured(String),
}

/// Who may hold leases on a store's deliveries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sharing {
    /// This process alone: a lease found at start-up was left by a run that has ended, so
    /// `release_all` may give it back at once.
    ThisProcess,
    /// Any number of nodes: another node's lease is live until it runs out, and `claim_due`
    /// takes over leases that did. `release_all` at start-up would cause double deliveries.
    Nodes,
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
    /// Gives back every lease; only for a store whose `sharing` is `ThisProcess`, at start-up.
    async fn release_all(&self) -> Result<()>;

    // Running beside other nodes.
    /// Whether other processes may share this store and hold leases on it.
    fn sharing(&self) -> Sharing;
    /// Wake-ups sent when other nodes queue work (new messages, retries, released deliveries),
    /// so this node's worker need not wait for its next poll. `None` when no other process
    /// writes to the store: the in-process wake-up is all there is.
    async fn subscribe_wakeups(&self) -> Result<Option<Wakeups>>;
}
