//! The SQLite backend: one file in WAL mode, one writer connection, a few readers.
//!
//! Architecture Invariant: every write goes through the single writer connection, so writes
//! queue in-process instead of racing for SQLite's lock (no `SQLITE_BUSY` when a reader would
//! upgrade). Reads use their own pool and see the last committed state.
//!
//! This file opens the database and routes each `Store` method to its module and connection
//! (the writer, `writer.rs`, or the readers' pool); the
//! SQL lives in one module per noun.

// First: their macros are used by the modules below.
#[macro_use]
mod script;
#[macro_use]
mod queue;

mod app;
mod attempt;
mod bound;
mod column;
mod destination;
mod endpoint;
mod event_type;
mod fanout;
mod gather;
mod idempotency;
mod insight;
mod message;
mod message_status;
mod redeliver;
mod retention;
mod schema;
mod token;
mod token_admin;
mod writer;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hookd_core::{
    AppId, Application, Attempt, Endpoint, EndpointId, Message, MessageId, Timestamp,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use writer::Writer;

use crate::{
    AttemptFilter, Claim, DeliveryId, Destination, EndpointStats, Handoff, Inserted, MessageFilter,
    NewMessage, Outcome, Page, PageQuery, QueuedMessage, QueuedMessageFilter, Resend, Result,
    Sealer, Sharing, Store, TokenRecord, Wakeups, Written,
};

const READERS: u32 = 4;

/// A `Store` kept in one SQLite file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    writer: Writer,
    reader: SqlitePool,
    sealer: Sealer,
    /// Applications' endpoints as the intake last read them (see `fanout`).
    subscribers: Arc<fanout::Subscribers>,
}

impl SqliteStore {
    /// Opens the database at `path`, creating it if missing, and brings its schema up to date.
    /// Secrets are sealed with `sealer`; those still in plaintext are sealed now.
    pub async fn open(path: &Path, sealer: Sealer) -> Result<SqliteStore> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL syncs the WAL on every commit: an acknowledged message survives power loss.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        // A batch's multi-row statements keep a statement journal; past 64 KiB SQLite spills it
        // to a temporary file (an open, writes and an unlink per batch). In memory it stays.
        let writer = Writer::open(&options.clone().pragma("temp_store", "memory")).await?;
        schema::migrate(&writer).await?;
        endpoint::seal_plaintext(&writer, &sealer).await?;
        // `query_only` rather than a read-only open: a read-only connection cannot create the
        // WAL index if it happens to be the first to open the file.
        let reader = pool(READERS)
            .connect_with(options.pragma("query_only", "ON"))
            .await?;
        Ok(SqliteStore {
            writer,
            reader,
            sealer,
            subscribers: Arc::default(),
        })
    }

    /// Closes every connection, waiting for queries in flight; the last close checkpoints the WAL.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// Connections stay open for the life of the store, keeping their prepared statements.
fn pool(size: u32) -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(size)
        // sqlx pings a connection each time it is taken from the pool: a round trip to its
        // thread, for a file that cannot hang up.
        .test_before_acquire(false)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
}

#[async_trait]
impl Store for SqliteStore {
    async fn insert_token(&self, record: &TokenRecord) -> Result<()> {
        token::insert(&self.writer, record).await
    }

    async fn find_token(&self, hash: &str) -> Result<Option<TokenRecord>> {
        token::find(&self.reader, hash).await
    }

    async fn count_tokens(&self) -> Result<u64> {
        token::count(&self.reader).await
    }

    async fn insert_application(&self, application: &Application) -> Result<()> {
        app::insert(&self.writer, application).await
    }

    async fn get_application(&self, id_or_uid: &str) -> Result<Option<Application>> {
        app::get(&self.reader, id_or_uid).await
    }

    async fn list_applications(&self, page: &PageQuery) -> Result<Page<Application>> {
        app::list(&self.reader, page).await
    }

    async fn update_application(&self, application: &Application) -> Result<()> {
        app::update(&self.writer, application).await
    }

    async fn delete_application(&self, id: &AppId) -> Result<bool> {
        app::delete(&self.writer, id).await
    }

    async fn insert_endpoint(&self, ep: &Endpoint) -> Result<()> {
        endpoint::insert(&self.writer, &self.sealer, ep).await
    }

    async fn get_endpoint(&self, app: &AppId, id_or_uid: &str) -> Result<Option<Endpoint>> {
        endpoint::get(&self.reader, &self.sealer, app, id_or_uid).await
    }

    async fn list_endpoints(&self, app: &AppId, page: &PageQuery) -> Result<Page<Endpoint>> {
        endpoint::list(&self.reader, &self.sealer, app, page).await
    }

