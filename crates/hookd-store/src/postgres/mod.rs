//! The PostgreSQL backend: one database shared by any number of hookd nodes.
//!
//! Every method is one short transaction on a pooled connection; nodes coordinate only through
//! the database: row locks skipped by the claim (`FOR UPDATE SKIP LOCKED`), leases that run out
//! when a node dies, unique keys for event ids, advisory locks for migrations and for claims
//! (which hold each endpoint to its cap over all nodes), and `LISTEN/NOTIFY` for wake-ups. Tables live in the connection's `current_schema()`; choose
//! another schema with the URL, e.g. `?options[search_path]=hookd`.
//!
//! This file connects and routes each `Store` method to its module; the SQL lives in one
//! module per noun, as in the SQLite backend.

mod app;
mod attempt;
mod claim;
mod column;
mod destination;
mod endpoint;
mod event_type;
mod fanout;
mod idempotency;
mod insight;
mod message;
mod message_status;
mod queue;
mod redeliver;
mod retention;
mod retry;
mod schema;
mod token;
mod token_admin;
mod wakeup;

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use hookd_core::{
    AppId, Application, Attempt, Endpoint, EndpointId, Message, MessageId, Timestamp,
};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

pub use schema::Migrated;
use wakeup::Channel;
pub use wakeup::Wakeups;

use crate::{
    AttemptFilter, Claim, DeliveryId, Destination, EndpointStats, Inserted, MessageFilter,
    NewMessage, Outcome, Page, PageQuery, QueuedMessage, QueuedMessageFilter, Resend, Result,
    Sealer, Sharing, Store, StoreError, TokenRecord,
};

/// How a node uses its PostgreSQL connections.
#[derive(Clone, Debug)]
pub struct PostgresOptions {
    /// The most connections this node opens for queries (one more listens for wake-ups).
    pub pool_size: u32,
    /// The longest one statement may run, and the longest a query waits for a free connection.
    pub statement_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            pool_size: 10,
            statement_timeout: Duration::from_secs(30),
        }
    }
}

