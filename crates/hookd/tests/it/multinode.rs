//! Many nodes, one PostgreSQL database: three `hookd serve` processes share a stream of events;
//! one is SIGKILLed mid-stream. Every event the cluster accepted is delivered, and the only
//! duplicates are deliveries the killed node had made but not yet recorded. Runs when
//! `HOOKD_TEST_POSTGRES_URL` is set.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, Connection, PgConnection};

use crate::process::{Counter, Hookd, hookd};

/// The key every node of a test database seals endpoint secrets with.
const TEST_SECRET_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// An empty schema of its own in the database `HOOKD_TEST_POSTGRES_URL` names.
struct Scratch {
    base: String,
    schema: String,
    url: String,
}

impl Scratch {
    async fn create() -> Option<Scratch> {
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

    async fn remove(self) {
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
