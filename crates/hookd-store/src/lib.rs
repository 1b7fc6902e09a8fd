//! hookd's storage: the `Store` trait every backend implements, and its two backends: SQLite
//! for one process, PostgreSQL for any number of nodes sharing the work.
//!
//! This is the only crate that knows SQL. The server calls intent-named methods
//! (`insert_messages`, `claim_due`, `record_outcomes`) and never sees a query. `Store` is two
//! traits: `Catalog`, everything but the delivery queue's hot path, written once for both
//! backends (`catalog/`, over the `sql` seam); and `Queue`, the hot path (intake, claim,
//! record) and what running beside other nodes needs, written per backend.

#![forbid(unsafe_code)]

mod catalog;
mod convert;
mod database;
mod idempotency;
mod insight;
mod migrations;
mod page;
pub mod postgres;
mod queue;
mod retention;
mod seal;
mod secrets;
mod sql;
pub mod sqlite;
mod token;
mod window;

use std::collections::BTreeMap;

use async_trait::async_trait;
use hookd_core::{
    AppId, Application, Attempt, AttemptStatus, Endpoint, EndpointId, EventType, Message,
    MessageId, Timestamp,
};

pub use database::{Database, DatabaseUrl};
pub use idempotency::{IdempotencyClaim, IdempotencyKey, KeyedIntake, StoredResponse};
pub use insight::{
    AppCounts, AttemptBucket, EndpointRef, EndpointTotals, QueueDepth, RetryingEndpoint, SeriesOf,
};
pub use page::{Ordering, Page, PageQuery};
pub use postgres::{PostgresOptions, PostgresStore, Wakeups};
pub use queue::{
    Claim, DeliveryId, DeliveryState, Destination, DueDelivery, EndpointStats, Handoff, Inserted,
    NewMessage, NextStep, Outcome, QueuedMessage, QueuedMessageFilter, Resend, Written,
};
pub use retention::{Pruned, SweepLock};
pub use seal::{BadSecretKey, Sealer, SecretKey};
pub use sqlite::SqliteStore;
pub use token::{TokenRecord, TokenScope, TokenSummary};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique key is taken: an application or endpoint uid, or a message's event id.
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// What the write refers to is gone, e.g. a message's application deleted meanwhile.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// From SQLite (`From` in `sqlite::connection`, which names unique keys and foreign keys).
    #[error("SQLite error")]
    Sqlite(#[source] rusqlite::Error),
    #[error("database migration failed")]
    Migrate(#[source] Box<StoreError>),
    /// The store could not take the write; a retry may succeed.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A sealed secret does not open with this server's key: the key is not the one the
    /// secrets were sealed with, or the row was tampered with.
    #[error(
        "a stored secret does not open with this secret_key: is it the key it was sealed with?"
    )]
    WrongSecretKey,
    /// A keyed message whose idempotency key answered the same request before: nothing was
    /// stored, and this is that answer, to give again.
    #[error("this idempotency-key answered the same request before")]
    AlreadyAnswered(StoredResponse),
    /// A keyed message whose idempotency key answered another request: nothing was stored.
    #[error("this idempotency-key was used for another request")]
    KeyReused,
    /// A keyed message whose idempotency key a request still running holds.
    #[error("a request with this idempotency-key is still running")]
    KeyInProgress,
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
    /// Only the attempts made to this endpoint.
    pub endpoint_id: Option<EndpointId>,
}

/// Filters for listing event types.
#[derive(Clone, Debug, Default)]
pub struct EventTypeFilter {
    /// Archived event types are left out unless this is set.
    pub include_archived: bool,
}

