//! Ingest: the group commit for new messages.
//!
//! Handlers hand messages to one task that writes whatever has queued up since its last commit
//! in a single transaction, then answers each handler. Under load many messages share one fsync;
//! when idle a message commits alone at once, so there is no added wait.

use std::sync::Arc;

use hookd_store::{Inserted, NewMessage, Store, StoreError};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// The most messages one transaction takes.
const MAX_BATCH: usize = 512;
/// How many messages may wait for a commit before handlers are held back.
const QUEUE_DEPTH: usize = 8192;

struct Job {
    message: NewMessage,
    reply: oneshot::Sender<Result<Inserted, StoreError>>,
}

#[derive(Clone)]
pub struct IngestHandle {
    jobs: mpsc::Sender<Job>,
}

impl IngestHandle {
    /// Resolves once the message and its deliveries are committed.
    pub async fn submit(&self, message: NewMessage) -> Result<Inserted, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { message, reply })
            .await
            .map_err(|_| StoreError::Unavailable("the ingest task has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the ingest task stopped mid-commit".into()))?
    }
}

/// Starts the ingest task; it ends when every handle is dropped.
pub fn spawn(store: Arc<dyn Store>) -> (IngestHandle, JoinHandle<()>) {
    let (jobs, queue) = mpsc::channel(QUEUE_DEPTH);
    let task = tokio::spawn(run(store, queue));
    (IngestHandle { jobs }, task)
}

async fn run(store: Arc<dyn Store>, mut queue: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let (messages, replies): (Vec<_>, Vec<_>) =
            jobs.drain(..).map(|job| (job.message, job.reply)).unzip();
        match store.insert_messages(&messages).await {
            Ok(results) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(result);
                }
            }
            Err(error) => {
                let text = crate::api::error::error_chain(&error);
                tracing::error!(error = %text, batch = replies.len(), "storing messages failed");
                for reply in replies {
                    let _ = reply.send(Err(StoreError::Unavailable(text.clone())));
                }
            }
        }
    }
}
