//! Sending again and reading where deliveries stand: resend, recover, attempted destinations,
//! the messages attempted to an endpoint, and endpoint stats.

use serde_json::{Value, json};

use crate::harness::{TestApp, each_backend, test_config};
use crate::receiver::{Receiver, Reply};

/// An app with one endpoint at `receiver`, its challenge answered: (app, endpoint).
async fn endpoint_at(app: &TestApp, receiver: &mut Receiver) -> (String, String) {
    let app_id = app.create_app("shop").await;
    let (ep, _) = app
        .create_endpoint(&app_id, json!({ "url": receiver.url }))
        .await;
    receiver.next().await;
    (app_id, ep)
}

/// Waits until the message's delivery to its (only) endpoint has `status`.
async fn wait_for_status(app: &TestApp, app_id: &str, msg: &str, status: i64) -> Value {
    let path = format!("/app/{app_id}/msg/{msg}/endpoint");
    let items = app
        .wait_for_list(&path, |items| items.iter().any(|d| d["status"] == status))
        .await;
    items[0].clone()
}

#[tokio::test]
async fn a_resend_makes_one_manual_attempt_even_after_success() {
    each_backend(async |backend| {
        let app = TestApp::on(&backend).await;
        let mut receiver = Receiver::start().await;
        let (app_id, ep) = endpoint_at(&app, &mut receiver).await;
        let msg = app
            .send_message(&app_id, json!({ "eventType": "a", "payload": {"n": 1} }))
            .await;
        receiver.next_delivery().await;
        wait_for_status(&app, &app_id, &msg, 0).await;

        let path = format!("/app/{app_id}/msg/{msg}/endpoint/{ep}/resend");
        let resent = app.call("POST", &path, None).await;

        assert_eq!(resent.status, 202, "{}", resent.body);
        assert_eq!(resent.body, json!({}));
        let again = receiver.next_delivery().await;
        assert_eq!(again.header("webhook-id"), Some(msg.as_str()));
        let attempts = app
            .wait_for_list(&format!("/app/{app_id}/attempt/msg/{msg}"), |items| {
                items.len() == 2
            })
            .await;
        assert_eq!(attempts[0]["triggerType"], 1, "the newest is manual");
        assert_eq!(attempts[1]["triggerType"], 0);
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_failed_manual_attempt_is_not_retried() {
    let app = TestApp::spawn().await;
    let mut receiver = Receiver::start().await;
    let (app_id, ep) = endpoint_at(&app, &mut receiver).await;
    let msg = app
        .send_message(&app_id, json!({ "eventType": "a", "payload": {} }))
        .await;
    receiver.next_delivery().await;
    wait_for_status(&app, &app_id, &msg, 0).await;
    receiver.script([Reply::Status(500)]);

    let path = format!("/app/{app_id}/msg/{msg}/endpoint/{ep}/resend");
    assert_eq!(app.call("POST", &path, None).await.status, 202);

    receiver.next_delivery().await;
    let destination = wait_for_status(&app, &app_id, &msg, 2).await;
    assert_eq!(destination["statusText"], "fail");
    assert_eq!(
        destination["nextAttempt"],
        Value::Null,
        "no retry is scheduled"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_resend_to_an_unknown_message_or_endpoint_is_404() {
    let app = TestApp::spawn().await;
    let mut receiver = Receiver::start().await;
    let (app_id, ep) = endpoint_at(&app, &mut receiver).await;
    let msg = app
        .send_message(&app_id, json!({ "eventType": "a", "payload": {} }))
        .await;

    let no_msg = format!("/app/{app_id}/msg/msg_unknown/endpoint/{ep}/resend");
    let no_ep = format!("/app/{app_id}/msg/{msg}/endpoint/ep_unknown/resend");

    assert_eq!(app.call("POST", &no_msg, None).await.status, 404);
    assert_eq!(app.call("POST", &no_ep, None).await.status, 404);
    app.shutdown().await;
}

#[tokio::test]
async fn recover_sends_again_every_message_that_failed_for_good_since_a_time() {
    each_backend(async |backend| {
        let config = hookd_server::config::RawConfig {
            retry_schedule: vec!["0s".into()],
            ..test_config()
        };
        let app = TestApp::spawn_on(&backend, config).await;
        let mut receiver = Receiver::start().await;
        let (app_id, ep) = endpoint_at(&app, &mut receiver).await;
        receiver.script([Reply::Status(500), Reply::Status(500)]);
        let mut messages = Vec::new();
        for n in 0..2 {
            let body = json!({ "eventType": "a", "payload": {"n": n} });
            messages.push(app.send_message(&app_id, body).await);
        }
        for msg in &messages {
            wait_for_status(&app, &app_id, msg, 2).await;
        }

        let path = format!("/app/{app_id}/endpoint/{ep}/recover");
        let since = json!({ "since": "2020-01-01T00:00:00Z" });
        let recovered = app.call("POST", &path, Some(since)).await;

        assert_eq!(recovered.status, 202, "{}", recovered.body);
        assert!(recovered.body["id"].as_str().unwrap().starts_with("qtask_"));
        assert_eq!(recovered.body["task"], "endpoint.recover");
        assert_eq!(recovered.body["status"], "running");
        for msg in &messages {
            wait_for_status(&app, &app_id, msg, 0).await;
        }
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn destinations_messages_and_stats_show_how_each_delivery_stands() {
    each_backend(async |backend| {
        let app = TestApp::on(&backend).await;
        let mut first = Receiver::start().await;
        let (app_id, ep) = endpoint_at(&app, &mut first).await;
        let mut second = Receiver::start().await;
        app.create_endpoint(&app_id, json!({ "url": second.url }))
            .await;
        second.next().await;
        let msg = app
            .send_message(&app_id, json!({ "eventType": "a", "payload": {"n": 7} }))
            .await;

        let destinations = app
            .wait_for_list(&format!("/app/{app_id}/msg/{msg}/endpoint"), |items| {
                items.len() == 2 && items.iter().all(|d| d["status"] == 0)
            })
            .await;
        let queued = app
            .call("GET", &format!("/app/{app_id}/endpoint/{ep}/msg"), None)
            .await;
        let failed = format!("/app/{app_id}/endpoint/{ep}/msg?status=2");
        let none = app.call("GET", &failed, None).await;
        let stats = app
            .call("GET", &format!("/app/{app_id}/endpoint/{ep}/stats"), None)
            .await;

        assert_eq!(destinations[0]["statusText"], "success");
        assert!(destinations.iter().any(|d| d["id"] == ep.as_str()));
        let item = &queued.body["data"][0];
        assert_eq!(item["id"], msg.as_str());
        assert_eq!(item["payload"], json!({"n": 7}));
        assert_eq!(item["status"], 0);
        assert_eq!(item["nextAttempt"], Value::Null);
        assert_eq!(none.body["data"], json!([]));
        let expected =
            json!({ "success": 1, "fail": 0, "pending": 0, "sending": 0, "canceled": 0 });
        assert_eq!(stats.body, expected);
        let later = format!("/app/{app_id}/endpoint/{ep}/stats?since=2999-01-01T00:00:00Z");
        assert_eq!(app.call("GET", &later, None).await.body["success"], 0);
        app.shutdown().await;
    })
    .await;
}
