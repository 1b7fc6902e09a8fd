//! The intake's batches, and outcomes recorded on their own, through SQLite's C API: prepared
//! multi-row statements with bound values, run on a write connection of SQLite's own.
//!
//! A script (`script`) hands SQLite a batch as JSON arrays that its statements take apart
//! (`jsonb_each`, `->>`); SQLite's JSON functions were about a tenth of hookd's instructions.
//! Here the same rows are bound as values of multi-row `VALUES` lists instead, in chunks of
//! 32, 8 and 1 rows, so a batch runs as a few statements that stay prepared. Multi-row, not
//! one statement per row: a statement that inserts many rows keeps its B-tree cursors on the
//! last leaf between them, where one run per row seeks every B-tree from its root again (that
//! measured no better than the JSON; docs/performance.md).
//!
//! The statements run on a `Connection` opened here, not on sqlx's: every use of sqlx's handle
//! (`SqliteConnection::lock_handle`) waits for sqlx's connection thread to wake and park, which
//! took a quarter of a commit's wall time on two busy cores. This connection is called on the
//! caller's thread. It sits beside sqlx's write connection in the writer (`writer::Conn`),
//! whose mutex lets one of the two write at a time.

use std::ffi::{CStr, CString, c_char, c_int};
use std::path::Path;
use std::ptr::{NonNull, null_mut};

use libsqlite3_sys as ffi;

use super::gather;
use crate::{Result, StoreError};

/// What each new connection sets: a busy timeout as sqlx's connections have it (another
/// process, `hookd prune`, may hold the write lock), FULL commits (an fsync of the WAL each: an
/// acknowledged message survives power loss), and temporary storage in memory.
///
/// Foreign keys are off on this connection, and its statements are `OR FAIL`: together that
/// spares every multi-row statement a statement journal (SQLite copies each page it first
/// touches, so the statement alone can be undone; 2.6 % of hookd's CPU under load). Neither
/// guarded anything here:
/// - an error in a bound write rolls back the whole transaction (`Script::bound`), so no
///   statement needs undoing on its own;
/// - the one foreign key these statements meet, `messages.app_id`, is kept by the batch's
///   `subscribers_version` check: a batch stores messages only for applications it read (or
///   kept) at the version its transaction still sees, and deleting an application moves the
///   version. This connection deletes nothing, so it owes no cascades.
///
/// WAL mode is the file's, set by sqlx's first connection.
const SETTINGS: &CStr = c"PRAGMA foreign_keys = OFF;
    PRAGMA busy_timeout = 5000;
    PRAGMA synchronous = FULL;
    PRAGMA temp_store = MEMORY;";

/// A write connection of SQLite's own, and the intake's statements prepared on it (on first
/// use, so after the migrations). Whoever holds it is its only user (`writer::Conn`).
pub(super) struct Connection {
    db: Db,
    prepared: Option<Prepared>,
}

// SAFETY: the connection is opened in SQLite's multi-thread mode (`SQLITE_OPEN_NOMUTEX`), in
// which a connection may move between threads but not be used by two at once; `&mut self` on
// every use and the writer's mutex see to that.
unsafe impl Send for Connection {}

impl Connection {
    /// Opens the database file at `path`, which exists and is in WAL mode already.
    pub(super) fn open(path: &Path) -> Result<Connection> {
        let path = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| StoreError::Unavailable("the database path holds a NUL byte".into()))?;
        let mut handle = null_mut();
        // SAFETY: `path` is NUL-terminated; SQLite writes the new handle to `handle` (a handle
        // even on most failures, which must then be closed).
        let rc = unsafe {
            ffi::sqlite3_open_v2(
                path.as_ptr(),
                &mut handle,
                ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_NOMUTEX,
                if gather::register() {
                    gather::NAME.as_ptr()
                } else {
                    std::ptr::null()
                },
            )
        };
        let Some(handle) = NonNull::new(handle) else {
            return Err(StoreError::Unavailable(
                "SQLite could not allocate a connection".into(),
            ));
        };
        let connection = Connection {
            db: Db(handle),
            prepared: None,
        };
        if rc != ffi::SQLITE_OK {
            return Err(connection.db.error());
        }
        connection.db.exec(SETTINGS)?;
        Ok(connection)
    }

    /// Runs `f` with the connection and its prepared statements.
    pub(super) fn with<R>(&mut self, f: impl FnOnce(Db, &Prepared) -> Result<R>) -> Result<R> {
        let db = self.db;
        let prepared = match &mut self.prepared {
            Some(prepared) => prepared,
            unprepared => unprepared.insert(Prepared::new(db)?),
        };
        f(db, prepared)
    }
}

