//! WorkerState: what the dispatcher and every delivery share. The time and the ids come from
//! here too, so a test that gives the server a `ManualClock` steps the worker's time.

use std::sync::Arc;

use hookd_store::Store;
use tokio::sync::Notify;

use super::Records;
use crate::clock::Clock;
use crate::config::Config;
use crate::ids::Ids;
use crate::outbound::Outbound;

/// What the dispatcher and every delivery share: where to claim from and record to, what to
/// send with, and the time.
pub struct WorkerState {
    pub store: Arc<dyn Store>,
    pub config: Config,
    pub outbound: Outbound,
    pub clock: Clock,
    pub ids: Ids,
    pub records: Records,
    /// Woken when deliveries may have fallen due: new messages, or a lane with room again.
    pub wake: Arc<Notify>,
}
