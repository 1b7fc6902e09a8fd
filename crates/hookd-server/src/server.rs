//! Server: binds the API, starts the commit loop, the worker and the sweep, and shuts all down
//! in order.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::ServiceExt;
use axum::extract::Request;
use hookd_store::{Sharing, Store, StoreError, TokenScope, Wakeups};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;

use crate::clock::Clock;
use crate::config::Config;
use crate::ids::Ids;
use crate::outbound::Outbound;
use crate::state::AppState;
use crate::{api, commit, sweep, token, ui, worker};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the HTTP server failed")]
    Serve(#[source] std::io::Error),
    #[error("storage failed")]
    Store(#[from] StoreError),
}

/// A bound, ready server. `build` then `run`; `local_addr` in between tells tests the port.
pub struct Server {
    listener: TcpListener,
    state: AppState,
    commits: JoinHandle<()>,
    wakeups: Option<Wakeups>,
    /// The worker's lanes and what it shares, when this node runs it.
    worker: Option<(worker::Dispatch, worker::WorkerState)>,
}

impl Server {
    /// Binds `config.listen` and prepares the store for this process.
    pub async fn build(config: Config, store: Arc<dyn Store>) -> Result<Server, ServerError> {
        Server::build_with_clock(config, store, Clock::System).await
    }

    /// `build`, reading the time from `clock` (tests move a `ManualClock` by hand).
    pub async fn build_with_clock(
        config: Config,
        store: Arc<dyn Store>,
        clock: Clock,
    ) -> Result<Server, ServerError> {
        match store.sharing() {
            // One process owns the embedded store: a lease left by a crashed run is stale, so
            // everything it had claimed is due again now.
            Sharing::ThisProcess => store.release_all().await?,
            // Other nodes' leases are live: the ones a dead node left run out, and any
            // worker's claim takes them over then.
            Sharing::Nodes => {}
        }
        // Subscribed before the worker's first claim, so no wake-up falls in between.
        let wakeups = if config.role.runs_worker() {
            store.subscribe_wakeups().await?
        } else {
            None
        };
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let wake = Arc::new(Notify::new());
        let circuits = Arc::new(worker::Circuits::new(config.breaker));
        let handle = worker::WorkerHandle::new(wake.clone(), circuits);
        let (dispatch, handover, next_look) = if config.role.runs_worker() {
            let (dispatch, handover, next_look) =
                worker::lanes(&config, &handle, store.hands_over());
            (Some(dispatch), handover, Some(next_look))
        } else {
            (None, None, None)
        };
        let (commits, records, commit_task) = commit::spawn(
            store.clone(),
            clock.clone(),
            wake.clone(),
            handover,
            next_look,
        );
        let outbound = Outbound::new(config.allowed_networks.clone());
        let ids = Ids::new(clock.clone());
        let worker = dispatch.map(|dispatch| {
            let state = worker::WorkerState {
                store: store.clone(),
                config: config.clone(),
                outbound: outbound.clone(),
                clock: clock.clone(),
                ids: ids.clone(),
                records,
                wake: wake.clone(),
            };
            (dispatch, state)
        });
        let state = AppState::new(store, config, outbound, clock, ids, commits, handle);
        Ok(Server {
            listener,
            state,
            commits: commit_task,
            wakeups,
            worker,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// This node's worker, if it runs one: tests step it with `look`.
    pub fn worker(&self) -> Option<worker::WorkerHandle> {
        self.worker.as_ref().map(|_| self.state.worker.clone())
    }

    /// Serves until `signal` resolves, then stops taking requests, lets requests and deliveries
    /// in flight finish, gives back claimed work not yet started, and returns. What runs
    /// depends on the role: the API, the worker, or both.
    pub async fn run(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let Server {
            listener,
            state,
            commits,
            wakeups,
            worker,
        } = self;
        let (stop, stopped) = watch::channel(false);
        let sweep = sweep::spawn(state.store.clone(), state.clock.clone(), stopped.clone());
        let role = state.config.role;
        let worker =
            worker.map(|(dispatch, worker)| worker::spawn(worker, dispatch, stopped, wakeups));
        let routes = if role.serves_api() {
            api::router(state.clone()).merge(ui::router().with_state(state.clone()))
        } else {
            api::health::standalone(state.clone())
        };
        let routes = routes.layer(axum::middleware::from_fn(log_request));
        // Older SDKs call paths with a trailing slash; route them as without.
        let app = NormalizePathLayer::trim_trailing_slash().layer(routes);
        drop(state);
        let served = axum::serve(listener, ServiceExt::<Request>::into_make_service(app))
            .with_graceful_shutdown(async move {
                signal.await;
                let _ = stop.send(true);
            })
            .await;
        if let Some(worker) = worker {
            let _ = worker.await;
        }
        // A sweep still running stops here; its open batch rolls back.
        sweep.abort();
        let _ = sweep.await;
        // Ends once every handle is gone, with all handed to it written.
        let _ = commits.await;
        served.map_err(ServerError::Serve)
    }
}

/// One line per request at `debug`: method, path, status and time. Never the query or the
/// headers, where tokens may travel.
async fn log_request(request: Request, next: axum::middleware::Next) -> axum::response::Response {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return next.run(request).await;
    }
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::debug!(%method, path, status = response.status().as_u16(), ms, "request");
    response
}

/// On first start no token exists: make an admin token and return it, to be shown once.
pub async fn first_admin_token(
    store: &dyn Store,
    now: hookd_core::Timestamp,
) -> Result<Option<String>, StoreError> {
    if store.count_tokens().await? > 0 {
        return Ok(None);
    }
    token::create(store, TokenScope::Admin, now).await.map(Some)
}
