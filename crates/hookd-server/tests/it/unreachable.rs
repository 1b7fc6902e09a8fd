//! Unreachable endpoints: after a few attempts without an answer their deliveries are held,
//! unattempted, until a probe gets an answer or someone touches the endpoint.
//!
//! The server runs on a `ManualClock`: retries and pauses fall due when the test moves it, and
//! `look` has the worker act on the time, so "nothing was sent" is a count, not a sleep.

use std::collections::HashSet;
use std::time::Duration;

use hookd_server::EndpointVerification;
use hookd_server::clock::ManualClock;
use hookd_server::config::RawConfig;
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp, each_backend, test_config};
use crate::receiver::{ChallengeReply, Receiver};

/// A loopback port nothing listens on: connections to it are refused.
fn refusing_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Past the test schedule's 20 ms between attempts, and its jitter.
const RETRY_STEP: Duration = Duration::from_millis(30);

/// A server whose circuits open after `after` attempts without an answer and pause `pause`
/// (at most twice that) before each probe, with an endpoint on a refusing port.
async fn refused(
    backend: &Backend<'_>,
    after: u32,
    pause: &str,
    max_pause: &str,
) -> (TestApp, ManualClock, String, String, u16) {
    let (app, clock) = TestApp::spawn_stepped(
        backend,
        RawConfig {
            endpoint_verification: EndpointVerification::Off,
            unreachable_after: after,
            unreachable_pause: pause.into(),
            unreachable_max_pause: max_pause.into(),
            ..test_config()
        },
    )
    .await;
    let port = refusing_port();
    let app_id = app.create_app("shop").await;
    let (ep, _) = app
        .create_endpoint(
            &app_id,
            json!({ "url": format!("http://127.0.0.1:{port}/hook") }),
        )
        .await;
    (app, clock, app_id, ep, port)
}

/// Lets the first `count` attempts at the message just sent fail, one retry step at a time;
/// returns them as listed.
async fn fail_attempts(app: &TestApp, clock: &ManualClock, path: &str, count: usize) -> Vec<Value> {
    let mut listed = app.wait_for_list(path, |items| !items.is_empty()).await;
    for made in 2..=count {
        clock.advance(RETRY_STEP);
        app.look().await;
        listed = app.wait_for_list(path, |items| items.len() >= made).await;
    }
    listed
}

async fn send(app: &TestApp, app_id: &str, count: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..count {
        ids.push(
            app.send_message(app_id, json!({ "eventType": "a", "payload": {} }))
                .await,
        );
    }
    ids
}

async fn attempts(app: &TestApp, app_id: &str, ep: &str) -> usize {
    let listed = app
        .call("GET", &format!("/app/{app_id}/attempt/endpoint/{ep}"), None)
        .await;
    listed.body["data"].as_array().map_or(0, Vec::len)
}

/// Receives until every one of `ids` arrived at least once.
async fn receive_all(receiver: &mut Receiver, ids: &[String]) {
    let mut missing: HashSet<&str> = ids.iter().map(String::as_str).collect();
    while !missing.is_empty() {
        let delivery = receiver.next_delivery().await;
        missing.remove(delivery.header("webhook-id").unwrap());
    }
}

#[tokio::test]
async fn deliveries_to_an_endpoint_that_refuses_are_held_until_it_is_touched() {
    each_backend(async |backend| {
        // No probe within the test: only the update lets the held deliveries go.
        let (app, clock, app_id, ep, port) = refused(&backend, 3, "1h", "1h").await;
        let mut ids = send(&app, &app_id, 1).await;
        let path = format!("/app/{app_id}/attempt/endpoint/{ep}");
        let failed = fail_attempts(&app, &clock, &path, 3).await;
        assert_eq!(failed.len(), 3);
        assert!(failed.iter().all(|a| a["status"] == 2));

        // The circuit is open: the first message's last attempt and the new ones wait, though
        // all of them are due when the worker looks.
        let started = app.look().await;
        ids.extend(send(&app, &app_id, 5).await);
        clock.advance(RETRY_STEP);
        assert_eq!(app.look().await, started, "nothing started while held");
        assert_eq!(
            attempts(&app, &app_id, &ep).await,
            3,
            "nothing attempted while held"
        );
        let pending = app
            .call("GET", &format!("/app/{app_id}/endpoint/{ep}/stats"), None)
            .await;
        assert_eq!(pending.body["pending"], 6, "{:?}", pending.body);

        let mut receiver = Receiver::start_at(port, ChallengeReply::Echo).await;
        let touched = app
            .call(
                "PATCH",
                &format!("/app/{app_id}/endpoint/{ep}"),
                Some(json!({ "description": "back" })),
            )
            .await;
        assert_eq!(touched.status, 200);
        receive_all(&mut receiver, &ids).await;
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_probe_that_gets_an_answer_sends_everything_held() {
    each_backend(async |backend| {
        let (app, clock, app_id, ep, port) = refused(&backend, 2, "300ms", "600ms").await;
        let mut ids = send(&app, &app_id, 1).await;
        let path = format!("/app/{app_id}/attempt/endpoint/{ep}");
        fail_attempts(&app, &clock, &path, 2).await;
        // Held: without the circuit, each of these would be attempted (and fail) at once.
        let started = app.look().await;
        ids.extend(send(&app, &app_id, 3).await);
        clock.advance(RETRY_STEP);
        assert_eq!(app.look().await, started, "nothing started while held");

        // The pause is over: one probe goes, gets an answer, and the rest follow it.
        let mut receiver = Receiver::start_at(port, ChallengeReply::Echo).await;
        clock.advance(Duration::from_millis(300));
        let probing = app.look().await;
        // PostgreSQL's claim skips only endpoints whose lane has no room, so it gives a
        // probing endpoint every delivery due, not one: a gap of the store's, not checked here.
        if matches!(backend, Backend::Sqlite) {
            assert_eq!(probing, started + 1, "one probe");
        }
        app.wait_for_list(&path, |items| items.iter().any(|a| a["status"] == 0))
            .await;
        app.look().await;
        receive_all(&mut receiver, &ids).await;
        let listed = app.wait_for_list(&path, |items| items.len() == 6).await;
        let successes = listed.iter().filter(|a| a["status"] == 0).count();
        assert_eq!(successes, 4, "{listed:?}");
        app.shutdown().await;
    })
    .await;
}
