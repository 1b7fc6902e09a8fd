//! The commit loop: one task writes new messages and the worker's finished attempts together.
//!
//! Handlers hand it messages, and delivery tasks hand it what their attempts came to. It
//! writes whatever has queued up of both since its last commit in a single transaction, then
//! answers each handler. Under load many messages and outcomes share one commit and one fsync;
//! when idle a message commits alone at once, so there is no added wait. An outcome is
//! recorded off the delivery path: a delivery task goes on as soon as it has handed it over.

use std::sync::Arc;
use std::time::Duration;

use hookd_store::{Inserted, NewMessage, NextStep, Store, StoreError};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::timeout;

use crate::clock::Clock;
use crate::error_chain::error_chain;
use crate::worker::{Handover, NextLook, Record, Records};

/// The most messages one transaction takes.
const MAX_MESSAGES: usize = 512;
/// The most attempt outcomes one transaction takes.
const MAX_RECORDS: usize = 512;
/// How many messages may wait for a commit before handlers are held back.
const QUEUE_DEPTH: usize = 8192;
/// How many records may wait before delivery tasks are held back.
const RECORD_DEPTH: usize = 2048;
/// How long outcomes with no message to commit with wait for one, or for more outcomes: each
/// commit writes every page it touched to the WAL again, so many small commits of a few
/// outcomes each cost far more than one. Nothing waits on them but the log.
const OUTCOMES_WAIT: Duration = Duration::from_millis(10);
/// How often recording outcomes on their own is tried before giving up (then the leases run
/// out and other claims make the attempts again: delivery stays at-least-once).
const WRITE_TRIES: u32 = 5;

struct Job {
    message: NewMessage,
    reply: oneshot::Sender<Result<Inserted, StoreError>>,
}

/// Where handlers submit messages.
#[derive(Clone)]
pub struct CommitHandle {
    jobs: mpsc::Sender<Job>,
}

impl CommitHandle {
    /// Resolves once the message and its deliveries are committed.
    pub async fn submit(&self, message: NewMessage) -> Result<Inserted, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { message, reply })
            .await
            .map_err(|_| StoreError::Unavailable("the commit loop has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the commit loop stopped mid-commit".into()))?
    }
}

/// Starts the commit loop; it ends, with everything handed to it written, when every handle
/// and every `Records` is dropped. `wake` wakes the worker when a recorded retry may fall due
/// before it looks again, or deliveries are given back.
pub fn spawn(
    store: Arc<dyn Store>,
    clock: Clock,
    wake: Arc<Notify>,
    handover: Option<Handover>,
    next_look: Option<NextLook>,
) -> (CommitHandle, Records, JoinHandle<()>) {
    let (jobs, job_queue) = mpsc::channel(QUEUE_DEPTH);
    let (records, record_queue) = mpsc::channel(RECORD_DEPTH);
    let writer = Writer {
        store,
        clock,
        wake,
        handover,
        next_look,
    };
    let task = tokio::spawn(run(writer, job_queue, record_queue));
    (CommitHandle { jobs }, Records::new(records), task)
}

/// What the commit loop writes with, and whom it tells.
struct Writer {
    store: Arc<dyn Store>,
    /// Read once a batch, for the handover's leases.
    clock: Clock,
    /// Wakes the worker's dispatcher.
    wake: Arc<Notify>,
    /// Where new deliveries go straight to the worker, when they can.
    handover: Option<Handover>,
    /// When this node's dispatcher looks at the queue next (none: wake it for every retry).
    next_look: Option<NextLook>,
}