    async fn update_endpoint(&self, ep: &Endpoint) -> Result<()> {
        endpoint::update(&self.writer, ep).await
    }

    async fn delete_endpoint(&self, app: &AppId, id: &EndpointId) -> Result<bool> {
        endpoint::delete(&self.writer, app, id).await
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
        endpoint::rotate_secret(&self.writer, sealer, app, id, new_secret, grace_until, now).await
    }

    async fn set_endpoint_headers(
        &self,
        app: &AppId,
        id: &EndpointId,
        headers: &BTreeMap<String, String>,
        now: Timestamp,
    ) -> Result<bool> {
        endpoint::set_headers(&self.writer, app, id, headers, now).await
    }

    async fn endpoint_stats(
        &self,
        app: &AppId,
        id: &EndpointId,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
    ) -> Result<EndpointStats> {
        destination::endpoint_stats(&self.reader, app, id, since, until).await
    }

    async fn insert_messages(&self, batch: &[NewMessage]) -> Result<Vec<Result<Inserted>>> {
        let written = fanout::write_batch(
            &self.writer,
            &self.sealer,
            &self.subscribers,
            batch,
            &[],
            None,
        )
        .await?;
        Ok(written.inserted)
    }

    async fn write_batch(
        &self,
        batch: &[NewMessage],
        outcomes: &[Outcome],
        handoff: Option<&Handoff>,
    ) -> Result<Written> {
        fanout::write_batch(
            &self.writer,
            &self.sealer,
            &self.subscribers,
            batch,
            outcomes,
            handoff,
        )
        .await
    }

    fn hands_over(&self) -> bool {
        true
    }

    async fn get_message(&self, app: &AppId, id_or_event_id: &str) -> Result<Option<Message>> {
        message::get(&self.reader, app, id_or_event_id).await
    }

    async fn list_messages(
        &self,
        app: &AppId,
        page: &PageQuery,
        filter: &MessageFilter,
    ) -> Result<Page<Message>> {
        message::list(&self.reader, app, page, filter).await
    }

    async fn expunge_message_payload(&self, app: &AppId, msg: &MessageId) -> Result<bool> {
        message::expunge_payload(&self.writer, app, msg).await
    }

    async fn list_attempts_by_endpoint(
        &self,
        app: &AppId,
        endpoint: &EndpointId,
        page: &PageQuery,
        filter: &AttemptFilter,
    ) -> Result<Page<Attempt>> {
        let of = attempt::Of::Endpoint(endpoint);
        attempt::list(&self.reader, app, of, page, filter).await
    }

    async fn list_attempts_by_message(
        &self,
        app: &AppId,
        msg: &MessageId,
        page: &PageQuery,
        filter: &AttemptFilter,
    ) -> Result<Page<Attempt>> {
        attempt::list(&self.reader, app, attempt::Of::Message(msg), page, filter).await
    }

    async fn get_attempt(&self, app: &AppId, msg: &MessageId, id: &str) -> Result<Option<Attempt>> {
        attempt::get(&self.reader, app, msg, id).await
    }

    async fn expunge_attempt_response(
        &self,
        app: &AppId,
        msg: &MessageId,
        id: &str,
    ) -> Result<bool> {
        attempt::expunge_response(&self.writer, app, msg, id).await
    }

    async fn claim_due(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
        per_endpoint: u32,
        lanes: &[(EndpointId, u32)],
    ) -> Result<Claim> {
        let lane_cap = per_endpoint.saturating_mul(2);
        queue::claim_due(
            &self.writer,
            &self.sealer,
            now,
            lease_until,
            limit,
            lane_cap,
            lanes,
        )
        .await
    }

    async fn record_outcomes(&self, outcomes: &[Outcome]) -> Result<()> {
        queue::record_outcomes(&self.writer, outcomes).await
    }

    async fn release(&self, ids: &[DeliveryId]) -> Result<()> {
        queue::release(&self.writer, ids).await
    }

    async fn release_all(&self) -> Result<()> {
        queue::release_all(&self.writer).await
    }

    async fn queue_resend(
        &self,
        app: &AppId,
        msg: &MessageId,
        endpoint: &EndpointId,
        now: Timestamp,
    ) -> Result<Resend> {
        redeliver::queue_resend(&self.writer, app, msg, endpoint, now).await
    }

