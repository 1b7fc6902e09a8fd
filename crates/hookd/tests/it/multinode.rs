//! Many nodes, one PostgreSQL database: three `hookd serve` processes share a stream of events;
//! one is SIGKILLed mid-stream. Every event the cluster accepted is delivered, and the only
//! duplicates are deliveries the killed node had made but not yet recorded. And three nodes
//! never send one endpoint more requests at once than `max_in_flight_per_endpoint`. Runs when
//! `HOOKD_TEST_POSTGRES_URL` is set.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method};
use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, Connection, PgConnection};

use crate::process::{Counter, Hookd, hookd};

/// The key every node of a test database seals endpoint secrets with.
const TEST_SECRET_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// An empty schema of its own in the database `HOOKD_TEST_POSTGRES_URL` names.
pub struct Scratch {
    base: String,
    schema: String,
    pub url: String,
}

impl Scratch {
    pub async fn create() -> Option<Scratch> {
        let Ok(base) = std::env::var("HOOKD_TEST_POSTGRES_URL") else {
            eprintln!("PostgreSQL skipped: HOOKD_TEST_POSTGRES_URL is not set");
            return None;
        };
        let schema = format!("hookd_test_{:016x}", RandomState::new().hash_one(0));
        admin(&base, &format!("CREATE SCHEMA {schema}")).await;
        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}options[search_path]={schema}");
        Some(Scratch { base, schema, url })
    }

    pub async fn remove(self) {
        admin(&self.base, &format!("DROP SCHEMA {} CASCADE", self.schema)).await;
    }
}

