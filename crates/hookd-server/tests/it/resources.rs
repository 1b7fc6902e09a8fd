//! Resource CRUD as the Svix API defines it: shapes, ids or uids, pagination.

use serde_json::{Value, json};

use crate::harness::TestApp;
use crate::receiver::Receiver;

#[tokio::test]
async fn applications_can_be_created_read_updated_and_deleted_by_id_or_uid() {
    let app = TestApp::spawn().await;
    let created = app
        .call(
            "POST",
            "/app",
            Some(
                json!({ "name": "Acme", "uid": "acme", "metadata": {"tier": "gold"}, "extra": 1 }),
            ),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("app_"));
    for key in ["createdAt", "updatedAt", "name", "uid", "metadata"] {
        assert!(
            !created.body[key].is_null(),
            "{key} missing: {}",
            created.body
        );
    }
    let by_uid = app.call("GET", "/app/acme", None).await;
    assert_eq!(by_uid.body["id"], id.as_str());

    let patched = app
        .call("PATCH", "/app/acme", Some(json!({ "name": "Acme Inc" })))
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["name"], "Acme Inc");
    assert_eq!(
        patched.body["metadata"],
        json!({"tier": "gold"}),
        "PATCH leaves absent fields alone"
    );

    let put = app
        .call(
            "PUT",
            "/app/other-uid",
            Some(json!({ "name": "Created by PUT" })),
        )
        .await;
    assert_eq!(put.status, 201, "{}", put.body);
    assert_eq!(put.body["uid"], "other-uid");

    let deleted = app.call("DELETE", &format!("/app/{id}"), None).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(app.call("GET", "/app/acme", None).await.status, 404);
    app.shutdown().await;
}

#[tokio::test]
async fn lists_page_with_limit_and_iterator_until_done() {
    let app = TestApp::spawn().await;
    let mut made = Vec::new();
    for n in 0..5 {
        made.push(app.create_app(&format!("app {n}")).await);
    }
    let mut seen: Vec<String> = Vec::new();
    let mut iterator: Option<String> = None;
    for _ in 0..5 {
        let query = match &iterator {
            Some(it) => format!("/app?limit=2&iterator={it}"),
            None => "/app?limit=2".to_string(),
        };
        let page = app.call("GET", &query, None).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.get("iterator").is_some() && page.body.get("prevIterator").is_some());
        seen.extend(
            page.body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_str().unwrap().to_owned()),
        );
        if page.body["done"] == Value::Bool(true) {
            break;
        }
        iterator = page.body["iterator"].as_str().map(str::to_owned);
    }
    let mut expected = made.clone();
    let mut got = seen.clone();
    expected.sort();
    got.sort();
    assert_eq!(got, expected, "every application exactly once");
    app.shutdown().await;
}

#[tokio::test]
async fn endpoints_keep_their_fields_and_hide_nothing_but_are_scoped_to_their_app() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start().await;
    let app_id = app.create_app("shop").await;
    let other_app = app.create_app("other").await;
    app.create_event_types(&["a.b"]).await;
    let created = app
        .call(
            "POST",
            &format!("/app/{app_id}/endpoint"),
            Some(json!({
                "url": receiver.url, "uid": "main", "description": "main hook",
                "eventTypes": ["a.b"], "channels": ["c1"], "metadata": {"k": "v"},
                "secret": "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
            })),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(created.body["id"].as_str().unwrap().starts_with("ep_"));
    assert_eq!(created.body["eventTypes"], json!(["a.b"]));
    assert_eq!(created.body["channels"], json!(["c1"]));
    assert!(
        created.body.get("secret").is_none(),
        "the secret is only on /secret"
    );
    let secret = app
        .call("GET", &format!("/app/{app_id}/endpoint/main/secret"), None)
        .await;
    assert_eq!(secret.body["key"], "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD");
    let elsewhere = app
        .call("GET", &format!("/app/{other_app}/endpoint/main"), None)
        .await;
    assert_eq!(elsewhere.status, 404);
    let deleted = app
        .call("DELETE", &format!("/app/{app_id}/endpoint/main"), None)
        .await;
    assert_eq!(deleted.status, 204);
    app.shutdown().await;
}

#[tokio::test]
async fn a_message_can_create_its_application_inline_and_be_read_back() {
    let app = TestApp::spawn().await;
    let sent = app
        .call(
            "POST",
            "/app/new-customer/msg",
            Some(json!({ "eventType": "user.signup", "eventId": "e1", "payload": {"x": 1}, "application": {"name": "New"} })),
        )
        .await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    assert!(sent.body["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(sent.body["payload"], json!({"x": 1}));
    let by_event_id = app.call("GET", "/app/new-customer/msg/e1", None).await;
    assert_eq!(by_event_id.status, 200, "{}", by_event_id.body);
    assert_eq!(by_event_id.body["id"], sent.body["id"]);
    let health = app.call_raw("GET", "/health", None, None).await;
    assert_eq!(health.status, 204);
    app.shutdown().await;
}
