//! hookd-store's integration tests: one conformance suite that every backend must pass.
//!
//! Tests take a `&dyn Store` from `each_store`, so a new backend joins by being opened there.
//! PostgreSQL joins when `HOOKD_TEST_POSTGRES_URL` is set, each test in a schema of its own.

mod applications;
mod attempts;
mod endpoint_cap;
mod endpoints;
mod event_types;
mod fixtures;
mod idempotency;
mod insight;
mod messages;
mod pagination;
mod postgres;
mod queue;
mod redelivery;
mod retention;
mod secrets;
mod sqlite;

use hookd_store::{SqliteStore, Store};

use crate::fixtures::sealer;

/// Runs `test` against a fresh, empty store of each backend.
pub async fn each_store(test: impl AsyncFn(&dyn Store)) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let sqlite = SqliteStore::open(&dir.path().join("hookd.db"), sealer())
        .await
        .expect("open SQLite");
    test(&sqlite).await;
    sqlite.close().await;

    let Some(scratch) = postgres::Scratch::create().await else {
        return;
    };
    let store = scratch.store().await;
    test(&store).await;
    store.close().await;
    scratch.remove().await;
}
