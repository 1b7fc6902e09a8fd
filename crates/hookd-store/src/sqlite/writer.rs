//! The writer: SQLite's write connections, held by the store itself rather than by a pool.
//!
//! sqlx's pool pings a connection on its thread each time it is given back, in a task of its
//! own, and only then lets the next caller take it. Every write takes the one writer, so under
//! load that put a spawned task and two hand-offs between threads (about 0.3 ms on two busy
//! cores) between one commit and the next. A mutex hands the connection straight on; callers
//! take turns in the order they asked.
//!
//! It holds two connections: sqlx's, for every script and query, and one of SQLite's own
//! (`bound::Connection`) for the intake's prepared statements. One mutex for both, so only one
//! of them writes at a time and neither waits on the other's lock.

use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection as _};
use tokio::sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard};

use super::bound::{Connection, Db, Prepared};
use crate::{Result, StoreError};

/// How long a caller waits for the writer before it gives up (what sqlx's pool allowed).
const WAIT: Duration = Duration::from_secs(30);

/// sqlx's write connection, while one caller has the writer.
pub(super) type Held = OwnedMappedMutexGuard<Option<Conn>, SqliteConnection>;
/// Both write connections, while one caller has them.
pub(super) type HeldAll = OwnedMappedMutexGuard<Option<Conn>, Conn>;

#[derive(Clone)]
pub(super) struct Writer(Arc<Mutex<Option<Conn>>>);

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

/// The two write connections.
pub(super) struct Conn {
    sqlx: SqliteConnection,
    own: Connection,
}

impl Conn {
    pub(super) fn sqlx(&mut self) -> &mut SqliteConnection {
        &mut self.sqlx
    }

    /// Runs `f` on the connection of SQLite's own, with the statements prepared on it.
    pub(super) fn with_own<R>(&mut self, f: impl FnOnce(Db, &Prepared) -> Result<R>) -> Result<R> {
        self.own.with(f)
    }

    #[cfg(test)]
    pub(super) fn own(&mut self) -> &mut Connection {
        &mut self.own
    }
}

impl Writer {
    pub(super) async fn open(options: &SqliteConnectOptions) -> Result<Writer> {
        // sqlx's first: it creates the file and puts it in WAL mode.
        let sqlx = options.connect().await?;
        let own = Connection::open(options.get_filename())?;
        let conn = Conn { sqlx, own };
        Ok(Writer(Arc::new(Mutex::new(Some(conn)))))
    }

    /// Takes sqlx's write connection once whoever has the writer lets go.
    pub(super) async fn take(&self) -> Result<Held> {
        let all = self.take_all().await?;
        Ok(OwnedMappedMutexGuard::map(all, Conn::sqlx))
    }

    /// Takes both write connections once whoever has them lets go.
    pub(super) async fn take_all(&self) -> Result<HeldAll> {
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

    /// Closes both connections once whoever has them lets go; later calls get `Unavailable`.
    pub(super) async fn close(&self) {
        if let Some(Conn { sqlx, own }) = self.0.lock().await.take() {
            drop(own);
            let _ = sqlx.close().await;
        }
    }
}
