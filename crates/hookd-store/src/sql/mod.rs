//! The seam between the catalog, written once, and the two backends: a query (`Query`, with
//! `$1`-style parameters and `Value`s), its rows (`Row`), and `Db`, which runs queries on a
//! backend's connections. Only the delivery queue's hot path (intake, claim, record) and the
//! wake-ups are written per backend, against its own driver.

mod query;
mod row;
mod value;

use async_trait::async_trait;

pub(crate) use query::{Query, sql, sqlite_text};
pub(crate) use row::Row;
pub(crate) use value::Value;

use crate::Result;

/// Which SQL a backend speaks, for the few fragments that differ (`Query::in_list`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// What a backend gives the catalog: reads, writes of one statement, and transactions.
/// Unique-key violations come back as `StoreError::Conflict`, for the caller to name.
#[async_trait]
pub trait Db: Send + Sync {
    fn dialect(&self) -> Dialect;
    /// Runs a read, seeing everything committed before it began.
    async fn fetch(&self, query: Query) -> Result<Vec<Row>>;
    /// Runs one writing statement in a transaction of its own; how many rows it changed.
    async fn execute(&self, query: Query) -> Result<u64>;
    /// Runs one writing statement that returns rows (`RETURNING`), in a transaction of its own.
    async fn execute_returning(&self, query: Query) -> Result<Vec<Row>>;
    /// Begins a write transaction; dropped without `commit`, it rolls back.
    async fn begin(&self) -> Result<Box<dyn Tx>>;
}

/// An open write transaction.
#[async_trait]
pub trait Tx: Send {
    async fn fetch(&mut self, query: Query) -> Result<Vec<Row>>;
    async fn execute(&mut self, query: Query) -> Result<u64>;
    /// Wakes the workers of every node when this commits, for deliveries it queued. Nodes
    /// that share nothing but the database need it (PostgreSQL's `NOTIFY`); a store of one
    /// process leaves that to the caller's in-process wake-up.
    async fn notify_queued(&mut self) -> Result<()>;
    async fn commit(self: Box<Self>) -> Result<()>;
}

/// The first row, if any.
pub(crate) fn first(rows: Vec<Row>) -> Option<Row> {
    rows.into_iter().next()
}
