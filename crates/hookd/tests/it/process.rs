//! Running `hookd` as a child process, and a counting receiver for it to deliver to.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method};
use tokio::sync::Notify;

pub fn hookd() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hookd"));
    command
        .env("HOOKD_ALLOWED_NETWORKS", "127.0.0.0/8")
        .env("HOOKD_LOG", "info");
    command
}

/// Makes an admin token in `dir` with `hookd token create`.
pub fn create_token(dir: &Path) -> String {
    let out = hookd()
        .args(["token", "create", "--data-dir"])
        .arg(dir)
        .output()
        .expect("run hookd");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A `hookd serve` child process and the base URL of its API.
pub struct Hookd {
    pub child: Child,
    pub base: String,
}

impl Hookd {
    /// Starts `hookd serve` on a free port and waits until it says where it listens.
    pub fn start(dir: &Path) -> Hookd {
        Hookd::start_with(dir, &[])
    }

    pub fn start_with(dir: &Path, env: &[(&str, &str)]) -> Hookd {
        let mut child = hookd()
            .envs(env.iter().copied())
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn hookd");
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let base = loop {
            let line = lines
                .next()
                .expect("hookd printed its address")
                .expect("stderr");
            if let Some(at) = line.find("listening on http://") {
                let rest = &line[at + "listening on ".len()..];
                let url = rest
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .trim_end_matches(['"', ',']);
                break format!("{url}/api/v1");
            }
        };
        // Keep draining stderr so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Hookd { child, base }
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill_9(&mut self) {
        self.child.kill().expect("kill hookd");
        self.child.wait().expect("reap hookd");
    }
}

impl Drop for Hookd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A receiver that answers challenges and counts deliveries by webhook-id.
#[derive(Clone, Default)]
pub struct Counter {
    pub seen: Arc<Mutex<HashMap<String, u32>>>,
    pub changed: Arc<Notify>,
}

impl Counter {
    pub async fn start() -> (Counter, String) {
        let counter = Counter::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let app = Router::new().fallback(count).with_state(counter.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (counter, url)
    }

    /// Waits until every id in `ids` has been delivered at least once.
    pub async fn wait_for_all(&self, ids: &[String], limit: Duration) -> Result<(), Vec<String>> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.changed.notified();
            let missing: Vec<String> = {
                let seen = self.seen.lock().unwrap();
                ids.iter()
                    .filter(|id| !seen.contains_key(*id))
                    .cloned()
                    .collect()
            };
            if missing.is_empty() {
                return Ok(());
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Err(missing);
            }
        }
    }
}

async fn count(
    State(counter): State<Counter>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    _body: Bytes,
) -> String {
    if method == Method::GET {
        return query
            .as_deref()
            .and_then(hookd_receiver::challenge_from_query)
            .unwrap_or_default();
    }
    // A receiver that takes a little while, so a backlog builds up for the kill to interrupt.
    tokio::time::sleep(Duration::from_millis(10)).await;
    if let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok()) {
        *counter
            .seen
            .lock()
            .unwrap()
            .entry(id.to_owned())
            .or_default() += 1;
        counter.changed.notify_waiters();
    }
    String::new()
}
