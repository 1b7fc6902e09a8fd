//! AppState: the handles every handler shares (the store, config, the outbound client, the
//! clock and ids, the commit loop, this node's worker) and the lookups `POST /msg` reuses. It
//! holds handles, not behaviour: what a handler does lives in its module or the handle's.

use std::sync::Arc;
use std::time::Duration;

use hookd_core::AppId;
use hookd_store::{Store, TokenRecord};

use crate::clock::Clock;
use crate::commit::CommitHandle;
use crate::config::Config;
use crate::ids::Ids;
use crate::outbound::Outbound;
use crate::recent::Recent;
use crate::worker::WorkerHandle;

/// How long a token or application lookup is reused: a token revoked, or an application
/// deleted or renamed, on another node is seen here within this.
const LOOKUP_TTL: Duration = Duration::from_secs(1);
const LOOKUP_CAPACITY: usize = 10_000;

#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub store: Arc<dyn Store>,
    pub config: Config,
    pub outbound: Outbound,
    pub clock: Clock,
    pub ids: Ids,
    /// Where new messages go to be stored (group commit).
    pub(crate) commits: CommitHandle,
    /// What the API may ask of this node's worker.
    pub worker: WorkerHandle,
    /// Live tokens by hash, as `find_token` found them.
    pub(crate) tokens: Recent<String, TokenRecord>,
    /// Application ids by the id or uid a path named them with.
    pub(crate) app_ids: Recent<String, AppId>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        config: Config,
        outbound: Outbound,
        clock: Clock,
        ids: Ids,
        commits: CommitHandle,
        worker: WorkerHandle,
    ) -> AppState {
        AppState(Arc::new(Shared {
            store,
            config,
            outbound,
            clock,
            ids,
            commits,
            worker,
            tokens: Recent::new(LOOKUP_TTL, LOOKUP_CAPACITY),
            app_ids: Recent::new(LOOKUP_TTL, LOOKUP_CAPACITY),
        }))
    }
}
