//! Running `hookd` as a child process, and a counting receiver for it to deliver to.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
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
    /// Every line it wrote to stderr so far.
    pub log: Log,
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
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn hookd");
        let log = Log::default();
        log.follow(child.stderr.take().unwrap());
        let line = log
            .wait_for("listening on http://", Duration::from_secs(60))
            .unwrap_or_else(|all| panic!("hookd did not start:\n{all}"));
        let at = line.find("listening on http://").unwrap();
        let rest = &line[at + "listening on ".len()..];
        let url = rest
            .split_whitespace()
            .next()
            .unwrap()
            .trim_end_matches(['"', ',']);
        let base = format!("{url}/api/v1");
        Hookd { child, base, log }
    }

    /// What it said on stdout about the API token at start: all of it, up to the line that
    /// tells how to make another.
    pub fn announcement(&mut self) -> String {
        let stdout = self.child.stdout.take().expect("stdout is read once");
        let mut text = String::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("stdout");
            text.push_str(&line);
            text.push('\n');
            if line.contains("`hookd token create`") {
                break;
            }
        }
        text
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

/// The lines a child wrote to a pipe, kept as they come, for a test to wait on.
#[derive(Clone, Default)]
pub struct Log {
    state: Arc<(Mutex<Lines>, Condvar)>,
}

#[derive(Default)]
struct Lines {
    lines: Vec<String>,
    /// The pipe closed: no line will come.
    closed: bool,
}

impl Log {
    /// Reads `pipe` on a thread of its own until it closes, so the child never blocks on it.
    pub fn follow(&self, pipe: impl std::io::Read + Send + 'static) {
        let log = self.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                log.push(line);
            }
            log.close();
        });
    }

    /// No line will come any more: waits end at once.
    pub fn close(&self) {
        let (state, changed) = &*self.state;
        state.lock().unwrap().closed = true;
        changed.notify_all();
    }

    pub fn push(&self, line: String) {
        let (state, changed) = &*self.state;
        state.lock().unwrap().lines.push(line);
        changed.notify_all();
    }

    /// The first line that contains `needle`, waiting up to `limit` for it; else all lines.
    pub fn wait_for(&self, needle: &str, limit: Duration) -> Result<String, String> {
        self.wait_until(|line| line.contains(needle), limit)
    }

    /// The first line `wanted` accepts, waiting up to `limit` for it; else all lines.
    pub fn wait_until(
        &self,
        wanted: impl Fn(&str) -> bool,
        limit: Duration,
    ) -> Result<String, String> {
        let deadline = std::time::Instant::now() + limit;
        let (state, changed) = &*self.state;
        let mut seen = state.lock().unwrap();
        loop {
            if let Some(line) = seen.lines.iter().find(|line| wanted(line)) {
                return Ok(line.clone());
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() || seen.closed {
                return Err(seen.lines.join("\n"));
            }
            seen = changed.wait_timeout(seen, left).unwrap().0;
        }
    }

    pub fn text(&self) -> String {
        self.state.0.lock().unwrap().lines.join("\n")
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