#[cfg(test)]
impl Connection {
    /// Whether the connection's WAL is open through `gather`, so its commits are gathered.
    pub(super) fn gathers(&mut self) -> bool {
        gather::opened_here(self.db.0.as_ptr())
    }

    /// A setting of the connection, as text.
    pub(super) fn pragma(&mut self, name: &str) -> Result<String> {
        let stmt = self.db.prepare(&format!("PRAGMA {name}"))?;
        let ptr = stmt.0.as_ptr();
        // SAFETY: the statement is live; the text is copied before it is finalized.
        let value = unsafe {
            let text = (ffi::sqlite3_step(ptr) == ffi::SQLITE_ROW)
                .then(|| ffi::sqlite3_column_text(ptr, 0))
                .filter(|text| !text.is_null());
            text.map(|text| CStr::from_ptr(text.cast()).to_string_lossy().into_owned())
        };
        finalize(stmt);
        value.ok_or_else(|| self.db.error())
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(prepared) = self.prepared.take() {
            prepared.finalize();
        }
        // SAFETY: the handle is open and no statement of it is left; nothing uses it after.
        unsafe { ffi::sqlite3_close(self.db.0.as_ptr()) };
    }
}

/// An open connection's handle, used by whoever holds its `Connection`.
#[derive(Clone, Copy)]
pub(super) struct Db(NonNull<ffi::sqlite3>);

impl Db {
    /// Runs `sql`, statements without rows or parameters.
    fn exec(self, sql: &CStr) -> Result<()> {
        // SAFETY: the handle is open and `sql` NUL-terminated.
        let rc = unsafe {
            ffi::sqlite3_exec(self.0.as_ptr(), sql.as_ptr(), None, null_mut(), null_mut())
        };
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn error(self) -> StoreError {
        // SAFETY: the handle is open; SQLite returns a NUL-terminated message.
        let message = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(self.0.as_ptr())) };
        StoreError::Unavailable(format!("SQLite: {}", message.to_string_lossy()))
    }

    /// Whether a transaction is open on the connection.
    fn in_transaction(self) -> bool {
        // SAFETY: the handle is open.
        unsafe { ffi::sqlite3_get_autocommit(self.0.as_ptr()) == 0 }
    }

    /// Rolls back the open transaction, if there is one.
    pub(super) fn rollback(self) {
        if self.in_transaction() {
            // An error leaves nothing to undo.
            let _ = self.exec(c"ROLLBACK");
        }
    }

    /// The rowid of the last row inserted.
    pub(super) fn last_rowid(self) -> i64 {
        // SAFETY: the handle is open.
        unsafe { ffi::sqlite3_last_insert_rowid(self.0.as_ptr()) }
    }

    fn prepare(self, sql: &str) -> Result<Stmt> {
        let mut stmt = null_mut();
        let len = c_int::try_from(sql.len()).expect("the statements are short");
        // SAFETY: the handle is open; `sql` is valid for `len` bytes (SQLite reads no more).
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                self.0.as_ptr(),
                sql.as_ptr().cast::<c_char>(),
                len,
                ffi::SQLITE_PREPARE_PERSISTENT,
                &mut stmt,
                null_mut(),
            )
        };
        match NonNull::new(stmt) {
            Some(stmt) if rc == ffi::SQLITE_OK => Ok(Stmt(stmt)),
            _ => Err(self.error()),
        }
    }
}

/// A prepared statement of the writer connection.
pub(super) struct Stmt(NonNull<ffi::sqlite3_stmt>);

/// Values to bind, from the statement's parameter `at` on.
pub(super) struct Binder<'s> {
    stmt: &'s Stmt,
    at: c_int,
}

