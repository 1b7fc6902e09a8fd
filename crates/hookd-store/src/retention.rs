//! Retention: what the background sweep and `hookd prune` remove, and the lock that lets one
//! node at a time run the sweep.

use sqlx::{Connection, PgConnection};

/// Takes the sweep's session advisory lock if no other session holds it. The first key is
/// "swep" in ASCII; the second the schema's hash, so schemas on one server do not share it.
pub(crate) const SWEEP_TRY_LOCK: &str =
    "SELECT pg_try_advisory_lock(1937204592, hashtext(current_schema()))";
pub(crate) const SWEEP_UNLOCK: &str =
    "SELECT pg_advisory_unlock(1937204592, hashtext(current_schema()))";

/// What one `prune_before` batch deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub messages: u64,
    pub attempts: u64,
    /// Finished deliveries of the deleted messages.
    pub deliveries: u64,
}

impl Pruned {
    pub fn is_empty(&self) -> bool {
        *self == Pruned::default()
    }
}

/// The right to run the background sweep. On PostgreSQL, a session advisory lock held by a
/// connection of its own: other nodes' `lock_sweep` finds it taken, and it ends with the
/// session, so a node that dies mid-sweep frees it. On SQLite, the process is alone.
#[derive(Debug)]
pub struct SweepLock {
    held: Option<PgConnection>,
}

impl SweepLock {
    pub(crate) fn this_process() -> SweepLock {
        SweepLock { held: None }
    }

    pub(crate) fn postgres(connection: PgConnection) -> SweepLock {
        SweepLock {
            held: Some(connection),
        }
    }

    /// Gives the lock back and closes its connection. A lock dropped without this (a
    /// cancelled task) drops the connection, and the session's end releases it.
    pub async fn release(mut self) {
        if let Some(mut connection) = self.held.take() {
            let _ = sqlx::query_scalar::<_, bool>(SWEEP_UNLOCK)
                .fetch_one(&mut connection)
                .await;
            let _ = connection.close().await;
        }
    }
}
