//! The checkpointer: copies the WAL back into the database file from a connection of its own,
//! so the writer never stops mid-commit to do it.
//!
//! SQLite's default is for the connection whose commit pushes the WAL past 1,000 pages to
//! checkpoint there and then: every few hundred commits one of them, and every message and
//! delivery queued behind it on the single writer, waits for the copy and its fsync. Here the
//! writer's automatic checkpoints are off and this task runs a PASSIVE checkpoint (it never
//! waits for the writer or the readers, nor they for it) every `PERIOD`, until every handle to
//! the store is dropped or the store is closed.

use std::time::Duration;

use sqlx::SqlitePool;
use tokio::sync::watch;

const PERIOD: Duration = Duration::from_millis(250);

/// Starts the task; it ends when `alive`'s sender is dropped or `pool` is closed.
pub(super) fn spawn(pool: SqlitePool, mut alive: watch::Receiver<()>) {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(PERIOD) => {}
                _ = alive.changed() => break,
            }
            if pool.is_closed() {
                return;
            }
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await
            {
                tracing::warn!(error = %e, "checkpointing the WAL failed; retrying");
            }
        }
        pool.close().await;
    });
}
