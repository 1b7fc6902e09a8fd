//! Retries: failures are tried again on the schedule with the same webhook-id, and the
//! receiver's Retry-After is heeded.

use std::time::Duration;

use serde_json::json;

use crate::harness::{TestApp, each_backend, test_config};
use crate::receiver::{Receiver, Reply};

#[tokio::test]
async fn a_failing_endpoint_is_retried_with_the_same_webhook_id_until_it_succeeds() {
    each_backend(async |backend| {
        let app = TestApp::on(&backend).await;
        let mut receiver = Receiver::start().await;
        let app_id = app.create_app("shop").await;
        let (ep, _) = app
            .create_endpoint(&app_id, json!({ "url": receiver.url }))
            .await;
        receiver.next().await;
        receiver.script([Reply::Status(500), Reply::Status(302)]);
        let msg = app
            .send_message(&app_id, json!({ "eventType": "a", "payload": {} }))
            .await;

        let mut timestamps = Vec::new();
        for _ in 0..3 {
            let delivery = receiver.next_delivery().await;
            assert_eq!(
                delivery.header("webhook-id"),
                Some(msg.as_str()),
                "same id on every attempt"
            );
            timestamps.push(
                delivery
                    .header("webhook-timestamp")
                    .unwrap()
                    .parse::<i64>()
                    .unwrap(),
            );
        }
        assert!(timestamps.windows(2).all(|w| w[0] <= w[1]));

        let attempts = app
            .wait_for_list(&format!("/app/{app_id}/attempt/msg/{msg}"), |items| {
                items.len() == 3
            })
            .await;
        // Newest first: success after two failures; a redirect is a failure, never followed.
        let codes: Vec<_> = attempts
            .iter()
            .map(|a| a["responseStatusCode"].as_i64().unwrap())
            .collect();
        assert_eq!(codes, [200, 302, 500]);
        let statuses: Vec<_> = attempts
            .iter()
            .map(|a| a["status"].as_i64().unwrap())
            .collect();
        assert_eq!(statuses, [0, 2, 2]);
        let by_endpoint = app
            .call(
                "GET",
                &format!("/app/{app_id}/attempt/endpoint/{ep}?status=2"),
                None,
            )
            .await;
        assert_eq!(by_endpoint.body["data"].as_array().unwrap().len(), 2);
        assert!(
            receiver.stays_quiet(Duration::from_millis(200)).await,
            "no attempt after success"
        );
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn after_the_last_attempt_the_message_has_failed_for_that_endpoint() {
    each_backend(async |backend| {
        let app = TestApp::on(&backend).await;
        let mut receiver = Receiver::start().await;
        let app_id = app.create_app("shop").await;
        receiver.script(std::iter::repeat_n(Reply::Status(500), 10));
        app.create_endpoint(&app_id, json!({ "url": receiver.url }))
            .await;
        let msg = app
            .send_message(&app_id, json!({ "eventType": "a", "payload": {} }))
            .await;
        for _ in 0..4 {
            receiver.next_delivery().await;
        }
        assert!(
            receiver.stays_quiet(Duration::from_millis(300)).await,
            "the schedule has 4 attempts"
        );
        let attempts = app
            .wait_for_list(&format!("/app/{app_id}/attempt/msg/{msg}"), |items| {
                items.len() == 4
            })
            .await;
        assert!(attempts.iter().all(|a| a["status"] == 2));
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn retry_after_on_503_delays_the_next_attempt() {
    each_backend(async |backend| {
        let app = TestApp::on(&backend).await;
        let mut receiver = Receiver::start().await;
        let app_id = app.create_app("shop").await;
        app.create_endpoint(&app_id, json!({ "url": receiver.url }))
            .await;
        receiver.next().await;
        receiver.script([Reply::WithRetryAfter(503, "1")]);
        app.send_message(&app_id, json!({ "eventType": "a", "payload": {} }))
            .await;
        let first = receiver.next_delivery().await;
        let second = receiver.next_delivery().await;
        let waited = second.at - first.at;
        // The schedule alone would retry after 20 ms; the receiver asked for one second.
        assert!(
            waited >= Duration::from_millis(950),
            "retried after {waited:?}"
        );
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_timeout_is_a_failed_attempt_that_is_retried_after_the_throttle_backoff() {
    each_backend(async |backend| {
        let app = TestApp::spawn_on(
            &backend,
            hookd_server::config::RawConfig {
                delivery_timeout: "200ms".into(),
                min_backoff_after_throttle: "500ms".into(),
                ..test_config()
            },
        )
        .await;
        let mut receiver = Receiver::start().await;
        let app_id = app.create_app("shop").await;
        app.create_endpoint(&app_id, json!({ "url": receiver.url }))
            .await;
        receiver.next().await;
        receiver.script([Reply::Hang]);
        let msg = app
            .send_message(&app_id, json!({ "eventType": "a", "payload": {} }))
            .await;
        let first = receiver.next_delivery().await;
        let second = receiver.next_delivery().await;
        assert!(
            second.at - first.at >= Duration::from_millis(650),
            "waited {:?}",
            second.at - first.at
        );
        let attempts = app
            .wait_for_list(&format!("/app/{app_id}/attempt/msg/{msg}"), |items| {
                items.len() == 2
            })
            .await;
        assert_eq!(attempts[1]["responseStatusCode"], 0);
        assert!(
            attempts[1]["response"]
                .as_str()
                .unwrap()
                .contains("no complete answer within")
        );
        app.shutdown().await;
    })
    .await;
}
