//! The threads that own SQLite's connections: one writer, a few readers. Callers send them
//! jobs over a channel and await the answer, so no commit, fsync or lock wait ever runs on
//! the async runtime's threads.
//!
//! Architecture Invariant: every write goes through the one writer thread, in the order the
//! jobs arrive, so writes queue in-process instead of racing for SQLite's lock. A catalog
//! transaction (`SqliteTx`) holds the writer for its length: the thread runs its statements
//! as they come, and rolls back if the transaction is dropped uncommitted. A job whose caller
//! stopped waiting still runs to its end. Readers see the last committed state.

use std::path::Path;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::Connection;
use tokio::sync::oneshot;

use super::connection::{self, Kind};
use super::intake::Subscribers;
use crate::sql::{Db, Dialect, Query, Row, Tx};
use crate::{Result, StoreError};

/// What the writer thread owns: its two connections and the intake's kept endpoints.
pub(super) struct Writing {
    pub catalog: Connection,
    pub intake: Connection,
    pub subscribers: Subscribers,
}

type WriteJob = Box<dyn FnOnce(&mut Writing) + Send>;
type ReadJob = Box<dyn FnOnce(&Connection) + Send>;

enum Msg<J> {
    Job(J),
    /// Ends the thread once the jobs sent before it have run.
    Stop,
}

/// The writer thread's queue. Dropped everywhere, the thread ends.
#[derive(Clone)]
pub(super) struct Writer {
    jobs: Sender<Msg<WriteJob>>,
}

/// The readers' shared queue.
#[derive(Clone)]
pub(super) struct Readers {
    jobs: Sender<Msg<ReadJob>>,
    threads: usize,
}

fn closed() -> StoreError {
    StoreError::Unavailable("the store is closed".into())
}

impl Writer {
    /// Starts the writer thread on `path`, creating the file if missing; `prepare` runs first
    /// on the thread (migrations), and its failure is `start`'s.
    pub(super) async fn start(
        path: &Path,
        prepare: impl FnOnce(&mut Writing) -> Result<()> + Send + 'static,
    ) -> Result<(Writer, oneshot::Receiver<()>)> {
        let (jobs, queue) = mpsc::channel::<Msg<WriteJob>>();
        let (ready, started) = oneshot::channel();
        let (done, ended) = oneshot::channel();
        let path = path.to_owned();
        std::thread::Builder::new()
            .name("hookd-sqlite-writer".into())
            .spawn(move || {
                let mut writing = match open_writer(&path).and_then(|mut w| {
                    prepare(&mut w)?;
                    Ok(w)
                }) {
                    Ok(writing) => {
                        let _ = ready.send(Ok(()));
                        writing
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                while let Ok(Msg::Job(job)) = queue.recv() {
                    job(&mut writing);
                }
                drop(writing);
                let _ = done.send(());
            })
            .map_err(|e| StoreError::Unavailable(format!("cannot start SQLite's writer: {e}")))?;
        started.await.map_err(|_| closed())??;
        Ok((Writer { jobs }, ended))
    }

    /// Runs `f` on the writer thread and returns what it returned.
    pub(super) async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Writing) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let (reply, answer) = oneshot::channel();
        let job: WriteJob = Box::new(move |writing| {
            let _ = reply.send(f(writing));
        });
        self.jobs.send(Msg::Job(job)).map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }

    /// Ends the thread after the jobs already sent.
    pub(super) fn stop(&self) {
        let _ = self.jobs.send(Msg::Stop);
    }

    /// Begins a write transaction on the catalog connection, which holds the writer until it
    /// commits or is dropped.
    async fn begin(&self) -> Result<Box<dyn Tx>> {
        let (ops, incoming) = mpsc::channel();
        let (ready, begun) = oneshot::channel();
        let job: WriteJob = Box::new(move |writing| session(&writing.catalog, &incoming, ready));
        self.jobs.send(Msg::Job(job)).map_err(|_| closed())?;
        begun.await.map_err(|_| closed())??;
        Ok(Box::new(SqliteTx { ops }))
    }
}

fn open_writer(path: &Path) -> Result<Writing> {
    let catalog = connection::open(path, Kind::Catalog)?;
    let intake = connection::open(path, Kind::Intake)?;
    Ok(Writing {
        catalog,
        intake,
        subscribers: Subscribers::default(),
    })
}

/// One statement of a catalog transaction, and where its answer goes.
enum Op {
    Run(Query, oneshot::Sender<Result<(Vec<Row>, u64)>>),
    Commit(oneshot::Sender<Result<()>>),
}