/// What hookd keeps about applications, endpoints, event types and tokens, the message log
/// and its attempts, and every change to the delivery queue but its hot path. Methods are
/// named for what the caller means; each is one short transaction, never held open across a
/// network call. One implementation serves both backends (`catalog/`).
#[async_trait]
pub trait Catalog: Send + Sync {
    // Tokens.
    async fn insert_token(&self, token: &TokenRecord) -> Result<()>;
    async fn find_token(&self, hash: &str) -> Result<Option<TokenRecord>>;
    async fn count_tokens(&self) -> Result<u64>;
    /// Deletes the token (logout). False if there is no such token.
    async fn delete_token(&self, hash: &str) -> Result<bool>;

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
    /// Writes the endpoint's settings. Its secret and headers are left alone: only
    /// `rotate_endpoint_secret` and `set_endpoint_headers` change them.
    async fn update_endpoint(&self, endpoint: &Endpoint) -> Result<()>;
    /// Makes `new_secret` the endpoint's current secret; the current one keeps signing until
    /// `grace_until`. False if there is no such endpoint.
    async fn rotate_endpoint_secret(
        &self,
        app: &AppId,
        id: &EndpointId,
        new_secret: &str,
        grace_until: Timestamp,
        now: Timestamp,
    ) -> Result<bool>;
    /// Replaces the headers sent with the endpoint's deliveries. False if there is no such
    /// endpoint.
    async fn set_endpoint_headers(
        &self,
        app: &AppId,
        id: &EndpointId,
        headers: &BTreeMap<String, String>,
        now: Timestamp,
    ) -> Result<bool>;
    /// Counts the endpoint's queue rows by status, for messages created in `[since, until)`.
    async fn endpoint_stats(
        &self,
        app: &AppId,
        id: &EndpointId,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
    ) -> Result<EndpointStats>;
    /// Deletes the endpoint and drops its queued deliveries; its attempts stay in the log.
    async fn delete_endpoint(&self, app: &AppId, id: &EndpointId) -> Result<bool>;

    // Event types, global to the server and keyed by name.
    /// `Err(Conflict)` if the name is taken.
    async fn insert_event_type(&self, event_type: &EventType) -> Result<()>;
    async fn get_event_type(&self, name: &str) -> Result<Option<EventType>>;
    /// By name, in the page's order.
    async fn list_event_types(
        &self,
        page: &PageQuery,
        filter: &EventTypeFilter,
    ) -> Result<Page<EventType>>;
    /// Writes everything but the name and `created_at`. False if there is no such event type.
    async fn update_event_type(&self, event_type: &EventType) -> Result<bool>;
    /// Deletes it for good (`expunge`); endpoints that filter on it keep the name.
    async fn delete_event_type(&self, name: &str) -> Result<bool>;
    /// The names among `names` that are no event type, or an archived one.
    async fn unknown_event_types(&self, names: &[String]) -> Result<Vec<String>>;

    // Messages.
    /// Looks a message up by id, or by its event id.
    async fn get_message(&self, app: &AppId, id_or_event_id: &str) -> Result<Option<Message>>;
    async fn list_messages(
        &self,
        app: &AppId,
        page: &PageQuery,
        filter: &MessageFilter,
    ) -> Result<Page<Message>>;
    /// Removes the message's payload (reads then get `None`) and fails its deliveries that
    /// are still pending. False if there is no such message.
    async fn expunge_message_payload(&self, app: &AppId, msg: &MessageId) -> Result<bool>;
    /// Stores the message and queues one delivery of it, to `endpoint` alone, whatever the
    /// endpoint's filters (an example sent on purpose). One transaction.
    async fn insert_message_for_endpoint(
        &self,
        message: &Message,
        endpoint: &EndpointId,
    ) -> Result<Inserted>;

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
    /// Empties the attempt's stored response. False if there is no such attempt.
    async fn expunge_attempt_response(
        &self,
        app: &AppId,
        msg: &MessageId,
        id: &str,
    ) -> Result<bool>;