impl Binder<'_> {
    fn next(&mut self) -> c_int {
        self.at += 1;
        self.at - 1
    }

    /// Text that stays put until the statement has run (`Stmt::run` clears the bindings).
    pub(super) fn text(&mut self, text: &str) {
        self.bytes_as_text(text.as_bytes());
    }

    /// UTF-8 bytes, bound as text.
    pub(super) fn bytes_as_text(&mut self, text: &[u8]) {
        let at = self.next();
        let len = c_int::try_from(text.len()).expect("payloads are far below 2 GiB");
        // SAFETY: the statement is live; `SQLITE_STATIC` is sound since the text outlives the
        // statement's run, after which the bindings are cleared.
        unsafe {
            ffi::sqlite3_bind_text(
                self.stmt.0.as_ptr(),
                at,
                text.as_ptr().cast::<c_char>(),
                len,
                ffi::SQLITE_STATIC(),
            );
        }
    }

    pub(super) fn opt_text(&mut self, text: Option<&str>) {
        match text {
            Some(text) => self.text(text),
            None => self.null(),
        }
    }

    pub(super) fn int(&mut self, value: i64) {
        let at = self.next();
        // SAFETY: the statement is live.
        unsafe { ffi::sqlite3_bind_int64(self.stmt.0.as_ptr(), at, value) };
    }

    pub(super) fn opt_int(&mut self, value: Option<i64>) {
        match value {
            Some(value) => self.int(value),
            None => self.null(),
        }
    }

    fn null(&mut self) {
        let at = self.next();
        // SAFETY: the statement is live.
        unsafe { ffi::sqlite3_bind_null(self.stmt.0.as_ptr(), at) };
    }
}

impl Stmt {
    fn binder(&self) -> Binder<'_> {
        Binder { stmt: self, at: 1 }
    }

    /// Runs the statement to its end (its rows, if any, unread), then resets it and clears
    /// its bindings.
    fn run(&self, db: Db) -> Result<()> {
        let stmt = self.0.as_ptr();
        // SAFETY: the statement is live and its connection held (`Connection::with`).
        let rc = unsafe {
            let mut rc = ffi::sqlite3_step(stmt);
            while rc == ffi::SQLITE_ROW {
                rc = ffi::sqlite3_step(stmt);
            }
            ffi::sqlite3_reset(stmt);
            ffi::sqlite3_clear_bindings(stmt);
            rc
        };
        if rc == ffi::SQLITE_DONE {
            Ok(())
        } else {
            Err(db.error())
        }
    }

    /// Runs a statement that yields one integer.
    fn integer(&self, db: Db) -> Result<i64> {
        let stmt = self.0.as_ptr();
        // SAFETY: as in `run`; the column is read before the reset.
        let value = unsafe {
            let value = (ffi::sqlite3_step(stmt) == ffi::SQLITE_ROW)
                .then(|| ffi::sqlite3_column_int64(stmt, 0));
            ffi::sqlite3_reset(stmt);
            value
        };
        value.ok_or_else(|| db.error())
    }
}

/// Chunk sizes, largest first; the last must be 1.
const CHUNKS: [usize; 3] = [32, 8, 1];

/// One statement per chunk size, each taking that many rows of `columns` values.
pub(super) struct Rows {
    columns: usize,
    stmts: Vec<Stmt>,
}

impl Rows {
    /// `sql` makes the statement from its `VALUES` list.
    fn prepare(db: Db, columns: usize, sql: impl Fn(&str) -> String) -> Result<Rows> {
        let stmts = CHUNKS
            .iter()
            .map(|&rows| db.prepare(&sql(&values(rows, columns))))
            .collect::<Result<_>>()?;
        Ok(Rows { columns, stmts })
    }

    /// Runs the statement over every row of `rows`, `bind` binding each row's values in
    /// order.
    pub(super) fn run<T>(&self, db: Db, rows: &[T], bind: impl Fn(&mut Binder, &T)) -> Result<()> {
        let mut rest = rows;
        for (stmt, size) in self.stmts.iter().zip(CHUNKS) {
            while rest.len() >= size {
                let (chunk, tail) = rest.split_at(size);
                let mut binder = stmt.binder();
                for row in chunk {
                    let first = binder.at;
                    bind(&mut binder, row);
                    debug_assert_eq!(binder.at - first, self.columns as c_int);
                }
                stmt.run(db)?;
                rest = tail;
            }
        }
        Ok(())
    }

    fn finalize(self) {
        self.stmts.into_iter().for_each(finalize);
    }
}

