//! Wake-ups between nodes: `NOTIFY` inside the transactions that queue work, `LISTEN` on a
//! connection of its own in every node.
//!
//! PostgreSQL delivers a notification only when the transaction that sent it commits, so a
//! woken node always finds the work. Notifications are not durable: one sent while a listener
//! reconnects is lost, which is why a lost connection counts as a wake-up and the worker still
//! polls slowly.

use std::hash::{BuildHasher, RandomState};

use sqlx::PgConnection;
use sqlx::postgres::{PgListener, PgPool};

use crate::{Result, StoreError};

/// PostgreSQL's longest identifier, in bytes; a longer channel name is an error in `pg_notify`.
const MAX_CHANNEL: usize = 63;

/// Where one store sends its wake-ups: the channel of its schema (two hookd installations in
/// one database do not wake each other), marked with this store's own id so that its listener
/// passes over what the store sent itself, unless sent to every node.
#[derive(Clone, Debug)]
pub(super) struct Channel {
    name: String,
    sender: String,
}

impl Channel {
    pub(super) fn for_schema(schema: &str) -> Channel {
        let mut name = format!("hookd_work.{schema}");
        while name.len() > MAX_CHANNEL {
            name.pop();
        }
        Channel {
            name,
            // Each RandomState has fresh random keys: a mark no other store shares.
            sender: format!("{:016x}", RandomState::new().hash_one(std::process::id())),
        }
    }

    /// Wakes the other nodes when `tx` commits.
    pub(super) async fn notify(&self, tx: &mut PgConnection) -> Result<()> {
        self.send(tx, &self.sender).await
    }

    /// Wakes every node, this one included, when `tx` commits: for work that this node's
    /// worker may not know about either, such as room freed under an endpoint's cap.
    pub(super) async fn notify_every_node(&self, tx: &mut PgConnection) -> Result<()> {
        self.send(tx, "").await
    }

    async fn send(&self, tx: &mut PgConnection, payload: &str) -> Result<()> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(&self.name)
            .bind(payload)
            .execute(tx)
            .await?;
        Ok(())
    }

    /// Starts listening, on a pool of one connection that exists for it alone: a listener holds
    /// its connection for good, which must not shrink the pool queries use.
    pub(super) async fn subscribe(&self, listener_pool: &PgPool) -> Result<Wakeups> {
        let mut listener = PgListener::connect_with(listener_pool).await?;
        listener.listen(&self.name).await?;
        Ok(Wakeups {
            listener,
            own: self.sender.clone(),
        })
    }
}

/// Wake-ups from the nodes sharing a PostgreSQL store: each `next` means deliveries may have
/// become due (new messages, retries, work given back by a node shutting down) or claimable
/// (a recorded outcome freed room under an endpoint's cap, perhaps on this node).
pub struct Wakeups {
    listener: PgListener,
    own: String,
}

impl std::fmt::Debug for Wakeups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wakeups").finish_non_exhaustive()
    }
}

impl Wakeups {
    /// Waits for the next wake-up from another node, or one sent to every node. A lost
    /// connection is reported as a wake-up too, since those sent meanwhile are gone; the
    /// listener reconnects by itself. `Err` means the database cannot be reached now: wait a
    /// little and call again.
    pub async fn next(&mut self) -> Result<()> {
        loop {
            match self.listener.try_recv().await {
                Ok(Some(note)) if note.payload() == self.own => continue,
                Ok(_) => return Ok(()),
                Err(e) => return Err(StoreError::Database(e)),
            }
        }
    }
}