async fn admin(url: &str, sql: &str) {
    let mut conn = PgConnection::connect(url)
        .await
        .expect("connect to PostgreSQL");
    sqlx::query(AssertSqlSafe(sql.to_owned()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = conn.close().await;
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: Value,
) -> Result<Value, String> {
    let response = http
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let text = response.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{status}: {text}"));
    }
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

/// Posts events round the nodes like a load balancer: each sender starts at its own node and
/// moves on to the next when one stops answering. Returns the ids of the accepted events.
fn stream(
    http: &reqwest::Client,
    token: &str,
    paths: Vec<String>,
    accepted: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let senders = 24;
    (0..senders)
        .map(|sender| {
            let (http, token, paths) = (http.clone(), token.to_owned(), paths.clone());
            let (accepted, stop) = (accepted.clone(), stop.clone());
            tokio::spawn(async move {
                let mut node = sender % paths.len();
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let body =
                        json!({ "eventType": "tick", "payload": { "sender": sender, "n": n } });
                    match post(&http, &paths[node], &token, body).await {
                        Ok(msg) => accepted
                            .lock()
                            .unwrap()
                            .push(msg["id"].as_str().unwrap().to_owned()),
                        Err(_) => node = (node + 1) % paths.len(),
                    }
                }
            })
        })
        .collect()
}

async fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_deliver_every_accepted_event_when_one_is_killed_mid_stream() {
    let Some(scratch) = Scratch::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // One request in flight per node and a 10 ms receiver: a backlog builds, so the killed
    // node holds claimed deliveries. A 12 s lease lets the others take them over soon.
    let env = [
        ("HOOKD_DATABASE", scratch.url.as_str()),
        ("HOOKD_SECRET_KEY", TEST_SECRET_KEY),
        ("HOOKD_DATABASE_POOL_SIZE", "4"),
        ("HOOKD_MAX_IN_FLIGHT_PER_ENDPOINT", "1"),
        ("HOOKD_DELIVERY_TIMEOUT", "1s"),
        ("HOOKD_DELIVERY_LEASE", "12s"),
    ];
    let out = hookd()
        .args(["token", "create"])
        .envs(env)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let mut nodes: Vec<Hookd> = (0..3)
        .map(|_| Hookd::start_with(dir.path(), &env))
        .collect();
    let (counter, receiver_url) = Counter::start().await;
    let http = reqwest::Client::new();
    let apps = format!("{}/app", nodes[0].base);
    let app = post(&http, &apps, &token, json!({ "name": "nodes" }))
        .await
        .unwrap();
    let app_id = app["id"].as_str().unwrap().to_owned();
    let endpoint = json!({ "url": receiver_url });
    let url = format!("{}/app/{app_id}/endpoint", nodes[1].base);
    post(&http, &url, &token, endpoint).await.unwrap();

    let paths = nodes
        .iter()
        .map(|n| format!("{}/app/{app_id}/msg", n.base))
        .collect();
    let accepted = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let senders = stream(&http, &token, paths, accepted.clone(), stop.clone());
    let count = || accepted.lock().unwrap().len();
    wait_until("300 events accepted", || count() >= 300).await;

    nodes[2].kill_9();
    // A request the killed node had sent may still be counted a moment later.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let delivered_before_kill = counter.seen.lock().unwrap().clone();
    let accepted_at_kill = count();
    let after_kill = AtomicUsize::new(accepted_at_kill + 300);
    wait_until("300 more events accepted by the two nodes left", || {
        count() >= after_kill.load(Ordering::Relaxed)
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    for sender in senders {
        sender.await.unwrap();
    }
    let accepted = accepted.lock().unwrap().clone();
    assert!(
        delivered_before_kill.len() + 50 < accepted_at_kill,
        "only {} of {accepted_at_kill} accepted events were still queued at the kill: no test",
        accepted_at_kill - delivered_before_kill.len(),
    );

    if let Err(missing) = counter
        .wait_for_all(&accepted, Duration::from_secs(60))
        .await
    {
        panic!(
            "{} of {} accepted events were lost: {:?}",
            missing.len(),
            accepted.len(),
            &missing[..missing.len().min(5)]
        );
    }
    let seen = counter.seen.lock().unwrap().clone();
    let duplicates: Vec<(&String, &u32)> = seen.iter().filter(|(_, n)| **n > 1).collect();
    for (id, times) in &duplicates {
        assert_eq!(**times, 2, "{id} was delivered {times} times");
        assert!(
            delivered_before_kill.contains_key(*id),
            "{id} was delivered twice, the first time after the kill: not by the killed node"
        );
    }
    println!(
        "accepted {} ({accepted_at_kill} before the kill), delivered before the kill {}, \
         duplicates {} (deliveries the killed node made but had not recorded)",
        accepted.len(),
        delivered_before_kill.len(),
        duplicates.len()
    );
    drop(nodes);
    scratch.remove().await;
}

/// A receiver that takes 200 ms over each delivery and keeps the most it had in flight at once.
#[derive(Clone, Default)]
struct SlowReceiver {
    delivered: Counter,
    in_flight: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
}

impl SlowReceiver {
    async fn start() -> (SlowReceiver, String) {
        let receiver = SlowReceiver::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let app = Router::new().fallback(slowly).with_state(receiver.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (receiver, url)
    }
}

async fn slowly(
    State(receiver): State<SlowReceiver>,
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
    let now = receiver.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    receiver.most.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(200)).await;
    receiver.in_flight.fetch_sub(1, Ordering::SeqCst);
    if let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok()) {
        let delivered = &receiver.delivered;
        *delivered
            .seen
            .lock()
            .unwrap()
            .entry(id.to_owned())
            .or_default() += 1;
        delivered.changed.notify_waiters();
    }
    String::new()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_never_send_one_endpoint_more_than_its_cap_at_once() {
    let Some(scratch) = Scratch::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("HOOKD_DATABASE", scratch.url.as_str()),
        ("HOOKD_SECRET_KEY", TEST_SECRET_KEY),
        ("HOOKD_DATABASE_POOL_SIZE", "4"),
        ("HOOKD_MAX_IN_FLIGHT_PER_ENDPOINT", "2"),
    ];
    let out = hookd()
        .args(["token", "create"])
        .envs(env)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let nodes: Vec<Hookd> = (0..3)
        .map(|_| Hookd::start_with(dir.path(), &env))
        .collect();
    let (receiver, receiver_url) = SlowReceiver::start().await;
    let http = reqwest::Client::new();
    let apps = format!("{}/app", nodes[0].base);
    let app = post(&http, &apps, &token, json!({ "name": "capped" }))
        .await
        .unwrap();
    let app_id = app["id"].as_str().unwrap().to_owned();
    let url = format!("{}/app/{app_id}/endpoint", nodes[1].base);
    post(&http, &url, &token, json!({ "url": receiver_url }))
        .await
        .unwrap();

    // Every node takes some of the events and so has deliveries of its own to claim.
    let started = tokio::time::Instant::now();
    let sends: Vec<_> = (0..40)
        .map(|n| {
            let url = format!("{}/app/{app_id}/msg", nodes[n % nodes.len()].base);
            let (http, token) = (http.clone(), token.clone());
            tokio::spawn(async move {
                let body = json!({ "eventType": "tick", "payload": { "n": n } });
                let msg = post(&http, &url, &token, body).await.unwrap();
                msg["id"].as_str().unwrap().to_owned()
            })
        })
        .collect();
    let mut accepted = Vec::new();
    for send in sends {
        accepted.push(send.await.unwrap());
    }

    if let Err(missing) = receiver
        .delivered
        .wait_for_all(&accepted, Duration::from_secs(60))
        .await
    {
        panic!("{} of 40 events were not delivered", missing.len());
    }
    let most = receiver.most.load(Ordering::SeqCst);
    println!(
        "40 events delivered by 3 nodes in {:?}, at most {most} requests at once (cap 2)",
        started.elapsed()
    );
    assert!(
        most <= 2,
        "{most} requests at once to an endpoint capped at 2"
    );
    assert_eq!(most, 2, "the cap is room to use, not only a ceiling");
    drop(nodes);
    scratch.remove().await;
}

#[test]
fn roles_other_than_all_are_refused_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let out = hookd()
        .args(["serve", "--role", "worker", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();

    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("role") && err.contains("postgres://"), "{err}");
}

#[tokio::test]
async fn migrate_brings_a_fresh_postgresql_schema_up_to_date_and_can_run_again() {
    let Some(scratch) = Scratch::create().await else {
        return;
    };
    for _ in 0..2 {
        let out = hookd()
            .args(["migrate", "--database", &scratch.url])
            .env("HOOKD_SECRET_KEY", TEST_SECRET_KEY)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(said.contains("is up to date"), "{said}");
        assert!(
            !said.contains("search_path]="),
            "the query is not printed: {said}"
        );
    }
    scratch.remove().await;
}
