//! SQLite connections as hookd opens them, and a `Query` run on one.
//!
//! Every connection commits with `synchronous = FULL` (an fsync of the WAL per commit: an
//! acknowledged message survives power loss) and waits up to 5 s for a lock another process
//! (`hookd prune`) holds. Three kinds:
//! - the writer's catalog connection, with foreign keys (their cascades delete what an
//!   application or endpoint owns);
//! - the writer's intake connection, without them, whose multi-row statements are `OR FAIL`:
//!   together that spares each statement a journal of its own (SQLite copies every page it
//!   first touches so that the statement alone can be undone), which no statement needs here:
//!   an error rolls the whole transaction back, the intake deletes nothing, and what the one
//!   foreign key it meets (`messages.app_id`) guards, it checks itself in the same transaction
//!   (`intake`);
//! - readers, `query_only`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, Value as Owned, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags, ToSql};

use crate::sql::{Query, Row, Value, sqlite_text};
use crate::{Result, StoreError};

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Prepared statements each connection keeps; a catalog's queries are a few dozen texts.
const STATEMENT_CACHE: usize = 128;

/// Which connection to open.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Catalog,
    Intake,
    Reader,
}

/// Opens `path`; the catalog connection, opened first, creates the file and sets WAL mode.
pub(super) fn open(path: &Path, kind: Kind) -> Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    if kind == Kind::Catalog {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    if kind == Kind::Catalog {
        // Only a connection that may write can put the file in WAL mode; it is the file's.
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Unavailable(format!(
                "SQLite would not use WAL mode (it says {mode})"
            )));
        }
    }
    let foreign_keys = if kind == Kind::Catalog { "ON" } else { "OFF" };
    conn.execute_batch(&format!(
        "PRAGMA synchronous = FULL;
         PRAGMA temp_store = MEMORY;
         PRAGMA foreign_keys = {foreign_keys};"
    ))?;
    if kind == Kind::Reader {
        // Not a read-only open: such a connection cannot create the WAL index if it happens
        // to be the first to open the file.
        conn.execute_batch("PRAGMA query_only = ON")?;
    }
    Ok(conn)
}

/// Runs `query` (its text in SQLite's placeholders) and returns its rows and how many rows it
/// changed. The statement stays prepared in the connection's cache.
/// Each statement is logged at `debug` under `hookd_store::sql`, its text only (values may be
/// secrets).
pub(super) fn run(conn: &Connection, query: &Query) -> Result<(Vec<Row>, u64)> {
    let text = sqlite_text(&query.text);
    tracing::debug!(target: "hookd_store::sql", statement = %text);
    let mut stmt = conn.prepare_cached(&text)?;
    for (at, value) in query.args.iter().enumerate() {
        stmt.raw_bind_parameter(at + 1, Bound(value))?;
    }
    let names: Arc<[String]> = stmt.column_names().map(str::to_owned).collect();
    let mut read = Vec::new();
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next()? {
        let values = (0..names.len())
            .map(|at| row.get_ref(at).map(value))
            .collect::<rusqlite::Result<_>>()?;
        read.push(Row::new(names.clone(), values));
    }
    drop(rows);
    Ok((read, conn.changes()))
}

/// A `Value` as SQLite stores its kind: flags as 0 or 1, lists as JSON text.
struct Bound<'v>(&'v Value);

impl ToSql for Bound<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        let json = |text: serde_json::Result<String>| {
            ToSqlOutput::Owned(Owned::Text(
                text.expect("lists of strings and numbers always serialize"),
            ))
        };
        Ok(match self.0 {
            Value::Int(v) => v.to_sql()?,
            Value::Text(v) => v.to_sql()?,
            Value::Bool(b) => ToSqlOutput::Owned(Owned::Integer(i64::from(*b))),
            Value::List(None) | Value::Bytes(None) | Value::Null => ToSqlOutput::Owned(Owned::Null),
            Value::List(Some(items)) => json(serde_json::to_string(items)),
            Value::Ints(items) => json(serde_json::to_string(items)),
            Value::Bytes(Some(bytes)) => bytes.to_sql()?,
        })
    }
}

fn value(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(Some(i)),
        // hookd stores no floating-point column.
        ValueRef::Real(f) => Value::Text(Some(f.to_string())),
        ValueRef::Text(t) => Value::Text(Some(String::from_utf8_lossy(t).into_owned())),
        ValueRef::Blob(b) => Value::Bytes(Some(b.to_vec())),
    }
}

/// A unique key taken is `Conflict`, a row a foreign key names missing is `NotFound`, for
/// the catalog to name what; anything else is SQLite's error.
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        use rusqlite::ffi;
        if let rusqlite::Error::SqliteFailure(failure, _) = &e
            && failure.code == ErrorCode::ConstraintViolation
        {
            match failure.extended_code {
                ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                    return StoreError::Conflict("unique key");
                }
                ffi::SQLITE_CONSTRAINT_FOREIGNKEY => return StoreError::NotFound("row"),
                _ => {}
            }
        }
        StoreError::Sqlite(e)
    }
}
