//! The test harness: `TestApp::spawn` starts a real hookd on a free port with a fresh store;
//! `each_backend` runs a test on SQLite, then on PostgreSQL when `HOOKD_TEST_POSTGRES_URL` is
//! set.

use std::sync::Arc;
use std::time::Duration;

use hookd_server::clock::{Clock, ManualClock};
use hookd_server::config::{ConfigSecret, RawConfig};
use hookd_server::worker::WorkerHandle;
use hookd_server::{Config, Server, clock, token};
use hookd_store::{Store, TokenScope};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use crate::scratch::Scratch;

pub struct TestApp {
    pub base: String,
    pub token: String,
    pub http: reqwest::Client,
    /// The store the server runs on, for tests that look at or change it directly.
    pub store: Arc<dyn Store>,
    /// The server's worker, for tests that step it (`look`).
    worker: Option<WorkerHandle>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

/// The database a `TestApp` runs on.
pub enum Backend<'a> {
    /// A fresh SQLite file of its own.
    Sqlite,
    /// A PostgreSQL schema; every `TestApp` started on the same one is a node sharing it.
    Postgres(&'a Scratch),
}

/// Runs `test` on SQLite, then on PostgreSQL in a fresh schema when `HOOKD_TEST_POSTGRES_URL` is
/// set (and says so when it is not).
pub async fn each_backend(test: impl AsyncFn(Backend<'_>)) {
    test(Backend::Sqlite).await;
    if let Some(scratch) = Scratch::create().await {
        test(Backend::Postgres(&scratch)).await;
        scratch.remove().await;
    }
}

/// The key nodes on a shared test database seal secrets with.
pub fn test_secret_key() -> Option<ConfigSecret> {
    Some(ConfigSecret(
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".to_owned(),
    ))
}

/// The config tests start from: loopback allowed, short timeouts, a fast retry schedule.
pub fn test_config() -> RawConfig {
    RawConfig {
        listen: "127.0.0.1:0".into(),
        allowed_networks: vec!["127.0.0.0/8".into(), "::1/128".into()],
        challenge_timeout: "2s".into(),
        delivery_timeout: "2s".into(),
        retry_schedule: ["0s", "20ms", "20ms", "20ms"].map(String::from).to_vec(),
        min_backoff_after_throttle: "20ms".into(),
        ..RawConfig::default()
    }
}

pub struct Response {
    pub status: u16,
    pub body: Value,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(test_config()).await
    }

    pub async fn spawn_with(raw: RawConfig) -> TestApp {
        TestApp::spawn_on(&Backend::Sqlite, raw).await
    }

    /// Starts on `backend` with the test config.
    pub async fn on(backend: &Backend<'_>) -> TestApp {
        TestApp::spawn_on(backend, test_config()).await
    }

    pub async fn spawn_on(backend: &Backend<'_>, raw: RawConfig) -> TestApp {
        TestApp::spawn_on_clock(backend, raw, Clock::System).await
    }

    /// Starts on `backend` with a clock that moves only when the test moves it: retries and
    /// circuit pauses fall due when it says, and `look` has the worker act on the time.
    pub async fn spawn_stepped(backend: &Backend<'_>, raw: RawConfig) -> (TestApp, ManualClock) {
        let clock = ManualClock::starting_at(clock::now());
        let app = TestApp::spawn_on_clock(backend, raw, clock.clone().into()).await;
        (app, clock)
    }

    async fn spawn_on_clock(backend: &Backend<'_>, raw: RawConfig, time: Clock) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let raw = match backend {
            Backend::Sqlite => RawConfig {
                data_dir: dir.path().to_owned(),
                ..raw
            },
            Backend::Postgres(scratch) => RawConfig {
                database: Some(scratch.url.clone()),
                database_pool_size: 4,
                secret_key: raw.secret_key.clone().or_else(test_secret_key),
                ..raw
            },
        };
        let config: Config = raw.validate().expect("test config is valid");
        let sealer = hookd_server::secret_key::sealer(&config).expect("secret key");
        let store = config.database.open(sealer).await.expect("open store");
        let token = token::create(store.as_ref(), TokenScope::Admin, clock::now())
            .await
            .expect("create token");
        let server = Server::build_with_clock(config, store.clone(), time)
            .await
            .expect("build server");
        let worker = server.worker();
        let base = format!("http://{}/api/v1", server.local_addr());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            server
                .run(async move {
                    let _ = stopped.await;
                })
                .await
                .expect("server runs");
        });
        TestApp {
            base,
            token,
            http: reqwest::Client::new(),
            store,
            worker,
            stop: Some(stop),
            task: Some(task),
            _dir: dir,
        }
    }

    /// Sends a request with the admin token; `body` is JSON text, or None.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Response {
        self.call_raw(method, path, body.map(|b| b.to_string()), Some(&self.token))
            .await
    }

    pub async fn call_raw(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
        token: Option<&str>,
    ) -> Response {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.expect("hookd answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Response { status, body }
    }

    /// Creates an application and returns its id.
    pub async fn create_app(&self, name: &str) -> String {
        let created = self
            .call("POST", "/app", Some(json!({ "name": name })))
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
        created.body["id"].as_str().expect("id").to_owned()
    }

    /// Declares event types, so that endpoints may filter on them.
    pub async fn create_event_types(&self, names: &[&str]) {
        for name in names {
            let body = json!({ "name": name, "description": format!("{name} happened") });
            let created = self.call("POST", "/event-type", Some(body)).await;
            assert_eq!(created.status, 201, "{}", created.body);
        }
    }

    /// Registers an endpoint and returns (id, secret).
    pub async fn create_endpoint(&self, app: &str, body: Value) -> (String, String) {
        let created = self
            .call("POST", &format!("/app/{app}/endpoint"), Some(body))
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
        let id = created.body["id"].as_str().expect("id").to_owned();
        let secret = self
            .call("GET", &format!("/app/{app}/endpoint/{id}/secret"), None)
            .await;
        (id, secret.body["key"].as_str().expect("key").to_owned())
    }

    pub async fn send_message(&self, app: &str, body: Value) -> String {
        let sent = self
            .call("POST", &format!("/app/{app}/msg"), Some(body))
            .await;
        assert_eq!(sent.status, 202, "{}", sent.body);
        sent.body["id"].as_str().expect("id").to_owned()
    }

    /// Waits until `check` holds for the listing at `path` (`data` array), or fails after 10 s.
    pub async fn wait_for_list(&self, path: &str, check: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let mut notified = 0u32;
        loop {
            let listed = self.call("GET", path, None).await;
            let items = listed.body["data"].as_array().cloned().unwrap_or_default();
            if check(&items) {
                return items;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting on {path}: {items:?}"
            );
            // Yield to the server between looks; the commit loop writes outcomes in batches.
            notified += 1;
            tokio::time::sleep(Duration::from_millis(u64::from(notified.min(20)))).await;
        }
    }

    /// Has the worker look at the queue now; resolves once it has, with the number of
    /// deliveries it has started so far. The same number before and after means it started
    /// none in between.
    pub async fn look(&self) -> u64 {
        self.worker
            .as_ref()
            .expect("the node runs the worker")
            .look()
            .await
    }

    /// Whether this node runs the delivery worker (its role is not `api`).
    pub fn runs_worker(&self) -> bool {
        self.worker.is_some()
    }

    /// Stops the server at once, abandoning requests in flight (as a crash would).
    pub async fn shutdown_now(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Stops the server gracefully and waits for it.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
        }
    }
}
