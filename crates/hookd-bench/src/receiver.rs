//! Receiver: the fast local webhook receiver the benchmark delivers to.
//!
//! It answers hookd's ownership challenge on any path, counts each `POST /hook/{n}` into the
//! `Tally` as a delivery to counted endpoint `n`, verifies the signature of one delivery in
//! `VERIFY_EVERY`, and answers `POST /slow/{n}` only after a delay (the slow endpoint of the
//! `slow-endpoint` scenario). While it is down, deliveries hang unanswered.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use hookd_receiver::{Headers, Secret, Verifier};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::payload;
use crate::tally::Tally;

/// Verify one signature in this many deliveries: enough to catch a wrong key or a mangled body,
/// cheap enough not to make the receiver the bottleneck.
const VERIFY_EVERY: u64 = 64;

pub struct Receiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

struct Shared {
    tally: Arc<Tally>,
    verifiers: RwLock<Vec<Option<Verifier>>>,
    down: AtomicBool,
    slow_for: Duration,
    slow_answered: AtomicU64,
}

impl Receiver {
    /// Starts a receiver on a free loopback port.
    pub async fn start(tally: Arc<Tally>, slow_for: Duration) -> std::io::Result<Receiver> {
        Receiver::start_on("127.0.0.1:0".parse().expect("address"), tally, slow_for).await
    }

    /// Starts a receiver on `addr`: a receiver coming back on the port it had before.
    pub async fn start_on(
        addr: SocketAddr,
        tally: Arc<Tally>,
        slow_for: Duration,
    ) -> std::io::Result<Receiver> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            tally,
            verifiers: RwLock::new(Vec::new()),
            down: AtomicBool::new(false),
            slow_for,
            slow_answered: AtomicU64::new(0),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Receiver {
            addr,
            shared,
            stop: Some(stop),
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of counted endpoint `n`.
    pub fn hook_url(&self, n: usize) -> String {
        format!("http://{}/hook/{n}", self.addr)
    }

    /// The URL of a slow endpoint: answers after `slow_for`, counted apart.
    pub fn slow_url(&self) -> String {
        format!("http://{}/slow/0", self.addr)
    }

    /// Verify endpoint `n`'s deliveries with `secret` (a sample of them).
    pub fn set_secret(&self, n: usize, secret: Secret) {
        let mut verifiers = self
            .shared
            .verifiers
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if verifiers.len() <= n {
            verifiers.resize(n + 1, None);
        }
        verifiers[n] = Some(Verifier::new(secret));
    }

    /// While down, deliveries are accepted on the socket and never answered.
    pub fn set_down(&self, down: bool) {
        self.shared.down.store(down, Ordering::Release);
    }

    pub fn slow_answered(&self) -> u64 {
        self.shared.slow_answered.load(Ordering::Relaxed)
    }

    /// Stops listening, closes idle connections, and waits: afterwards the port refuses.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    if method == Method::GET {
        return match uri.query().and_then(hookd_receiver::challenge_from_query) {
            Some(token) => (StatusCode::OK, hookd_receiver::answer_challenge(&token)),
            None => (StatusCode::NOT_FOUND, String::new()),
        };
    }
    let mut parts = uri.path().trim_start_matches('/').splitn(2, '/');
    let (kind, n) = (parts.next(), parts.next().and_then(|n| n.parse().ok()));
    match (kind, n) {
        (Some("hook"), Some(n)) => {
            if shared.down.load(Ordering::Acquire) {
                std::future::pending::<()>().await;
            }
            count(&shared, n, &headers, &body);
            (StatusCode::OK, String::new())
        }
        (Some("slow"), Some(_)) => {
            tokio::time::sleep(shared.slow_for).await;
            shared.slow_answered.fetch_add(1, Ordering::Relaxed);
            (StatusCode::OK, String::new())
        }
        _ => {
            shared.tally.unexpected();
            (StatusCode::NOT_FOUND, String::new())
        }
    }
}

fn count(shared: &Shared, n: usize, headers: &HeaderMap, body: &[u8]) {
    let Some(stamp) = payload::read(body) else {
        shared.tally.unexpected();
        return;
    };
    if stamp.seq % VERIFY_EVERY == 0 && !signature_is_valid(shared, n, headers, body) {
        shared.tally.bad_signature();
    }
    shared.tally.record(n, stamp.seq, stamp.sent_us);
}

fn signature_is_valid(shared: &Shared, n: usize, headers: &HeaderMap, body: &[u8]) -> bool {
    let verifiers = shared.verifiers.read().unwrap_or_else(|e| e.into_inner());
    let Some(Some(verifier)) = verifiers.get(n) else {
        return false;
    };
    let lookup = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Ok(signed) = Headers::from_lookup(lookup) else {
        return false;
    };
    if !signed.id.starts_with("msg_") && !signed.id.starts_with("bench_") {
        return false;
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    verifier
        .verify(&signed, body, i64::try_from(now).unwrap_or(i64::MAX))
        .is_ok()
}
