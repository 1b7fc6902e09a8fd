//! Scripts: a write transaction sent to SQLite as one or two multi-statement queries.
//!
//! sqlx runs each SQLite connection on a thread of its own; every query, and every `BEGIN` and
//! `COMMIT`, is a round trip to that thread, two context switches or more. The hot writes
//! (intake, claim, recording attempts) are a handful of statements each, so instead of one
//! round trip per statement they send `BEGIN IMMEDIATE; ...; COMMIT` as one query, which the
//! connection's thread runs start to end. The statements share one argument list (`?1`, `?2`,
//! ... name the same values in every statement), and the rows of all of them come back
//! together.
//!
//! A script that fails part-way leaves its transaction open on the connection: `Script` rolls
//! it back before it gives the connection back; dropped with the transaction open (a cancelled
//! future), it keeps the connection in a task of its own until that has rolled back.
//!
//! Durability: the connection commits with `synchronous = FULL` (an fsync of the WAL per
//! commit). The worker's own writes (a claim, the attempts' outcomes) may run between `light!()`
//! and `full!()` (the outcomes on their own: `bound::Prepared::light`, on the intake's
//! connection): they commit without an fsync of their own, and the next FULL commit's fsync,
//! on either connection, makes them durable with it (the WAL is one append-only file). So
//! `kill -9` loses nothing; a power cut can lose the last moments of claims and outcomes, and
//! their deliveries are made again, never lost: delivery stays at-least-once. Messages are
//! always FULL. A script that fails part-way restores FULL before the connection is used again.

use sqlx::Sqlite;
use sqlx::sqlite::{SqliteArguments, SqliteConnection, SqliteRow};

use super::bound::{Db, Prepared};
use super::writer::{HeldAll, Writer};
use crate::{Result, StoreError};

type Query<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments>;

/// NULL arguments added after a script's own. sqlx binds a statement's numbered parameters
/// (`?4`) by number, but takes each number the statement skips (here `?1` to `?3`) for a
/// positional parameter and binds it to the next argument in a count that runs on across the
/// script's statements; once that count passes the number of arguments, it stops binding the
/// statement, silently, so its later parameters read NULL. A script whose statements skip
/// numbers (`INSERT_AND_QUEUE`'s do) would lose writes that way. The skipped numbers are bound
/// to padding or to other statements' values, which the statement never reads.
const PADDING: usize = 32;

/// Starts a stretch of commits that need no fsync of their own (see the module's docs); the
/// script must end it with `FULL`.
macro_rules! light {
    () => {
        "PRAGMA synchronous = NORMAL;"
    };
}

/// Ends what `light!` began.
macro_rules! full {
    () => {
        "PRAGMA synchronous = FULL;"
    };
}

pub(super) struct Script {
    /// Always there but while `Drop` sends it off to roll back.
    conn: Option<HeldAll>,
    open: bool,
}

/// Whether a script leaves its transaction open for the next one, or ends it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Then {
    /// The script began (or continued) the transaction and more follows.
    StayOpen,
    /// The script ended with `COMMIT`.
    Committed,
}

impl Script {
    /// Takes the writer connection.
    pub(super) async fn on(writer: &Writer) -> Result<Script> {
        Ok(Script {
            conn: Some(writer.take_all().await?),
            open: false,
        })
    }

    fn conn(&mut self) -> &mut SqliteConnection {
        self.conn.as_mut().expect("taken only by drop").sqlx()
    }

    /// Runs `f` on the writer's connection of SQLite's own, with its prepared statements
    /// (`bound`), in no transaction of sqlx's: the two connections' writes would wait on each
    /// other's lock. If `f` fails, its transaction, if any, is rolled back.
    pub(super) fn bound<R>(&mut self, f: impl FnOnce(Db, &Prepared) -> Result<R>) -> Result<R> {
        if self.open {
            return Err(StoreError::Corrupt(
                "a bound write inside a script's transaction".into(),
            ));
        }
        self.conn
            .as_mut()
            .expect("taken only by drop")
            .with_own(|db, prepared| {
                let result = f(db, prepared);
                if result.is_err() {
                    db.rollback();
                }
                result
            })
    }

    /// Runs `query` in one round trip and returns the rows of all its statements. The first
    /// script of a transaction starts with `BEGIN IMMEDIATE`; `then` says how this one ends.
    pub(super) async fn run(&mut self, query: Query<'_>, then: Then) -> Result<Vec<SqliteRow>> {
        self.open = true;
        let query = (0..PADDING).fold(query, |query, _| query.bind(None::<i64>));
        match query.fetch_all(self.conn()).await {
            Ok(rows) => {
                self.open = then == Then::StayOpen;
                Ok(rows)
            }
            Err(e) => {
                // Ends the transaction if the failed statement left it open; an error here
                // means it was not ("no transaction is active").
                let _ = sqlx::query("ROLLBACK").execute(self.conn()).await;
                if sqlx::query(full!()).execute(self.conn()).await.is_ok() {
                    self.open = false;
                }
                Err(e.into())
            }
        }
    }
}

impl Drop for Script {
    fn drop(&mut self) {
        if let (true, Some(mut conn)) = (self.open, self.conn.take()) {
            // Dropped mid-transaction (a cancelled future): nobody may write inside someone
            // else's transaction, so the connection stays taken until it has rolled back.
            tokio::spawn(async move {
                let conn = conn.sqlx();
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                let _ = sqlx::query(full!()).execute(&mut *conn).await;
            });
        }
    }
}

/// One round trip for a script that leaves no transaction open: one statement, or `BEGIN
/// IMMEDIATE` ... `COMMIT`.
pub(super) async fn run_once(writer: &Writer, query: Query<'_>) -> Result<Vec<SqliteRow>> {
    Script::on(writer).await?.run(query, Then::Committed).await
}
