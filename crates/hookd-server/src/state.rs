//! AppState: what every handler and the worker share: the store, config, id generator, the
//! commit loop, the outbound client and the worker's wake-up.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use hookd_core::{AppId, AttemptId, EndpointId, IdGenerator, MessageId, TaskId, Timestamp};
use hookd_store::{Inserted, NewMessage, Store, StoreError, TokenRecord};
use rand::{Rng, RngCore};
use tokio::sync::Notify;

use crate::challenge::{self, ChallengeFailure};
use crate::commit::CommitHandle;
use crate::config::{Config, EndpointVerification};
use crate::outbound::Outbound;
use crate::recent::Recent;
use crate::worker::Circuits;

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
    ids: IdGenerator,
    pub(crate) commits: CommitHandle,
    /// Woken when deliveries may have fallen due: new messages, or a lane with room again.
    pub wake: Arc<Notify>,
    /// Which endpoints this node's worker holds deliveries for, as they do not answer.
    circuits: Arc<Circuits>,
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
        commits: CommitHandle,
        wake: Arc<Notify>,
        circuits: Arc<Circuits>,
    ) -> AppState {
        AppState(Arc::new(Shared {
            store,
            config,
            outbound,
            ids: IdGenerator::new(),
            commits,
            wake,
            circuits,
            tokens: Recent::new(LOOKUP_TTL, LOOKUP_CAPACITY),
            app_ids: Recent::new(LOOKUP_TTL, LOOKUP_CAPACITY),
        }))
    }

    pub fn now(&self) -> Timestamp {
        crate::clock::now()
    }

    fn next_raw_id(&self) -> u128 {
        self.ids
            .next_raw(self.now().as_millis(), rand::rng().random())
    }

    pub fn new_app_id(&self) -> AppId {
        AppId::from_raw(self.next_raw_id())
    }

    pub fn new_endpoint_id(&self) -> EndpointId {
        EndpointId::from_raw(self.next_raw_id())
    }

    pub fn new_message_id(&self) -> MessageId {
        MessageId::from_raw(self.next_raw_id())
    }

    pub fn new_attempt_id(&self) -> AttemptId {
        AttemptId::from_raw(self.next_raw_id())
    }

    pub fn new_task_id(&self) -> TaskId {
        TaskId::from_raw(self.next_raw_id())
    }

    /// Someone changed the endpoint or asked for its deliveries now: stop holding them if it
    /// did not answer lately, and let the worker look.
    pub fn endpoint_touched(&self, endpoint: &EndpointId) {
        self.circuits.close(endpoint);
        self.wake.notify_one();
    }

    /// The endpoints whose deliveries this node holds as they stopped answering, each with its
    /// next probe.
    pub fn held_endpoints(&self) -> Vec<(EndpointId, Option<Timestamp>)> {
        self.circuits.held()
    }

    /// A fresh endpoint signing secret of the configured `default_signature_type`.
    pub fn new_secret(&self) -> String {
        crate::signing::new_secret(self.config.default_signature_type)
    }

    /// A one-time challenge token: 32 random bytes, URL-safe base64 (43 characters).
    pub fn new_challenge_token(&self) -> String {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Stores the message and its fan-out durably (group commit); the commit loop hands its
    /// deliveries to the worker, or wakes the worker to claim them.
    pub async fn submit_message(&self, message: NewMessage) -> Result<Inserted, StoreError> {
        self.commits.submit(message).await
    }

    /// Proves that whoever answers at `url` consents to receive webhooks, unless the operator
    /// turned the check off.
    pub async fn verify_endpoint(&self, url: &str, secret: &str) -> Result<(), ChallengeFailure> {
        if self.config.endpoint_verification == EndpointVerification::Off {
            return Ok(());
        }
        challenge::run(self, url, secret).await
    }
}
