//! Several nodes on one PostgreSQL database, in one test process: roles, wake-ups between
//! nodes, leases left alone at start, work handed over at shutdown, and a health check that
//! reaches the database. These run only when `HOOKD_TEST_POSTGRES_URL` is set.

use std::time::{Duration, Instant};

use hookd_server::config::{RawConfig, Role};
use serde_json::json;

use crate::harness::{Backend, Scratch, TestApp, test_config};
use crate::receiver::{Receiver, Reply};

fn with_role(role: Role) -> RawConfig {
    RawConfig {
        role,
        ..test_config()
    }
}

#[tokio::test]
async fn a_worker_node_delivers_what_an_api_node_takes_without_waiting_for_its_poll() {
    let Some(scratch) = Scratch::create().await else {
        return;
    };
    let on = Backend::Postgres(&scratch);
    let api = TestApp::spawn_on(&on, with_role(Role::Api)).await;
    let worker = TestApp::spawn_on(&on, with_role(Role::Worker)).await;
    let mut receiver = Receiver::start().await;
    let app_id = api.create_app("shop").await;
    api.create_endpoint(&app_id, json!({ "url": receiver.url }))
        .await;
    receiver.next().await; // the challenge, sent by the API node

    let sent_at = Instant::now();
    let msg = api
        .send_message(&app_id, json!({ "eventType": "a", "payload": {} }))
        .await;
    let delivery = receiver.next_delivery().await;

    assert_eq!(delivery.header("webhook-id"), Some(msg.as_str()));
    // The worker polls every 5 s; only the API node's NOTIFY gets it there sooner.
    let waited = delivery.at - sent_at;
    assert!(
        waited < Duration::from_secs(2),
        "delivered after {waited:?}"
    );
    api.shutdown().await;
    worker.shutdown().await;
    scratch.remove().await;
}

#[tokio::test]
async fn an_api_node_queues_messages_and_leaves_delivery_to_worker_nodes() {
    let Some(scratch) = Scratch::create().await else {
        return;
    };
    let on = Backend::Postgres(&scratch);
    let api = TestApp::spawn_on(&on, with_role(Role::Api)).await;
    let mut receiver = Receiver::start().await;
    let app_id = api.create_app("shop").await;
    api.create_endpoint(&app_id, json!({ "url": receiver.url }))
        .await;
    receiver.next().await;
    let msg = api
        .send_message(&app_id, json!({ "eventType": "a", "payload": {} }))
        .await;
    assert!(!api.runs_worker(), "an API node runs a worker");
    assert!(receiver.has_seen_nothing(), "an API node delivered");

    let worker = TestApp::spawn_on(&on, with_role(Role::Worker)).await;

    let delivery = receiver.next_delivery().await;
    assert_eq!(delivery.header("webhook-id"), Some(msg.as_str()));
    api.shutdown().await;
    worker.shutdown().await;
    scratch.remove().await;
}

#[tokio::test]
async fn a_worker_node_serves_only_the_health_checks() {
    let Some(scratch) = Scratch::create().await else {
        return;
    };
    let worker = TestApp::spawn_on(&Backend::Postgres(&scratch), with_role(Role::Worker)).await;

    assert_eq!(worker.call("GET", "/health", None).await.status, 204);
    assert_eq!(worker.call("GET", "/health/ping", None).await.status, 204);
    let api = worker.call("GET", "/app", None).await;
    assert_eq!(api.status, 404, "{}", api.body);
    worker.shutdown().await;
    scratch.remove().await;
}

#[tokio::test]
async fn a_node_that_starts_leaves_the_leases_of_running_nodes_alone() {
    let Some(scratch) = Scratch::create().await else {
        return;
    };
    let on = Backend::Postgres(&scratch);
    let first = TestApp::on(&on).await;
    let mut receiver = Receiver::start().await;
    let app_id = first.create_app("shop").await;
    first
        .create_endpoint(&app_id, json!({ "url": receiver.url }))
        .await;
    receiver.next().await;
    receiver.script([Reply::Hang]);
    first
        .send_message(&app_id, json!({ "eventType": "a", "payload": {} }))
        .await;
    receiver.next_delivery().await; // in flight on the first node, for up to 2 s

    let second = TestApp::on(&on).await;

    // On SQLite, start-up gives every lease back; here that would send it a second time.
    assert_eq!(
        (first.look().await, second.look().await),
        (1, 0),
        "the new node took over a delivery in flight on a running node"
    );
    first.shutdown_now().await;
    second.shutdown().await;
    scratch.remove().await;
}

#[tokio::test]
async fn a_node_shutting_down_hands_its_claimed_deliveries_to_the_others_at_once() {
    let Some(scratch) = Scratch::create().await else {
        return;
    };
    let on = Backend::Postgres(&scratch);
    // Two per endpoint over the cluster, one request in flight on the leaving node.
    let two_per_endpoint = RawConfig {
        max_in_flight_per_endpoint: 2,
        ..test_config()
    };
    let one_at_a_time = RawConfig {
        max_in_flight: 1,
        ..two_per_endpoint.clone()
    };
    let leaving = TestApp::spawn_on(&on, one_at_a_time).await;
    let mut receiver = Receiver::start().await;
    let app_id = leaving.create_app("shop").await;
    leaving
        .create_endpoint(&app_id, json!({ "url": receiver.url }))
        .await;
    receiver.next().await;
    receiver.script([Reply::Hang]);
    let mut sent = Vec::new();
    for n in 0..2 {
        let body = json!({ "eventType": "a", "payload": { "n": n } });
        sent.push(leaving.send_message(&app_id, body).await);
    }
    // The first hangs in flight; the second waits behind it, claimed by this node, which
    // sends one request at a time. The endpoint is at its cap: the other node claims neither.
    receiver.next_delivery().await;
    let staying = TestApp::spawn_on(
        &on,
        RawConfig {
            role: Role::Worker,
            ..two_per_endpoint
        },
    )
    .await;
    assert_eq!(
        staying.look().await,
        0,
        "a claimed delivery was sent by another node"
    );

    let stopping_at = Instant::now();
    let stopping = tokio::spawn(leaving.shutdown());

    // The waiting delivery is released and the other node, woken by the release, sends it
    // long before the hanging request runs into its 2 s timeout or the 5 s poll comes round.
    let handed_over = receiver.next_delivery().await;
    assert_eq!(handed_over.header("webhook-id"), Some(sent[1].as_str()));
    let waited = handed_over.at - stopping_at;
    assert!(
        waited < Duration::from_millis(1500),
        "handed over after {waited:?}"
    );
    stopping.await.unwrap();
    staying.shutdown().await;
    scratch.remove().await;
}

#[tokio::test]
async fn health_fails_when_the_database_cannot_answer() {
    let Some(scratch) = Scratch::create().await else {
        return;
    };
    let app = TestApp::on(&Backend::Postgres(&scratch)).await;
    assert_eq!(app.call("GET", "/health", None).await.status, 204);

    scratch.remove().await;

    let health = app.call("GET", "/health", None).await;
    assert_eq!(health.status, 500, "{}", health.body);
    assert_eq!(
        app.call("GET", "/health/ping", None).await.status,
        204,
        "the process itself still answers"
    );
    app.shutdown_now().await;
}
