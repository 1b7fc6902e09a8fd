//! The writer: SQLite's one write connection, held by the store itself rather than by a pool.
//!
//! sqlx's pool pings a connection on its thread each time it is given back, in a task of its
//! own, and only then lets the next caller take it. Every write takes the one writer, so under
//! load that put a spawned task and two hand-offs between threads (about 0.3 ms on two busy
//! cores) between one commit and the next. A mutex hands the connection straight on; callers
//! take turns in the order they asked.
//!
//! Beside the connection it keeps the statements the intake runs through SQLite's C API
//! (`bound`), prepared on first use and finalized before the connection closes.

use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard};

use super::bound::{Db, Prepared};
use crate::{Result, StoreError};

/// How long a caller waits for the writer before it gives up (what sqlx's pool allowed).
const WAIT: Duration = Duration::from_secs(30);

/// The writer connection, while one caller has it.
pub(super) type Held = OwnedMappedMutexGuard<Option<Conn>, SqliteConnection>;
/// The writer connection and its prepared statements, while one caller has them.
pub(super) type HeldAll = OwnedMappedMutexGuard<Option<Conn>, Conn>;

#[derive(Clone, Debug)]
pub(super) struct Writer(Arc<Mutex<Option<Conn>>>);

/// The connection, and the statements prepared on it through the C API.
pub(super) struct Conn {
    /// Always there but while `Writer::close` closes it.
    sqlx: Option<SqliteConnection>,
    prepared: Option<Prepared>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("prepared", &self.prepared.is_some())
            .finish_non_exhaustive()
    }
}

impl Conn {
    pub(super) fn sqlx(&mut self) -> &mut SqliteConnection {
        self.sqlx.as_mut().expect("taken only by close")
    }

    /// Runs `f` on the connection's raw handle, with the statements prepared on it. sqlx's
    /// connection thread is parked meanwhile.
    pub(super) async fn with_handle<R>(
        &mut self,
        f: impl FnOnce(Db, &Prepared) -> Result<R>,
    ) -> Result<R> {
        let sqlx = self.sqlx.as_mut().expect("taken only by close");
        let mut locked = sqlx.lock_handle().await?;
        // SAFETY: sqlx's handle lock is held until `locked` drops, after `f`; the handle is
        // the open connection's.
        let db = unsafe { Db::new(locked.as_raw_handle()) };
        let prepared = match &mut self.prepared {
            Some(prepared) => prepared,
            unprepared => unprepared.insert(Prepared::new(db)?),
        };
        f(db, prepared)
    }

    /// Finalizes the prepared statements under sqlx's handle lock.
    async fn finalize(&mut self) {
        if let (Some(prepared), Some(sqlx)) = (self.prepared.take(), self.sqlx.as_mut()) {
            // If sqlx's thread has gone, so has the handle, and the statements with it.
            if let Ok(_locked) = sqlx.lock_handle().await {
                prepared.finalize();
            }
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // Dropped without `Writer::close`: the statements must still go before sqlx closes
        // the handle (which it refuses to, and panics, with statements left). Taking sqlx's
        // handle lock waits only for its thread to finish what it runs, if anything.
        if self.prepared.is_some() {
            futures_executor::block_on(self.finalize());
        }
    }
}

impl Writer {
    pub(super) async fn open(options: &SqliteConnectOptions) -> Result<Writer> {
        let sqlx = options.connect().await?;
        let conn = Conn {
            sqlx: Some(sqlx),
            prepared: None,
        };
        Ok(Writer(Arc::new(Mutex::new(Some(conn)))))
    }

    /// Takes the connection once whoever has it lets go.
    pub(super) async fn take(&self) -> Result<Held> {
        let all = self.take_all().await?;
        Ok(OwnedMappedMutexGuard::map(all, Conn::sqlx))
    }

    /// Takes the connection and its prepared statements once whoever has them lets go.
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

    /// Closes the connection once whoever has it lets go; later calls get `Unavailable`.
    pub(super) async fn close(&self) {
        if let Some(mut conn) = self.0.lock().await.take() {
            conn.finalize().await;
            if let Some(sqlx) = conn.sqlx.take() {
                let _ = sqlx.close().await;
            }
        }
    }
}
