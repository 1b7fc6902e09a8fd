//! Looks: ask the dispatcher to look at the queue now, and learn when it has and how many
//! deliveries it had started by then. Tests step the worker with it (and a `ManualClock`)
//! where they would otherwise sleep to see that something did not happen.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{Notify, watch};

pub struct Looks {
    /// Looks asked for so far; the dispatcher answers each in turn.
    asked: AtomicU64,
    /// The last look answered, and the deliveries started by then.
    answered: watch::Sender<Looked>,
    wake: Arc<Notify>,
}

#[derive(Clone, Copy, Debug, Default)]
struct Looked {
    look: u64,
    started: u64,
}

impl Looks {
    pub fn new(wake: Arc<Notify>) -> Looks {
        Looks {
            asked: AtomicU64::new(0),
            answered: watch::Sender::new(Looked::default()),
            wake,
        }
    }

    /// Resolves once the dispatcher has claimed as of a moment after this call (or found no
    /// room to claim into), having taken in every delivery handed over to it before, with the
    /// number of deliveries it has started since it began. Only while the worker runs.
    pub async fn look(&self) -> u64 {
        let look = self.asked.fetch_add(1, Ordering::AcqRel) + 1;
        let mut answered = self.answered.subscribe();
        self.wake.notify_one();
        let looked = answered
            .wait_for(|looked| looked.look >= look)
            .await
            .map(|looked| *looked)
            .unwrap_or_default();
        looked.started
    }

    /// The dispatcher's side: the last look asked for, read before a claim.
    pub(super) fn asked(&self) -> u64 {
        self.asked.load(Ordering::Acquire)
    }

    /// The dispatcher's side: it has claimed, as of after look `look` was asked for.
    pub(super) fn answer(&self, look: u64, started: u64) {
        self.answered
            .send_modify(|looked| *looked = Looked { look, started });
    }
}
