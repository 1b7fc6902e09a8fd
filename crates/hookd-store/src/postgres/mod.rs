//! The PostgreSQL backend: one database shared by any number of hookd nodes.
//!
//! Every method is one short transaction on a pooled connection; nodes coordinate only through
//! the database: row locks skipped by the claim (`FOR UPDATE SKIP LOCKED`), leases that run out
//! when a node dies, unique keys for event ids, advisory locks for migrations and for claims
//! (which hold each endpoint to its cap over all nodes), and `LISTEN/NOTIFY` for wake-ups. Tables live in the connection's `current_schema()`; choose
//! another schema with the URL, e.g. `?options[search_path]=hookd`.
//!
//! The catalog runs over `db.rs` (`PgDb`, the node's pool); this file connects, and routes
//! each `Queue` method to the hot path's modules: `fanout` (intake), `claim` and `queue`
//! (claims and outcomes), `wakeup` (`LISTEN/NOTIFY`).

mod claim;
mod column;
mod db;
mod fanout;
mod keys;
mod queue;
mod retention;
mod retry;
mod schema;
mod wakeup;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use hookd_core::{EndpointId, Timestamp};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::catalog::{Backend, seal_plaintext};
use crate::sql::Db;
use db::PgDb;

pub use schema::Migrated;
use wakeup::Channel;
pub use wakeup::Wakeups;

use crate::{
    Claim, Inserted, NewMessage, Outcome, Queue, Result, Sealer, Sharing, StoreError, SweepLock,
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
    /// The pool and the wake-up channel, which the catalog runs on.
    db: PgDb,
    /// One connection, opened on the first `subscribe_wakeups`, kept for `LISTEN`.
    listener_pool: PgPool,
    /// For the background sweep's own connection, opened for each sweep: it holds the sweep's
    /// session lock while the batches run on `pool`, so a pool of one cannot starve them.
    connect: PgConnectOptions,
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
            db: PgDb {
                pool,
                channel: Channel::for_schema(&schema),
            },
            listener_pool,
            connect,
            sealer,
        })
    }

    /// Applies the migrations the schema lacks, then seals secrets still in plaintext; safe
    /// to run from many nodes at once.
    pub async fn migrate(&self) -> Result<Migrated> {
        let migrated = schema::migrate(&self.db.pool).await?;
        seal_plaintext(&self.db, &self.sealer).await?;
        Ok(migrated)
    }

    /// Closes every connection, waiting for queries in flight. A live `Wakeups` keeps its
    /// connection until it is dropped; its pending `next` ends with an error.
    pub async fn close(&self) {
        // Calling `close` marks the pool closed; awaiting it would wait for that connection.
        drop(self.listener_pool.close());
        self.db.pool.close().await;
    }
}

impl Backend for PostgresStore {
    fn catalog(&self) -> (&dyn Db, &Sealer) {
        (&self.db, &self.sealer)
    }
}

#[async_trait]
impl Queue for PostgresStore {
    async fn insert_messages(&self, batch: &[NewMessage]) -> Result<Vec<Result<Inserted>>> {
        fanout::insert_messages(&self.db.pool, &self.db.channel, batch).await
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
        let (pool, sealer) = (&self.db.pool, &self.sealer);
        queue::claim_due(pool, sealer, now, lease_until, limit, per_endpoint, &skip).await
    }

    async fn record_outcomes(&self, outcomes: &[Outcome]) -> Result<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        queue::record_outcomes(&self.db.pool, &self.db.channel, outcomes).await
    }

    /// Nodes share the database; each holds leases the others must respect.
    fn sharing(&self) -> Sharing {
        Sharing::Nodes
    }

    async fn subscribe_wakeups(&self) -> Result<Option<Wakeups>> {
        self.db
            .channel
            .subscribe(&self.listener_pool)
            .await
            .map(Some)
    }

    async fn lock_sweep(&self) -> Result<Option<SweepLock>> {
        retention::lock_sweep(&self.connect).await
    }
}