    async fn recover_failed(
        &self,
        app: &AppId,
        endpoint: &EndpointId,
        since: Timestamp,
        until: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<u64> {
        redeliver::recover_failed(&self.writer, app, endpoint, since, until, now).await
    }

    async fn list_destinations(
        &self,
        app: &AppId,
        msg: &MessageId,
        page: &PageQuery,
    ) -> Result<Page<Destination>> {
        destination::list_destinations(&self.reader, &self.sealer, app, msg, page).await
    }

    async fn list_queued_messages(
        &self,
        app: &AppId,
        endpoint: &EndpointId,
        page: &PageQuery,
        filter: &QueuedMessageFilter,
    ) -> Result<Page<QueuedMessage>> {
        destination::list_queued_messages(&self.reader, app, endpoint, page, filter).await
    }

    /// One writer connection in one process: a second process on the same file would break the
    /// single-writer invariant, and `hookd` refuses to start anything but one full node on it.
    fn sharing(&self) -> Sharing {
        Sharing::ThisProcess
    }

    async fn subscribe_wakeups(&self) -> Result<Option<Wakeups>> {
        Ok(None)
    }

    async fn insert_event_type(&self, event_type: &hookd_core::EventType) -> Result<()> {
        event_type::insert(&self.writer, event_type).await
    }

    async fn get_event_type(&self, name: &str) -> Result<Option<hookd_core::EventType>> {
        event_type::get(&self.reader, name).await
    }

    async fn list_event_types(
        &self,
        page: &PageQuery,
        filter: &crate::EventTypeFilter,
    ) -> Result<Page<hookd_core::EventType>> {
        event_type::list(&self.reader, page, filter).await
    }

    async fn update_event_type(&self, event_type: &hookd_core::EventType) -> Result<bool> {
        event_type::update(&self.writer, event_type).await
    }

    async fn delete_event_type(&self, name: &str) -> Result<bool> {
        event_type::delete(&self.writer, name).await
    }

    async fn unknown_event_types(&self, names: &[String]) -> Result<Vec<String>> {
        event_type::unknown(&self.reader, names).await
    }

    async fn insert_message_for_endpoint(
        &self,
        message: &Message,
        endpoint: &EndpointId,
    ) -> Result<Inserted> {
        fanout::insert_for_endpoint(&self.writer, message, endpoint).await
    }

    async fn delete_token(&self, hash: &str) -> Result<bool> {
        token::delete(&self.writer, hash).await
    }

    async fn claim_idempotency_key(
        &self,
        key: &crate::IdempotencyKey,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<crate::IdempotencyClaim> {
        idempotency::claim(&self.writer, key, now, lease_until).await
    }

    async fn complete_idempotency_key(
        &self,
        key: &crate::IdempotencyKey,
        response: &crate::StoredResponse,
        expires_at: Timestamp,
    ) -> Result<()> {
        idempotency::complete(&self.writer, key, response, expires_at).await
    }

    async fn release_idempotency_key(&self, key: &crate::IdempotencyKey) -> Result<()> {
        idempotency::release(&self.writer, key).await
    }

    /// The file is this process's alone, and the sweep runs in one task of it.
    async fn lock_sweep(&self) -> Result<Option<crate::SweepLock>> {
        Ok(Some(crate::SweepLock::this_process()))
    }

    async fn expire_payloads(&self, now: Timestamp, limit: u32) -> Result<u64> {
        retention::expire_payloads(&self.writer, now, limit).await
    }

    async fn delete_expired_keys(&self, now: Timestamp, limit: u32) -> Result<u64> {
        idempotency::delete_expired(&self.writer, now, limit).await
    }

    async fn prune_before(&self, cutoff: Timestamp, limit: u32) -> Result<crate::Pruned> {
        retention::prune_before(&self.writer, cutoff, limit).await
    }

    async fn insert_named_token(&self, token: &TokenRecord, name: &str) -> Result<()> {
        token_admin::insert_named(&self.writer, token, name).await
    }

    async fn list_admin_tokens(&self) -> Result<Vec<crate::TokenSummary>> {
        token_admin::list_admin(&self.reader).await
    }

    async fn attempt_series(
        &self,
        of: crate::SeriesOf<'_>,
        since: Timestamp,
        until: Timestamp,
        bucket_ms: i64,
    ) -> Result<Vec<crate::AttemptBucket>> {
        insight::attempt_series(&self.reader, of, since, until, bucket_ms).await
    }

    async fn attempt_totals_by_endpoint(
        &self,
        app: &AppId,
        since: Timestamp,
    ) -> Result<Vec<crate::EndpointTotals>> {
        insight::attempt_totals(&self.reader, app, since).await
    }

    async fn queue_depth(&self, now: Timestamp) -> Result<crate::QueueDepth> {
        insight::queue_depth(&self.reader, now).await
    }

    async fn retrying_endpoints(&self, limit: u32) -> Result<Vec<crate::RetryingEndpoint>> {
        insight::retrying_endpoints(&self.reader, limit).await
    }

    async fn endpoint_refs(&self, endpoints: &[EndpointId]) -> Result<Vec<crate::EndpointRef>> {
        insight::endpoint_refs(&self.reader, endpoints).await
    }

    async fn application_counts(&self, apps: &[AppId]) -> Result<Vec<crate::AppCounts>> {
        insight::application_counts(&self.reader, apps).await
    }

    async fn list_messages_by_delivery_status(
        &self,
        app: &AppId,
        page: &PageQuery,
        filter: &MessageFilter,
        status: hookd_core::AttemptStatus,
    ) -> Result<Page<Message>> {
        message_status::list(&self.reader, app, page, filter, status).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store on a new file in a directory of its own (kept while the `TempDir` lives).
    async fn fresh_store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let sealer = Sealer::new(&crate::SecretKey::generate());
        let store = SqliteStore::open(&dir.path().join("hookd.db"), sealer)
            .await
            .unwrap();
        (dir, store)
    }

    /// A pragma's value as text, whichever type SQLite reports it in.
    async fn pragma<'c>(conn: impl sqlx::SqliteExecutor<'c>, name: &str) -> String {
        let sql = format!("SELECT CAST((SELECT * FROM pragma_{name}) AS TEXT)");
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(conn)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn every_connection_syncs_each_commit_and_sqlx_s_enforce_foreign_keys() {
        let (_dir, store) = fresh_store().await;
        // The worker's writes commit without an fsync of their own, then restore FULL.
        let now = crate::Timestamp(1);
        store.claim_due(now, now, 10, 10, &[]).await.unwrap();
        store.record_outcomes(&[]).await.unwrap();
        let mut writer = store.writer.take().await.unwrap();
        for name in [
            "journal_mode",
            "synchronous",
            "foreign_keys",
            "busy_timeout",
        ] {
            assert_eq!(
                pragma(&mut *writer, name).await,
                pragma(&store.reader, name).await,
                "{name}"
            );
        }
        assert_eq!(pragma(&mut *writer, "journal_mode").await, "wal");
        assert_eq!(pragma(&mut *writer, "synchronous").await, "2", "FULL");
        assert_eq!(pragma(&mut *writer, "foreign_keys").await, "1");
        assert_eq!(pragma(&mut *writer, "busy_timeout").await, "5000");
        assert_eq!(pragma(&mut *writer, "temp_store").await, "2", "MEMORY");
        drop(writer);
        // The intake's connection of SQLite's own.
        let mut both = store.writer.take_all().await.unwrap();
        // FULL also makes gathering its commits' WAL writes safe (`gather`). Foreign keys are
        // off: the batch's version check keeps `messages.app_id` (`bound::SETTINGS`).
        for (name, value) in [
            ("journal_mode", "wal"),
            ("synchronous", "2"),
            ("foreign_keys", "0"),
            ("busy_timeout", "5000"),
            ("temp_store", "2"),
        ] {
            assert_eq!(both.own().pragma(name).unwrap(), value, "{name}");
        }
        // Its WAL, opened by its first transaction (`record_outcomes` above), is `gather`'s.
        assert!(both.own().gathers());
        drop(both);
        let write = sqlx::query("DELETE FROM tokens")
            .execute(&store.reader)
            .await;
        assert!(write.is_err(), "readers are query-only");
    }

    #[tokio::test]
    async fn a_script_dropped_mid_transaction_is_rolled_back_before_the_next_write() {
        let (_dir, store) = fresh_store().await;
        let insert = |hash: &'static str| {
            sqlx::query("INSERT INTO tokens (hash, app_id, created_at) VALUES (?1, NULL, 1)")
                .bind(hash)
        };
        let mut script = script::Script::on(&store.writer).await.unwrap();
        let begun = concat!(light!(), "BEGIN IMMEDIATE; SELECT 1");
        script
            .run(sqlx::query(begun), script::Then::StayOpen)
            .await
            .unwrap();
        script
            .run(insert("cancelled"), script::Then::StayOpen)
            .await
            .unwrap();
        drop(script);

        script::run_once(&store.writer, insert("after"))
            .await
            .unwrap();
        let kept: Vec<String> = sqlx::query_scalar("SELECT hash FROM tokens ORDER BY hash")
            .fetch_all(&store.reader)
            .await
            .unwrap();
        assert_eq!(kept, ["after"]);
        let mut writer = store.writer.take().await.unwrap();
        assert_eq!(pragma(&mut *writer, "synchronous").await, "2", "FULL again");
    }
}