/// Runs a catalog transaction on the writer thread: `BEGIN IMMEDIATE`, then each statement as
/// it arrives, until `Commit`, or a rollback when the transaction is dropped.
fn session(conn: &Connection, incoming: &Receiver<Op>, ready: oneshot::Sender<Result<()>>) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let _ = ready.send(Err(e.into()));
        return;
    }
    let _ = ready.send(Ok(()));
    while let Ok(op) = incoming.recv() {
        match op {
            Op::Run(query, reply) => {
                let _ = reply.send(connection::run(conn, &query));
            }
            Op::Commit(reply) => {
                let committed = conn.execute_batch("COMMIT").map_err(StoreError::from);
                if committed.is_err() {
                    rollback(conn);
                }
                let _ = reply.send(committed);
                return;
            }
        }
    }
    rollback(conn);
}

fn rollback(conn: &Connection) {
    if !conn.is_autocommit() {
        // An error leaves nothing to undo.
        let _ = conn.execute_batch("ROLLBACK");
    }
}

/// A catalog transaction on SQLite: statements sent to the writer thread one by one.
struct SqliteTx {
    ops: Sender<Op>,
}

impl SqliteTx {
    async fn run(&mut self, query: Query) -> Result<(Vec<Row>, u64)> {
        let (reply, answer) = oneshot::channel();
        self.ops.send(Op::Run(query, reply)).map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

#[async_trait]
impl Tx for SqliteTx {
    async fn fetch(&mut self, query: Query) -> Result<Vec<Row>> {
        Ok(self.run(query).await?.0)
    }

    async fn execute(&mut self, query: Query) -> Result<u64> {
        Ok(self.run(query).await?.1)
    }

    /// This process's worker is the only one: the caller wakes it.
    async fn notify_queued(&mut self) -> Result<()> {
        Ok(())
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        let (reply, answer) = oneshot::channel();
        self.ops.send(Op::Commit(reply)).map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

impl Readers {
    /// Starts `threads` readers on `path`, which the writer has created.
    pub(super) fn start(path: &Path, threads: usize) -> Result<Readers> {
        let (jobs, queue) = mpsc::channel::<Msg<ReadJob>>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads {
            let conn = connection::open(path, Kind::Reader)?;
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("hookd-sqlite-reader-{n}"))
                .spawn(move || read_jobs(&conn, &queue))
                .map_err(|e| StoreError::Unavailable(format!("cannot start a reader: {e}")))?;
        }
        Ok(Readers { jobs, threads })
    }

    /// Runs `query` on whichever reader is free.
    async fn fetch(&self, query: Query) -> Result<Vec<Row>> {
        let (reply, answer) = oneshot::channel();
        let job: ReadJob = Box::new(move |conn| {
            let _ = reply.send(connection::run(conn, &query).map(|(rows, _)| rows));
        });
        self.jobs.send(Msg::Job(job)).map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }

    /// Ends every reader after the jobs already sent.
    pub(super) fn stop(&self) {
        for _ in 0..self.threads {
            let _ = self.jobs.send(Msg::Stop);
        }
    }
}

fn read_jobs(conn: &Connection, queue: &Mutex<Receiver<Msg<ReadJob>>>) {
    loop {
        // The lock is held only while waiting for the next job, not while it runs.
        let next = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
        match next {
            Ok(Msg::Job(job)) => job(conn),
            Ok(Msg::Stop) | Err(_) => return,
        }
    }
}

/// The catalog's database on SQLite: reads on the readers, writes on the writer thread's
/// catalog connection.
#[derive(Clone)]
pub(super) struct SqliteDb {
    pub writer: Writer,
    pub readers: Readers,
}

#[async_trait]
impl Db for SqliteDb {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn fetch(&self, query: Query) -> Result<Vec<Row>> {
        self.readers.fetch(query).await
    }

    async fn execute(&self, query: Query) -> Result<u64> {
        let run = move |w: &mut Writing| connection::run(&w.catalog, &query).map(|(_, n)| n);
        self.writer.run(run).await
    }

    async fn execute_returning(&self, query: Query) -> Result<Vec<Row>> {
        let run = move |w: &mut Writing| connection::run(&w.catalog, &query).map(|(rows, _)| rows);
        self.writer.run(run).await
    }

    async fn begin(&self) -> Result<Box<dyn Tx>> {
        self.writer.begin().await
    }
}
