//! Records: what became of each claimed delivery, and the queue the worker hands them to. The
//! commit loop owns the other end and writes them, many to a transaction.

use hookd_store::{DeliveryId, Outcome};
use tokio::sync::mpsc;

/// What became of a claimed delivery.
pub enum Record {
    /// An attempt was made.
    Attempted(Box<Outcome>),
    /// The delivery was claimed but not attempted (shutdown, or its lease ran short); give it
    /// back.
    Released(DeliveryId),
}

/// The sending end of the commit loop's queue of records.
#[derive(Clone)]
pub struct Records(mpsc::Sender<Record>);

impl Records {
    pub fn new(queue: mpsc::Sender<Record>) -> Records {
        Records(queue)
    }

    /// Queues `record` for the next commit. The loop outlives every handle's user, so it is
    /// written before the server stops.
    pub async fn record(&self, record: Record) {
        if self.0.send(record).await.is_err() {
            tracing::error!("the commit loop has stopped; a delivery's outcome is not recorded");
        }
    }
}