    // The delivery queue, beyond its hot path.
    /// Gives leased deliveries back without an attempt (on shutdown).
    async fn release(&self, ids: &[DeliveryId]) -> Result<()>;
    /// Gives back every lease; only for a store whose `sharing` is `ThisProcess`, at start-up.
    async fn release_all(&self) -> Result<()>;
    /// Queues one manual delivery of the message to the endpoint, due at `now`, whatever
    /// became of the earlier ones.
    async fn queue_resend(
        &self,
        app: &AppId,
        msg: &MessageId,
        endpoint: &EndpointId,
        now: Timestamp,
    ) -> Result<Resend>;
    /// Sends again, as manual deliveries due at `now`, every message created in
    /// `[since, until)` whose delivery to the endpoint failed for good; returns how many.
    async fn recover_failed(
        &self,
        app: &AppId,
        endpoint: &EndpointId,
        since: Timestamp,
        until: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<u64>;
    /// The endpoints the message was queued for, by endpoint id, with how each delivery stands.
    async fn list_destinations(
        &self,
        app: &AppId,
        msg: &MessageId,
        page: &PageQuery,
    ) -> Result<Page<Destination>>;
    /// The messages queued for the endpoint, by message id, with how each delivery stands.
    async fn list_queued_messages(
        &self,
        app: &AppId,
        endpoint: &EndpointId,
        page: &PageQuery,
        filter: &QueuedMessageFilter,
    ) -> Result<Page<QueuedMessage>>;

    // Idempotency keys.
    /// Takes the key for a new request until `lease_until`, unless another request holds it
    /// (its lease still running) or finished with it (its response not yet expired at `now`).
    async fn claim_idempotency_key(
        &self,
        key: &IdempotencyKey,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<IdempotencyClaim>;
    /// Stores the response of the request that holds the key, to replay until `expires_at`.
    async fn complete_idempotency_key(
        &self,
        key: &IdempotencyKey,
        response: &StoredResponse,
        expires_at: Timestamp,
    ) -> Result<()>;
    /// Frees the key of a request that failed, so that a retry runs it again.
    async fn release_idempotency_key(&self, key: &IdempotencyKey) -> Result<()>;

    // Retention.
    /// Removes the payloads of up to `limit` messages whose retention period ended by `now`
    /// (reads then show none, and their deliveries still pending fail); returns how many.
    async fn expire_payloads(&self, now: Timestamp, limit: u32) -> Result<u64>;
    /// Deletes up to `limit` idempotency keys and tokens that expired by `now`.
    async fn delete_expired_keys(&self, now: Timestamp, limit: u32) -> Result<u64>;
    /// Deletes up to `limit` messages created before `cutoff` that have no delivery still
    /// queued, with their delivery rows, and up to `limit` attempts made before `cutoff`.
    async fn prune_before(&self, cutoff: Timestamp, limit: u32) -> Result<Pruned>;

    // Admin tokens as the console manages them.
    /// Stores an admin token with the name the operator gave it.
    async fn insert_named_token(&self, token: &TokenRecord, name: &str) -> Result<()>;
    /// Every admin token (up to 1,000), oldest first; app-portal tokens are left out.
    async fn list_admin_tokens(&self) -> Result<Vec<TokenSummary>>;

    // The web UI's figures.
    /// Attempts made in `[since, until)`, counted by outcome in buckets of `bucket_ms`, oldest
    /// first, one bucket for every step of the range (empty ones included).
    async fn attempt_series(
        &self,
        of: SeriesOf<'_>,
        since: Timestamp,
        until: Timestamp,
        bucket_ms: i64,
    ) -> Result<Vec<AttemptBucket>>;
    /// The attempts made since `since` to each of the application's endpoints, by outcome.
    async fn attempt_totals_by_endpoint(
        &self,
        app: &AppId,
        since: Timestamp,
    ) -> Result<Vec<EndpointTotals>>;
    /// How many deliveries wait (and of those, are due at `now`) and how many are being sent.
    async fn queue_depth(&self, now: Timestamp) -> Result<QueueDepth>;
    /// Endpoints with deliveries waiting for a retry, most first, at most `limit`.
    async fn retrying_endpoints(&self, limit: u32) -> Result<Vec<RetryingEndpoint>>;
    /// The application and URL of each of `endpoints` that exists, in no set order.
    async fn endpoint_refs(&self, endpoints: &[EndpointId]) -> Result<Vec<EndpointRef>>;
    /// How many endpoints and messages each of `apps` has, in no set order.
    async fn application_counts(&self, apps: &[AppId]) -> Result<Vec<AppCounts>>;
    /// The message log as `list_messages`, only messages with a delivery in `status`.
    async fn list_messages_by_delivery_status(
        &self,
        app: &AppId,
        page: &PageQuery,
        filter: &MessageFilter,
        status: AttemptStatus,
    ) -> Result<Page<Message>>;
}

/// The delivery queue's hot path (intake, claim, record) and what running beside other nodes
/// needs (wake-ups, the sweep's lock): what each backend writes against its own driver.
#[async_trait]
pub trait Queue: Send + Sync {
    /// Stores each message and fans it out to the matching enabled endpoints, all in one
    /// transaction: when this returns, every message and every delivery it made is durable.
    /// A message whose `event_id` is taken gets `Err(Conflict)` alone; the others still commit.
    async fn insert_messages(&self, batch: &[NewMessage]) -> Result<Vec<Result<Inserted>>>;
    /// `insert_messages` and `record_outcomes` in one write: the server's commit loop hands
    /// each transaction the new messages and the attempts' outcomes that queued up together.
    /// A store that can (SQLite) makes it one transaction, so both share one commit and one
    /// fsync; this default records first, then inserts. `Err` means nothing was written (the
    /// caller may record the outcomes again); once the outcomes are recorded, a failure to
    /// store the messages comes back as each message's error.
    ///
    /// With `handoff`, a store that `hands_over` leases new deliveries to the caller as it
    /// stores them, as far as the handoff's room goes, and returns them ready to send; the
    /// rest are queued as usual. Others ignore it.
    async fn write_batch(
        &self,
        batch: &[NewMessage],
        outcomes: &[Outcome],
        handoff: Option<&Handoff>,
    ) -> Result<Written> {
        let _ = handoff;
        if !outcomes.is_empty() {
            self.record_outcomes(outcomes).await?;
        }
        if batch.is_empty() {
            return Ok(Written::default());
        }
        let inserted = match self.insert_messages(batch).await {
            Ok(inserted) => inserted,
            Err(e) if outcomes.is_empty() => return Err(e),
            Err(e) => {
                let why = e.to_string();
                batch
                    .iter()
                    .map(|_| Err(StoreError::Unavailable(why.clone())))
                    .collect()
            }
        };
        Ok(Written {
            inserted,
            ..Written::default()
        })
    }
    /// Whether `write_batch` takes up a `Handoff`. Only where this process alone sends what
    /// the store holds: elsewhere a handoff would bypass the claim's cluster-wide cap.
    fn hands_over(&self) -> bool {
        false
    }
    /// Leases up to `limit` deliveries due at `now` until `lease_until`, oldest first, giving
    /// no endpoint more than the caller's lane for it has room for: `lanes` lists the room
    /// left (0: pass it over) of each endpoint with deliveries outstanding in the caller; one
    /// not listed has a whole lane's room, 2 × `per_endpoint` (that many in flight and as many
    /// queued behind them, so the next request is ready when one ends). An old backlog of one
    /// endpoint therefore never crowds the others out of a claim. Endpoints with no room are
    /// left out of `Claim::next_due_at`.
    ///
    /// A store that nodes share (`Sharing::Nodes`) also holds each endpoint to `per_endpoint`
    /// live leases, counting every node's: claims wait for each other, so no two see the same
    /// free room, and a lease that ran out does not count.
    async fn claim_due(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
        per_endpoint: u32,
        lanes: &[(EndpointId, u32)],
    ) -> Result<Claim>;
    /// Writes each attempt to the log and moves its delivery on (done, retry later, or
    /// failed for good), releasing the lease; one transaction for the whole batch.
    async fn record_outcomes(&self, outcomes: &[Outcome]) -> Result<()>;

    // Running beside other nodes.
    /// Whether other processes may share this store and hold leases on it.
    fn sharing(&self) -> Sharing;
    /// Wake-ups sent when other nodes queue work (new messages, retries, released deliveries),
    /// so this node's worker need not wait for its next poll. `None` when no other process
    /// writes to the store: the in-process wake-up is all there is.
    async fn subscribe_wakeups(&self) -> Result<Option<Wakeups>>;
    /// The right to run the background sweep: `None` while another node holds it.
    async fn lock_sweep(&self) -> Result<Option<SweepLock>>;
}

/// Everything hookd keeps: its catalog and its delivery queue.
pub trait Store: Catalog + Queue + 'static {}

impl<T: Catalog + Queue + 'static> Store for T {}