async fn run(
    writer: Writer,
    mut job_queue: mpsc::Receiver<Job>,
    mut record_queue: mpsc::Receiver<Record>,
) {
    let mut jobs = Vec::with_capacity(MAX_MESSAGES);
    let mut records = Vec::with_capacity(MAX_RECORDS);
    let (mut jobs_open, mut records_open) = (true, true);
    while jobs_open || records_open {
        tokio::select! {
            n = job_queue.recv_many(&mut jobs, MAX_MESSAGES), if jobs_open => jobs_open = n > 0,
            n = record_queue.recv_many(&mut records, MAX_RECORDS), if records_open => {
                records_open = n > 0;
            }
        }
        // Whatever else is already waiting joins this transaction.
        take_ready(&mut job_queue, &mut jobs, MAX_MESSAGES);
        take_ready(&mut record_queue, &mut records, MAX_RECORDS);
        if jobs.is_empty() && jobs_open && !records.is_empty() && records.len() < MAX_RECORDS {
            if let Ok(n) =
                timeout(OUTCOMES_WAIT, job_queue.recv_many(&mut jobs, MAX_MESSAGES)).await
            {
                jobs_open = n > 0;
            }
            take_ready(&mut job_queue, &mut jobs, MAX_MESSAGES);
            take_ready(&mut record_queue, &mut records, MAX_RECORDS);
        }
        if !jobs.is_empty() || !records.is_empty() {
            writer.commit(&mut jobs, &mut records).await;
        }
    }
}

fn take_ready<T>(queue: &mut mpsc::Receiver<T>, into: &mut Vec<T>, max: usize) {
    while into.len() < max {
        match queue.try_recv() {
            Ok(item) => into.push(item),
            Err(_) => break,
        }
    }
}

impl Writer {
    /// Writes one batch: the messages and outcomes in one transaction, handing new deliveries
    /// to the worker where it has room; then answers the handlers. Deliveries given back are
    /// released after.
    async fn commit(&self, jobs: &mut Vec<Job>, records: &mut Vec<Record>) {
        let store = &*self.store;
        let (messages, replies): (Vec<_>, Vec<_>) =
            jobs.drain(..).map(|job| (job.message, job.reply)).unzip();
        let mut outcomes = Vec::new();
        let mut released = Vec::new();
        for record in records.drain(..) {
            match record {
                Record::Attempted(outcome) => outcomes.push(*outcome),
                Record::Released(id) => released.push(id),
            }
        }
        let handoff = match &self.handover {
            Some(handover) if !messages.is_empty() => handover.offer(self.clock.now()),
            _ => None,
        };
        let mut queued = false;
        match store
            .write_batch(&messages, &outcomes, handoff.as_ref())
            .await
        {
            Ok(mut written) => {
                if let (Some(handover), Some(handoff)) = (&self.handover, &handoff) {
                    let (claim, refused) = handover.accept(handoff, &mut written);
                    queued = claim;
                    released.extend(refused);
                } else {
                    queued = written
                        .inserted
                        .iter()
                        .flatten()
                        .any(|inserted| inserted.deliveries > 0);
                }
                for (reply, result) in replies.into_iter().zip(written.inserted) {
                    let _ = reply.send(result);
                }
            }
            Err(error) => {
                let text = error_chain(&error);
                tracing::error!(error = %text, messages = replies.len(), outcomes = outcomes.len(), "committing messages and outcomes failed");
                for reply in replies {
                    let _ = reply.send(Err(StoreError::Unavailable(text.clone())));
                }
                // The outcomes must not wait for the next message: record them on their own.
                if !outcomes.is_empty() {
                    retrying(|| store.record_outcomes(&outcomes)).await;
                }
            }
        }
        // Deliveries queued for a claim, or a retry that falls due before the dispatcher
        // looks again. (Room in a lane wakes it when the attempt ends; on PostgreSQL the
        // cluster-wide room a recorded outcome frees wakes every node through NOTIFY.)
        let retry_soon = outcomes.iter().any(|o| match o.next {
            NextStep::RetryAt(at) => self.next_look.as_ref().is_none_or(|n| n.needs_wake(at)),
            _ => false,
        });
        if queued || retry_soon {
            self.wake.notify_one();
        }
        if !released.is_empty() {
            retrying(|| store.release(&released)).await;
            self.wake.notify_one();
        }
    }
}

/// Retries a failed write a few times. If it still fails, the leases run out and another claim
/// makes the attempts again: delivery stays at-least-once.
async fn retrying<'a, F, Fut>(mut op: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = hookd_store::Result<()>> + 'a,
{
    for try_number in 1..=WRITE_TRIES {
        match op().await {
            Ok(()) => return,
            Err(e) => {
                tracing::error!(error = %error_chain(&e), try_number, "recording delivery results failed");
                tokio::time::sleep(Duration::from_millis(100 * u64::from(try_number))).await;
            }
        }
    }
}
