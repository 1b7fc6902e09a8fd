//! Unreachable endpoints: after a few attempts without an answer their deliveries are held,
//! unattempted, until a probe gets an answer or someone touches the endpoint.

use std::collections::HashSet;
use std::time::Duration;

use hookd_server::EndpointVerification;
use hookd_server::config::RawConfig;
use serde_json::json;

use crate::harness::{Backend, TestApp, each_backend, test_config};
use crate::receiver::{ChallengeReply, Receiver};

/// A loopback port nothing listens on: connections to it are refused.
fn refusing_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// A server whose circuits open after `after` attempts without an answer and pause `pause`
/// (at most twice that) before each probe, with an endpoint on a refusing port.
async fn refused(
    backend: &Backend<'_>,
    after: u32,
    pause: &str,
    max_pause: &str,
) -> (TestApp, String, String, u16) {
    let app = TestApp::spawn_on(
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
    (app, app_id, ep, port)
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
        let (app, app_id, ep, port) = refused(&backend, 3, "1h", "1h").await;
        let mut ids = send(&app, &app_id, 1).await;
        let path = format!("/app/{app_id}/attempt/endpoint/{ep}");
        let failed = app.wait_for_list(&path, |items| items.len() >= 3).await;
        assert!(failed.iter().all(|a| a["status"] == 2));

        // The circuit is open: the first message's last attempt and the new ones wait.
        ids.extend(send(&app, &app_id, 5).await);
        tokio::time::sleep(Duration::from_millis(300)).await;
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
        let (app, app_id, ep, port) = refused(&backend, 2, "300ms", "600ms").await;
        let mut ids = send(&app, &app_id, 1).await;
        let path = format!("/app/{app_id}/attempt/endpoint/{ep}");
        app.wait_for_list(&path, |items| items.len() >= 2).await;
        // Held: without the circuit, the schedule (4 attempts 20 ms apart) would exhaust every
        // one of these before the receiver starts.
        ids.extend(send(&app, &app_id, 3).await);
        tokio::time::sleep(Duration::from_millis(100)).await;

        let mut receiver = Receiver::start_at(port, ChallengeReply::Echo).await;
        receive_all(&mut receiver, &ids).await;
        let listed = app.wait_for_list(&path, |items| items.len() == 6).await;
        let successes = listed.iter().filter(|a| a["status"] == 0).count();
        assert_eq!(successes, 4, "{listed:?}");
        app.shutdown().await;
    })
    .await;
}
