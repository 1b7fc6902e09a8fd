//! Removing content: a message's payload (then unsendable) and an attempt's stored response.

use serde_json::json;

use crate::harness::{TestApp, each_backend, test_config};
use crate::receiver::{Receiver, Reply};

#[tokio::test]
async fn an_expunged_payload_reads_as_expired_and_cannot_be_resent() {
    each_backend(async |backend| {
        let app = TestApp::on(&backend).await;
        let mut receiver = Receiver::start().await;
        let app_id = app.create_app("shop").await;
        let (ep, _) = app
            .create_endpoint(&app_id, json!({ "url": receiver.url }))
            .await;
        receiver.next().await;
        let msg = app
            .send_message(
                &app_id,
                json!({ "eventType": "a", "payload": {"card": "4242"} }),
            )
            .await;
        receiver.next_delivery().await;

        let content = format!("/app/{app_id}/msg/{msg}/content");
        let expunged = app.call("DELETE", &content, None).await;

        assert_eq!(expunged.status, 204, "{}", expunged.body);
        let read = app
            .call("GET", &format!("/app/{app_id}/msg/{msg}"), None)
            .await;
        assert_eq!(read.body["payload"], json!({ "expired": true }));
        let resend = format!("/app/{app_id}/msg/{msg}/endpoint/{ep}/resend");
        let refused = app.call("POST", &resend, None).await;
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert_eq!(refused.body["code"], "missing_payload");
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_pending_retry_of_an_expunged_message_fails_instead_of_being_sent() {
    let config = hookd_server::config::RawConfig {
        retry_schedule: vec!["0s".into(), "1h".into()],
        ..test_config()
    };
    let app = TestApp::spawn_with(config).await;
    let mut receiver = Receiver::start().await;
    let app_id = app.create_app("shop").await;
    app.create_endpoint(&app_id, json!({ "url": receiver.url }))
        .await;
    receiver.next().await;
    receiver.script([Reply::Status(500)]);
    let msg = app
        .send_message(&app_id, json!({ "eventType": "a", "payload": {} }))
        .await;
    // The attempt and its retry's schedule are recorded in one transaction.
    app.wait_for_list(&format!("/app/{app_id}/attempt/msg/{msg}"), |items| {
        items.len() == 1
    })
    .await;
    let destinations = format!("/app/{app_id}/msg/{msg}/endpoint");
    let pending = app.call("GET", &destinations, None).await;
    assert_eq!(pending.body["data"][0]["status"], 1, "{}", pending.body);
    assert!(
        pending.body["data"][0]["nextAttempt"].is_string(),
        "a retry is scheduled"
    );

    let content = format!("/app/{app_id}/msg/{msg}/content");
    assert_eq!(app.call("DELETE", &content, None).await.status, 204);

    let after = app.call("GET", &destinations, None).await;
    assert_eq!(after.body["data"][0]["status"], 2, "{}", after.body);
    assert_eq!(
        after.body["data"][0]["nextAttempt"],
        serde_json::Value::Null
    );
    app.shutdown().await;
}

#[tokio::test]
async fn an_attempts_stored_response_can_be_expunged() {
    each_backend(async |backend| {
        let app = TestApp::on(&backend).await;
        let mut receiver = Receiver::start().await;
        let app_id = app.create_app("shop").await;
        app.create_endpoint(&app_id, json!({ "url": receiver.url }))
            .await;
        receiver.next().await;
        receiver.script([Reply::WithBody(200, "token=abc")]);
        let msg = app
            .send_message(&app_id, json!({ "eventType": "a", "payload": {} }))
            .await;
        let attempts = app
            .wait_for_list(&format!("/app/{app_id}/attempt/msg/{msg}"), |items| {
                items.len() == 1
            })
            .await;
        assert_eq!(attempts[0]["response"], "token=abc");
        let attempt = attempts[0]["id"].as_str().unwrap();

        let path = format!("/app/{app_id}/msg/{msg}/attempt/{attempt}/content");
        let expunged = app.call("DELETE", &path, None).await;

        assert_eq!(expunged.status, 204, "{}", expunged.body);
        let read = app
            .call(
                "GET",
                &format!("/app/{app_id}/msg/{msg}/attempt/{attempt}"),
                None,
            )
            .await;
        assert_eq!(read.body["response"], "");
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn expunging_content_of_unknown_messages_or_attempts_is_404() {
    let app = TestApp::spawn().await;
    let app_id = app.create_app("shop").await;
    let msg = app
        .send_message(&app_id, json!({ "eventType": "a", "payload": {} }))
        .await;

    let no_msg = app
        .call("DELETE", &format!("/app/{app_id}/msg/msg_x/content"), None)
        .await;
    let no_attempt = format!("/app/{app_id}/msg/{msg}/attempt/atmpt_x/content");

    assert_eq!(no_msg.status, 404);
    assert_eq!(app.call("DELETE", &no_attempt, None).await.status, 404);
    app.shutdown().await;
}
