//! `hookd listen` end to end: a real hookd server, `hookd listen` forwarding to a test app,
//! events sent through the API (and with `hookd send`) arrive at the app verified, listen shows
//! them in the order they arrived, `hookd attempts` lists them, and Ctrl-C removes the endpoint.
//! `hookd resend` sends one of them again.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::routing::any;
use hookd_receiver::axum::{Webhook, WebhookConfig};
use hookd_receiver::{Secret, Verifier};
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::process::{Hookd, create_token, hookd};

const WAIT: Duration = Duration::from_secs(20);

/// `hookd listen` as a child process, its standard output read line by line.
struct Listen {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Listen {
    /// Runs `hookd` with `args`, which begin with `listen`.
    fn start(args: &[&str]) -> Listen {
        let mut child = hookd()
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn hookd listen");
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if send.send(line).is_err() {
                    return;
                }
            }
        });
        Listen { child, lines }
    }

    /// The next line it prints; panics if none comes in time.
    fn next_line(&self) -> String {
        tokio::task::block_in_place(|| self.lines.recv_timeout(WAIT))
            .expect("hookd listen printed a line in time")
    }

    /// Reads lines until one starts with `prefix` (after indentation), and returns its rest.
    fn field(&self, prefix: &str) -> String {
        loop {
            let line = self.next_line();
            if let Some(rest) = line.trim_start().strip_prefix(prefix) {
                return rest.trim().to_owned();
            }
        }
    }

    fn interrupt(&self) {
        let pid = self.child.id().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap();
        assert!(sent.success());
    }
}

impl Drop for Listen {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The developer's app: verifies with the secret listen printed, records what arrived.
#[derive(Clone)]
struct TestApp {
    webhooks: WebhookConfig,
    received: Arc<Mutex<Vec<(String, String)>>>,
    arrived: Arc<Notify>,
}

impl FromRef<TestApp> for WebhookConfig {
    fn from_ref(app: &TestApp) -> WebhookConfig {
        app.webhooks.clone()
    }
}

async fn on_event(State(app): State<TestApp>, webhook: Webhook) -> String {
    let body = String::from_utf8(webhook.body.to_vec()).unwrap();
    app.received
        .lock()
        .unwrap()
        .push((webhook.id.clone(), body));
    app.arrived.notify_waiters();
    json!({ "received": webhook.id }).to_string()
}

impl TestApp {
    async fn wait_for(&self, id: &str) {
        self.wait_for_times(id, 1).await;
    }

    /// Waits until the event `id` has reached the app `times` times.
    async fn wait_for_times(&self, id: &str, times: usize) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let arrived = self.arrived.notified();
            let seen = {
                let received = self.received.lock().unwrap();
                received.iter().filter(|(got, _)| got == id).count()
            };
            if seen >= times {
                return;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!("{id} never reached the app");
            }
        }
    }
}

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn send(&self, event_type: &str, payload: Value) -> String {
        let body = json!({ "eventType": event_type, "payload": payload });
        let (status, msg) = self
            .call(reqwest::Method::POST, "/app/shop/msg", Some(body))
            .await;
        assert_eq!(status, 202, "{msg}");
        msg["id"].as_str().unwrap().to_owned()
    }
}

/// `command` and the flags that reach the application `shop` on `server` with `token`, then
/// `rest`.
fn shop_args<'a>(
    command: &'a str,
    server: &'a str,
    token: &'a str,
    rest: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        command, "--server", server, "--token", token, "--app", "shop",
    ];
    args.extend_from_slice(rest);
    args
}