/// `(?1,?2,?3),(?4,?5,?6)` for two rows of three.
fn values(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|row| {
            let params: Vec<String> = (1..=columns)
                .map(|column| format!("?{}", row * columns + column))
                .collect();
            format!("({})", params.join(","))
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn finalize(stmt: Stmt) {
    // SAFETY: the caller holds the connection (`Connection`'s drop); the statement is not used
    // again.
    unsafe { ffi::sqlite3_finalize(stmt.0.as_ptr()) };
}

/// The intake's statements, prepared once on the connection.
pub(super) struct Prepared {
    begin: Stmt,
    commit: Stmt,
    /// Whether the connection is known to be at `synchronous = FULL`: false from the start of
    /// a `light` stretch until FULL is restored. Only then are commits gathered (`gather`).
    is_full: std::cell::Cell<bool>,
    /// `synchronous = NORMAL` and back to `FULL`: a stretch of commits without an fsync of
    /// their own (`script`'s docs say why that is durable enough).
    light: Stmt,
    full: Stmt,
    subscribers_version: Stmt,
    /// id, application, event type, event id, channels, payload, retention days, created.
    pub(super) messages: Rows,
    /// application, message, endpoint, status, next attempt, lease, trigger.
    pub(super) deliveries: Rows,
    /// The attempt's twelve columns, in `attempts`' order; those of an application that is
    /// gone are left out.
    pub(super) attempts: Rows,
    /// delivery id, its new status, its next attempt.
    pub(super) moves: Rows,
}

impl Prepared {
    pub(super) fn new(db: Db) -> Result<Prepared> {
        Ok(Prepared {
            begin: db.prepare("BEGIN IMMEDIATE")?,
            commit: db.prepare("COMMIT")?,
            light: db.prepare("PRAGMA synchronous = NORMAL")?,
            full: db.prepare("PRAGMA synchronous = FULL")?,
            subscribers_version: db.prepare("SELECT version FROM subscribers_version")?,
            is_full: std::cell::Cell::new(true),
            messages: Rows::prepare(db, 8, |values| {
                format!(
                    "INSERT OR FAIL INTO messages (id, app_id, event_type, event_id, channels, payload,
                                           retention_days, created_at)
                     VALUES {values}"
                )
            })?,
            deliveries: Rows::prepare(db, 7, |values| {
                format!(
                    "INSERT OR FAIL INTO deliveries (app_id, msg_id, endpoint_id, status,
                                             next_attempt_at, lease_until, trigger_type,
                                             attempts_made)
                     SELECT *, 0 FROM (VALUES {values})"
                )
            })?,
            attempts: Rows::prepare(db, 12, |values| {
                format!(
                    "INSERT OR FAIL INTO attempts (id, app_id, msg_id, endpoint_id, url, status,
                                           response_status_code, response,
                                           response_duration_ms, trigger_type,
                                           failure_reason, created_at)
                     SELECT * FROM (VALUES {values})
                     WHERE EXISTS (SELECT 1 FROM applications WHERE id = column2)"
                )
            })?,
            moves: Rows::prepare(db, 3, |values| {
                format!(
                    "UPDATE OR FAIL deliveries SET status = moved.column2,
                                           next_attempt_at = moved.column3,
                                           lease_until = NULL,
                                           attempts_made = attempts_made + 1
                     FROM (VALUES {values}) AS moved
                     WHERE deliveries.id = moved.column1"
                )
            })?,
        })
    }

    /// Begins a transaction.
    pub(super) fn begin(&self, db: Db) -> Result<()> {
        self.begin.run(db)
    }

    /// Commits, syncing the WAL (FULL), with the commit's WAL writes gathered into one
    /// (`gather`; the connection is FULL, which gathering needs).
    pub(super) fn commit(&self, db: Db) -> Result<()> {
        if !self.is_full.get() {
            // FULL was not restored after a `light` stretch: no sync, so nothing to gather for.
            return self.commit.run(db);
        }
        gather::with_gathering(db.0.as_ptr(), || self.commit.run(db))
    }

    /// Runs `write` in a transaction that commits without an fsync of its own, and restores
    /// FULL after, also if `write` or the commit failed (then rolled back).
    pub(super) fn light<R>(&self, db: Db, write: impl FnOnce() -> Result<R>) -> Result<R> {
        self.is_full.set(false);
        self.light.run(db)?;
        let result = self
            .begin(db)
            .and_then(|()| write())
            // Not gathered: a commit without a sync publishes its frames unsynced, so they
            // must be in the file before it returns (`gather`).
            .and_then(|value| self.commit.run(db).map(|()| value));
        if result.is_err() {
            db.rollback();
        }
        self.full.run(db)?;
        self.is_full.set(true);
        result
    }

    /// The current `subscribers_version`.
    pub(super) fn subscribers_version(&self, db: Db) -> Result<i64> {
        self.subscribers_version.integer(db)
    }

    /// Finalizes every statement; the caller holds the connection.
    fn finalize(self) {
        let single = [
            self.begin,
            self.commit,
            self.light,
            self.full,
            self.subscribers_version,
        ];
        single.into_iter().for_each(finalize);
        for rows in [self.messages, self.deliveries, self.attempts, self.moves] {
            rows.finalize();
        }
    }
}