/// A `Store` in a PostgreSQL database that other nodes may share.
#[derive(Clone, Debug)]
pub struct PostgresStore {
    pool: PgPool,
    /// One connection, opened on the first `subscribe_wakeups`, kept for `LISTEN`.
    listener_pool: PgPool,
    /// For the background sweep's own connection, opened for each sweep: it holds the sweep's
    /// session lock while the batches run on `pool`, so a pool of one cannot starve them.
    connect: PgConnectOptions,
    channel: Channel,
    sealer: Sealer,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db?...`). The
    /// schema is left as it is: call `migrate` to bring it up to date. Secrets are sealed
    /// with `sealer`, which must hold the key every node of this database uses.
    pub async fn connect(
        url: &str,
        options: &PostgresOptions,
        sealer: Sealer,
    ) -> Result<PostgresStore> {
        let timeout_ms = options.statement_timeout.as_millis().max(1);
        let connect = PgConnectOptions::from_str(url)?
            .application_name("hookd")
            .options([("statement_timeout", format!("{timeout_ms}ms"))]);
        let pool = PgPoolOptions::new()
            .max_connections(options.pool_size.max(1))
            .acquire_timeout(options.statement_timeout)
            .connect_with(connect.clone())
            .await?;
        let listener_pool = PgPoolOptions::new()
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_lazy_with(connect.clone());
        let schema: Option<String> = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(&pool)
            .await?;
        let Some(schema) = schema else {
            pool.close().await;
            return Err(StoreError::Misconfigured(
                "no schema of the search_path exists; create it first".into(),
            ));
        };
        Ok(PostgresStore {
            pool,
            listener_pool,
            connect,
            channel: Channel::for_schema(&schema),
            sealer,
        })
    }

    /// Applies the migrations the schema lacks, then seals secrets still in plaintext; safe
    /// to run from many nodes at once.
    pub async fn migrate(&self) -> Result<Migrated> {
        let migrated = schema::migrate(&self.pool).await?;
        endpoint::seal_plaintext(&self.pool, &self.sealer).await?;
        Ok(migrated)
    }

    /// Closes every connection, waiting for queries in flight. A live `Wakeups` keeps its
    /// connection until it is dropped; its pending `next` ends with an error.
    pub async fn close(&self) {
        // Calling `close` marks the pool closed; awaiting it would wait for that connection.
        drop(self.listener_pool.close());
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn insert_token(&self, record: &TokenRecord) -> Result<()> {
        token::insert(&self.pool, record).await
    }

    async fn find_token(&self, hash: &str) -> Result<Option<TokenRecord>> {
        token::find(&self.pool, hash).await
    }

    async fn count_tokens(&self) -> Result<u64> {
        token::count(&self.pool).await
    }

    async fn insert_application(&self, application: &Application) -> Result<()> {
        app::insert(&self.pool, application).await
    }

    async fn get_application(&self, id_or_uid: &str) -> Result<Option<Application>> {
        app::get(&self.pool, id_or_uid).await
    }

    async fn list_applications(&self, page: &PageQuery) -> Result<Page<Application>> {
        app::list(&self.pool, page).await
    }

    async fn update_application(&self, application: &Application) -> Result<()> {
        app::update(&self.pool, application).await
    }

    async fn delete_application(&self, id: &AppId) -> Result<bool> {
        app::delete(&self.pool, id).await
    }

    async fn insert_endpoint(&self, ep: &Endpoint) -> Result<()> {
        endpoint::insert(&self.pool, &self.sealer, ep).await
    }

    async fn get_endpoint(&self, app: &AppId, id_or_uid: &str) -> Result<Option<Endpoint>> {
        endpoint::get(&self.pool, &self.sealer, app, id_or_uid).await
    }

    async fn list_endpoints(&self, app: &AppId, page: &PageQuery) -> Result<Page<Endpoint>> {
        endpoint::list(&self.pool, &self.sealer, app, page).await
    }

    async fn update_endpoint(&self, ep: &Endpoint) -> Result<()> {
        endpoint::update(&self.pool, ep).await
    }

    async fn delete_endpoint(&self, app: &AppId, id: &EndpointId) -> Result<bool> {
        endpoint::delete(&self.pool, app, id).await
    }

    async fn rotate_endpoint_secret(
        &self,
        app: &AppId,
        id: &EndpointId,
        new_secret: &str,
        grace_until: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        let sealer = &self.sealer;
        endpoint::rotate_secret(&self.pool, sealer, app, id, new_secret, grace_until, now).await
    }

    async fn set_endpoint_headers(
        &self,
        app: &AppId,
        id: &EndpointId,
        headers: &BTreeMap<String, String>,
        now: Timestamp,
    ) -> Result<bool> {
        endpoint::set_headers(&self.pool, app, id, headers, now).await
    }

    async fn endpoint_stats(
        &self,
        app: &AppId,
        id: &EndpointId,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
    ) -> Result<EndpointStats> {
        destination::endpoint_stats(&self.pool, app, id, since, until).await
    }

    async fn insert_messages(&self, batch: &[NewMessage]) -> Result<Vec<Result<Inserted>>> {
        fanout::insert_messages(&self.pool, &self.channel, batch).await
    }

    async fn get_message(&self, app: &AppId, id_or_event_id: &str) -> Result<Option<Message>> {
        message::get(&self.pool, app, id_or_event_id).await
    }

    async fn list_messages(
        &self,
        app: &AppId,
        page: &PageQuery,
        filter: &MessageFilter,
    ) -> Result<Page<Message>> {
        message::list(&self.pool, app, page, filter).await
    }

    async fn expunge_message_payload(&self, app: &AppId, msg: &MessageId) -> Result<bool> {
        message::expunge_payload(&self.pool, app, msg).await
    }

    async fn list_attempts_by_endpoint(
        &self,
        app: &AppId,
        endpoint: &EndpointId,
        page: &PageQuery,
        filter: &AttemptFilter,
    ) -> Result<Page<Attempt>> {
        let of = attempt::Of::Endpoint(endpoint);
        attempt::list(&self.pool, app, of, page, filter).await
    }

    async fn list_attempts_by_message(
        &self,
        app: &AppId,
        msg: &MessageId,
        page: &PageQuery,
        filter: &AttemptFilter,
    ) -> Result<Page<Attempt>> {
        attempt::list(&self.pool, app, attempt::Of::Message(msg), page, filter).await
    }

    async fn get_attempt(&self, app: &AppId, msg: &MessageId, id: &str) -> Result<Option<Attempt>> {
        attempt::get(&self.pool, app, msg, id).await
    }

    async fn expunge_attempt_response(
        &self,
        app: &AppId,
        msg: &MessageId,
        id: &str,
    ) -> Result<bool> {
        attempt::expunge_response(&self.pool, app, msg, id).await
    }

    async fn claim_due(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
        per_endpoint: u32,
        lanes: &[(EndpointId, u32)],
    ) -> Result<Claim> {
        // The cluster-wide cap (per_endpoint) is below a lane's, so only full lanes matter.
        let skip: Vec<EndpointId> = lanes
            .iter()
            .filter(|(_, room)| *room == 0)
            .map(|(id, _)| id.clone())
            .collect();
        queue::claim_due(
            &self.pool,
            &self.sealer,
            now,
            lease_until,
            limit,
            per_endpoint,
            &skip,
        )
        .await
    }

    async fn record_outcomes(&self, outcomes: &[Outcome]) -> Result<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        queue::record_outcomes(&self.pool, &self.channel, outcomes).await
    }

    async fn release(&self, ids: &[DeliveryId]) -> Result<()> {
        queue::release(&self.pool, &self.channel, ids).await
    }

    async fn release_all(&self) -> Result<()> {
        queue::release_all(&self.pool).await
    }

    async fn queue_resend(
        &self,
        app: &AppId,
        msg: &MessageId,
        endpoint: &EndpointId,
        now: Timestamp,
    ) -> Result<Resend> {
        redeliver::queue_resend(&self.pool, &self.channel, app, msg, endpoint, now).await
    }

    async fn recover_failed(
        &self,
        app: &AppId,
        endpoint: &EndpointId,
        since: Timestamp,
        until: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<u64> {
        let channel = &self.channel;
        redeliver::recover_failed(&self.pool, channel, app, endpoint, since, until, now).await
    }

    async fn list_destinations(
        &self,
        app: &AppId,
        msg: &MessageId,
        page: &PageQuery,
    ) -> Result<Page<Destination>> {
        destination::list_destinations(&self.pool, &self.sealer, app, msg, page).await
    }

    async fn list_queued_messages(
        &self,
        app: &AppId,
        endpoint: &EndpointId,
        page: &PageQuery,
        filter: &QueuedMessageFilter,
    ) -> Result<Page<QueuedMessage>> {
        destination::list_queued_messages(&self.pool, app, endpoint, page, filter).await
    }

    fn sharing(&self) -> Sharing {
        Sharing::Nodes
    }

    async fn subscribe_wakeups(&self) -> Result<Option<Wakeups>> {
        self.channel.subscribe(&self.listener_pool).await.map(Some)
    }

    async fn insert_event_type(&self, event_type: &hookd_core::EventType) -> Result<()> {
        event_type::insert(&self.pool, event_type).await
    }

    async fn get_event_type(&self, name: &str) -> Result<Option<hookd_core::EventType>> {
        event_type::get(&self.pool, name).await
    }

    async fn list_event_types(
        &self,
        page: &PageQuery,
        filter: &crate::EventTypeFilter,
    ) -> Result<Page<hookd_core::EventType>> {
        event_type::list(&self.pool, page, filter).await
    }

    async fn update_event_type(&self, event_type: &hookd_core::EventType) -> Result<bool> {
        event_type::update(&self.pool, event_type).await
    }

    async fn delete_event_type(&self, name: &str) -> Result<bool> {
        event_type::delete(&self.pool, name).await
    }

    async fn unknown_event_types(&self, names: &[String]) -> Result<Vec<String>> {
        event_type::unknown(&self.pool, names).await
    }

    async fn insert_message_for_endpoint(
        &self,
        message: &Message,
        endpoint: &EndpointId,
    ) -> Result<Inserted> {
        fanout::insert_for_endpoint(&self.pool, &self.channel, message, endpoint).await
    }

    async fn delete_token(&self, hash: &str) -> Result<bool> {
        token::delete(&self.pool, hash).await
    }

    async fn claim_idempotency_key(
        &self,
        key: &crate::IdempotencyKey,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<crate::IdempotencyClaim> {
        idempotency::claim(&self.pool, key, now, lease_until).await
    }

    async fn complete_idempotency_key(
        &self,
        key: &crate::IdempotencyKey,
        response: &crate::StoredResponse,
        expires_at: Timestamp,
    ) -> Result<()> {
        idempotency::complete(&self.pool, key, response, expires_at).await
    }

    async fn release_idempotency_key(&self, key: &crate::IdempotencyKey) -> Result<()> {
        idempotency::release(&self.pool, key).await
    }

    async fn lock_sweep(&self) -> Result<Option<crate::SweepLock>> {
        retention::lock_sweep(&self.connect).await
    }

    async fn expire_payloads(&self, now: Timestamp, limit: u32) -> Result<u64> {
        retention::expire_payloads(&self.pool, now, limit).await
    }

    async fn delete_expired_keys(&self, now: Timestamp, limit: u32) -> Result<u64> {
        idempotency::delete_expired(&self.pool, now, limit).await
    }

    async fn prune_before(&self, cutoff: Timestamp, limit: u32) -> Result<crate::Pruned> {
        retention::prune_before(&self.pool, cutoff, limit).await
    }

    async fn insert_named_token(&self, token: &TokenRecord, name: &str) -> Result<()> {
        token_admin::insert_named(&self.pool, token, name).await
    }

    async fn list_admin_tokens(&self) -> Result<Vec<crate::TokenSummary>> {
        token_admin::list_admin(&self.pool).await
    }

    async fn attempt_series(
        &self,
        of: crate::SeriesOf<'_>,
        since: Timestamp,
        until: Timestamp,
        bucket_ms: i64,
    ) -> Result<Vec<crate::AttemptBucket>> {
        insight::attempt_series(&self.pool, of, since, until, bucket_ms).await
    }

    async fn attempt_totals_by_endpoint(
        &self,
        app: &AppId,
        since: Timestamp,
    ) -> Result<Vec<crate::EndpointTotals>> {
        insight::attempt_totals(&self.pool, app, since).await
    }

    async fn queue_depth(&self, now: Timestamp) -> Result<crate::QueueDepth> {
        insight::queue_depth(&self.pool, now).await
    }

    async fn retrying_endpoints(&self, limit: u32) -> Result<Vec<crate::RetryingEndpoint>> {
        insight::retrying_endpoints(&self.pool, limit).await
    }

    async fn endpoint_refs(&self, endpoints: &[EndpointId]) -> Result<Vec<crate::EndpointRef>> {
        insight::endpoint_refs(&self.pool, endpoints).await
    }

    async fn application_counts(&self, apps: &[AppId]) -> Result<Vec<crate::AppCounts>> {
        insight::application_counts(&self.pool, apps).await
    }

    async fn list_messages_by_delivery_status(
        &self,
        app: &AppId,
        page: &PageQuery,
        filter: &MessageFilter,
        status: hookd_core::AttemptStatus,
    ) -> Result<Page<Message>> {
        message_status::list(&self.pool, app, page, filter, status).await
    }
}