fn run_hookd(args: &[&str]) -> String {
    let out = hookd().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "hookd {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_forwards_verified_events_in_order_and_ctrl_c_removes_its_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let token = create_token(dir.path());
    let hookd_server = Hookd::start(dir.path());
    let api = Api {
        http: reqwest::Client::new(),
        base: hookd_server.base.clone(),
        token: token.clone(),
    };
    let (status, _) = api
        .call(
            reqwest::Method::POST,
            "/app",
            Some(json!({ "name": "Shop", "uid": "shop" })),
        )
        .await;
    assert_eq!(status, 201);
    // An endpoint filters only on declared event types.
    for name in ["invoice.paid", "invoice.failed"] {
        let body = json!({ "name": name, "description": name });
        let (status, body) = api
            .call(reqwest::Method::POST, "/event-type", Some(body))
            .await;
        assert_eq!(status, 201, "{body}");
    }

    // The app's port first, so listen can be told where to forward; it serves once the secret
    // is known. Connections wait in the backlog until then.
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let forward_to = format!("http://{}/webhooks", socket.local_addr().unwrap());
    let listen = Listen::start(&shop_args(
        "listen",
        &hookd_server.base,
        &token,
        &[
            "--forward-to",
            &forward_to,
            "--events",
            "invoice.paid,invoice.failed",
        ],
    ));
    let endpoint = listen.field("endpoint");
    let endpoint = endpoint.split_whitespace().next().unwrap().to_owned();
    assert_eq!(listen.field("event types"), "invoice.paid, invoice.failed");
    let secret = listen.field("signing secret");
    listen.field("Waiting for events");

    let app = TestApp {
        webhooks: WebhookConfig::new(Verifier::new(Secret::parse(&secret).unwrap())),
        received: Arc::default(),
        arrived: Arc::default(),
    };
    let router = Router::new()
        .route("/webhooks", any(on_event))
        .with_state(app.clone());
    tokio::spawn(async move { axum::serve(socket, router).await });

    // One at a time, so the order they arrive in is the order they were sent.
    let paid = api.send("invoice.paid", json!({ "n": 1 })).await;
    app.wait_for(&paid).await;
    let failed = run_hookd(&shop_args(
        "send",
        &hookd_server.base,
        &token,
        &[
            "--event-type",
            "invoice.failed",
            "--payload",
            r#"{"n": 2, "reason": "card declined"}"#,
        ],
    ))
    .trim()
    .to_owned();
    app.wait_for(&failed).await;
    let not_subscribed = api.send("customer.created", json!({ "n": 3 })).await;
    let paid_again = api.send("invoice.paid", json!({ "n": 4 })).await;
    app.wait_for(&paid_again).await;

    let received = app.received.lock().unwrap().clone();
    assert_eq!(
        received,
        [
            (paid.clone(), r#"{"n":1}"#.to_owned()),
            (
                failed.clone(),
                r#"{"n": 2, "reason": "card declined"}"#.to_owned()
            ),
            (paid_again.clone(), r#"{"n":4}"#.to_owned()),
        ],
        "the app gets each subscribed event once, verified, with the body byte for byte"
    );
    for (id, event_type) in [
        (&paid, "invoice.paid"),
        (&failed, "invoice.failed"),
        (&paid_again, "invoice.paid"),
    ] {
        let line = listen.next_line();
        assert!(
            line.contains(id.as_str()),
            "expected {id} next, got: {line}"
        );
        assert!(line.contains(event_type), "{line}");
        assert!(line.contains("-> 200 OK"), "{line}");
        assert!(
            line.contains(&format!(r#"{{"received":"{id}"}}"#)),
            "the app's answer is shown: {line}"
        );
    }

    // The app can have the last event before hookd has written its attempt (the commit loop
    // records outcomes in batches): ask until all three are listed, or the wait runs out.
    let deadline = tokio::time::Instant::now() + WAIT;
    let attempts = loop {
        let attempts = run_hookd(&shop_args(
            "attempts",
            &hookd_server.base,
            &token,
            &["--endpoint", &endpoint],
        ));
        let all = [&paid, &failed, &paid_again]
            .iter()
            .all(|id| attempts.contains(id.as_str()));
        if all || tokio::time::Instant::now() >= deadline {
            break attempts;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    for id in [&paid, &failed, &paid_again] {
        let line = attempts
            .lines()
            .find(|line| line.contains(id.as_str()))
            .unwrap_or_else(|| panic!("{id} missing from:\n{attempts}"));
        assert!(line.contains("success") && line.contains(" 200 "), "{line}");
    }
    assert!(!attempts.contains(&not_subscribed), "{attempts}");

    run_hookd(&shop_args(
        "resend",
        &hookd_server.base,
        &token,
        &["--msg", &paid, "--endpoint", &endpoint],
    ));
    app.wait_for_times(&paid, 2).await;

    listen.interrupt();
    assert_eq!(listen.field("Removed endpoint"), format!("{endpoint}."));
    let mut listen = listen;
    let status = tokio::task::block_in_place(|| listen.child.wait()).unwrap();
    assert!(status.success(), "listen exits 0 after Ctrl-C: {status}");
    let (status, _) = api
        .call(
            reqwest::Method::GET,
            &format!("/app/shop/endpoint/{endpoint}"),
            None,
        )
        .await;
    assert_eq!(status, 404, "the endpoint listen registered is gone");
}
