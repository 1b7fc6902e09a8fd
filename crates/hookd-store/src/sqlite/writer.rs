//! The writer: SQLite's one write connection, held by the store itself rather than by a pool.
//!
//! sqlx's pool pings a connection on its thread each time it is given back, in a task of its
//! own, and only then lets the next caller take it. Every write takes the one writer, so under
//! load that put a spawned task and two hand-offs between threads (about 0.3 ms on two busy
//! cores) between one commit and the next. A mutex hands the connection straight on; callers
//! take turns in the order they asked.

use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard};

use crate::{Result, StoreError};

/// How long a caller waits for the writer before it gives up (what sqlx's pool allowed).
const WAIT: Duration = Duration::from_secs(30);

/// The writer connection, while one caller has it.
pub(super) type Held = OwnedMappedMutexGuard<Option<SqliteConnection>, SqliteConnection>;

#[derive(Clone, Debug)]
pub(super) struct Writer(Arc<Mutex<Option<SqliteConnection>>>);

impl Writer {
    pub(super) async fn open(options: &SqliteConnectOptions) -> Result<Writer> {
        let conn = options.connect().await?;
        Ok(Writer(Arc::new(Mutex::new(Some(conn)))))
    }

    /// Takes the connection once whoever has it lets go.
    pub(super) async fn take(&self) -> Result<Held> {
        let guard = tokio::time::timeout(WAIT, self.0.clone().lock_owned())
            .await
            .map_err(|_| {
                StoreError::Unavailable(format!(
                    "the database writer was busy for {} s",
                    WAIT.as_secs()
                ))
            })?;
        OwnedMutexGuard::try_map(guard, Option::as_mut)
            .map_err(|_| StoreError::Unavailable("the store is closed".into()))
    }

    /// Closes the connection once whoever has it lets go; later calls get `Unavailable`.
    pub(super) async fn close(&self) {
        if let Some(conn) = self.0.lock().await.take() {
            let _ = conn.close().await;
        }
    }
}
