//! Endpoint headers: sent with every delivery, read with sensitive values withheld, replaced
//! and patched, and never allowed to take a name hookd sets itself.

use serde_json::json;

use crate::harness::{TestApp, each_backend};
use crate::receiver::Receiver;

#[tokio::test]
async fn custom_headers_go_with_every_delivery_and_sensitive_values_are_withheld_on_read() {
    each_backend(async |backend| {
        let app = TestApp::on(&backend).await;
        let mut receiver = Receiver::start().await;
        let app_id = app.create_app("shop").await;
        let headers = json!({ "X-Env": "prod", "Authorization": "Bearer s3cret" });
        let (ep, _) = app
            .create_endpoint(&app_id, json!({ "url": receiver.url, "headers": headers }))
            .await;
        receiver.next().await;

        let read = app
            .call("GET", &format!("/app/{app_id}/endpoint/{ep}/headers"), None)
            .await;
        app.send_message(&app_id, json!({ "eventType": "a", "payload": {} }))
            .await;

        assert_eq!(read.status, 200, "{}", read.body);
        assert_eq!(read.body["headers"], json!({ "X-Env": "prod" }));
        assert_eq!(read.body["sensitive"], json!(["Authorization"]));
        let delivery = receiver.next_delivery().await;
        assert_eq!(delivery.header("x-env"), Some("prod"));
        assert_eq!(delivery.header("authorization"), Some("Bearer s3cret"));
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn put_replaces_the_headers_and_patch_sets_or_removes_one() {
    let app = TestApp::spawn().await;
    let mut receiver = Receiver::start().await;
    let app_id = app.create_app("shop").await;
    let (ep, _) = app
        .create_endpoint(&app_id, json!({ "url": receiver.url }))
        .await;
    receiver.next().await;
    let path = format!("/app/{app_id}/endpoint/{ep}/headers");

    let put = json!({ "headers": { "X-A": "1", "X-B": "2" } });
    assert_eq!(app.call("PUT", &path, Some(put)).await.status, 204);
    let patch = json!({ "headers": { "x-a": null, "X-C": "3", "X-Api-Token": "t" } });
    assert_eq!(app.call("PATCH", &path, Some(patch)).await.status, 204);

    let read = app.call("GET", &path, None).await;
    assert_eq!(read.body["headers"], json!({ "X-B": "2", "X-C": "3" }));
    assert_eq!(read.body["sensitive"], json!(["X-Api-Token"]));
    let endpoint = app
        .call("GET", &format!("/app/{app_id}/endpoint/{ep}"), None)
        .await;
    assert_eq!(
        endpoint.status, 200,
        "the endpoint is still whole: {}",
        endpoint.body
    );
    app.shutdown().await;
}

#[tokio::test]
async fn header_names_hookd_sets_itself_are_refused_with_422() {
    let app = TestApp::spawn().await;
    let mut receiver = Receiver::start().await;
    let app_id = app.create_app("shop").await;
    let (ep, _) = app
        .create_endpoint(&app_id, json!({ "url": receiver.url }))
        .await;
    receiver.next().await;
    let path = format!("/app/{app_id}/endpoint/{ep}/headers");

    for name in [
        "webhook-signature",
        "Svix-Id",
        "Host",
        "Content-Length",
        "Connection",
    ] {
        let put = app
            .call("PUT", &path, Some(json!({ "headers": { name: "x" } })))
            .await;
        assert_eq!(put.status, 422, "{name}: {}", put.body);
        assert_eq!(
            put.body["detail"][0]["loc"],
            json!(["body", "headers", name])
        );
    }
    let create = json!({ "url": receiver.url, "headers": { "User-Agent": "me" } });
    let refused = app
        .call("POST", &format!("/app/{app_id}/endpoint"), Some(create))
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    let missing = app
        .call("GET", &format!("/app/{app_id}/endpoint/nope/headers"), None)
        .await;
    assert_eq!(missing.status, 404);
    app.shutdown().await;
}
