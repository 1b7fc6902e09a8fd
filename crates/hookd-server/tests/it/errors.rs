//! Bad input: each gets its status and the Svix error body, and changes nothing.

use serde_json::json;

use crate::harness::{TestApp, each_backend};

#[tokio::test]
async fn a_missing_or_wrong_token_is_401_with_the_error_body() {
    each_backend(async |backend| {
        let app = TestApp::on(&backend).await;
        let missing = app.call_raw("GET", "/app", None, None).await;
        assert_eq!(missing.status, 401);
        assert_eq!(missing.body["code"], "authentication_failed");
        assert!(missing.body["detail"].is_string());
        let wrong = app
            .call_raw("GET", "/app", None, Some("hk_admin_nope"))
            .await;
        assert_eq!(wrong.status, 401);
        assert_eq!(wrong.body["code"], "authentication_failed");
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn unknown_resources_are_404() {
    each_backend(async |backend| {
        let app = TestApp::on(&backend).await;
        for path in [
            "/app/app_missing",
            "/app/nope/endpoint",
            "/app/nope/msg/msg_x",
            "/nothing-here",
        ] {
            let missing = app.call("GET", path, None).await;
            assert_eq!(missing.status, 404, "{path}: {}", missing.body);
            assert_eq!(missing.body["code"], "not_found", "{path}");
        }
        let app_id = app.create_app("shop").await;
        for path in [
            format!("/app/{app_id}/endpoint/ep_missing"),
            format!("/app/{app_id}/msg/msg_missing"),
            format!("/app/{app_id}/attempt/endpoint/ep_missing"),
        ] {
            let missing = app.call("GET", &path, None).await;
            assert_eq!(missing.status, 404, "{path}: {}", missing.body);
        }
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn malformed_bodies_are_422_and_store_nothing() {
    each_backend(async |backend| {
        let app = TestApp::on(&backend).await;
        let app_id = app.create_app("shop").await;
        let msg_path = format!("/app/{app_id}/msg");
        for (body, field) in [
            ("{not json", None),
            (r#"{"eventType": "a", "payload": [1, 2]}"#, Some("payload")),
            (r#"{"eventType": "a", "payload": "text"}"#, Some("payload")),
            (r#"{"payload": {}}"#, None),
            (
                r#"{"eventType": "bad type!", "payload": {}}"#,
                Some("eventType"),
            ),
            (
                r#"{"eventType": "a", "payload": {}, "channels": []}"#,
                Some("channels"),
            ),
        ] {
            let refused = app
                .call_raw("POST", &msg_path, Some(body.into()), Some(&app.token))
                .await;
            assert_eq!(refused.status, 422, "{body}: {}", refused.body);
            let items = refused.body["detail"]
                .as_array()
                .expect("a validation list");
            assert!(!items.is_empty());
            assert!(items[0]["msg"].is_string() && items[0]["type"].is_string());
            if let Some(field) = field {
                assert_eq!(items[0]["loc"][1], field, "{body}: {}", refused.body);
            }
        }
        let listed = app.call("GET", &msg_path, None).await;
        assert_eq!(listed.body["data"], json!([]));
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    each_backend(async |backend| {
        let app = TestApp::spawn_on(
            &backend,
            hookd_server::config::RawConfig {
                max_payload_bytes: 1024,
                ..crate::harness::test_config()
            },
        )
        .await;
        let app_id = app.create_app("shop").await;
        let big = json!({ "eventType": "a", "payload": { "blob": "x".repeat(2000) } });
        let refused = app
            .call("POST", &format!("/app/{app_id}/msg"), Some(big))
            .await;
        assert_eq!(refused.status, 413, "{}", refused.body);
        assert_eq!(refused.body["code"], "payload_too_large");
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn bad_endpoint_urls_uids_and_limits_are_422() {
    each_backend(async |backend| {
        let app = TestApp::on(&backend).await;
        let app_id = app.create_app("shop").await;
        for url in [
            "not a url",
            "ftp://example.com/",
            "file:///etc/passwd",
            "http://",
        ] {
            let refused = app
                .call(
                    "POST",
                    &format!("/app/{app_id}/endpoint"),
                    Some(json!({ "url": url })),
                )
                .await;
            assert_eq!(refused.status, 422, "{url}: {}", refused.body);
            assert_eq!(
                refused.body["detail"][0]["loc"],
                json!(["body", "url"]),
                "{url}"
            );
        }
        let bad_uid = app
            .call(
                "POST",
                "/app",
                Some(json!({ "name": "x", "uid": "has space" })),
            )
            .await;
        assert_eq!(bad_uid.status, 422, "{}", bad_uid.body);
        let over = app.call("GET", "/app?limit=251", None).await;
        assert_eq!(over.status, 422, "{}", over.body);
        assert_eq!(over.body["detail"][0]["loc"], json!(["query", "limit"]));
        let nan = app.call("GET", "/app?limit=abc", None).await;
        assert_eq!(nan.status, 422);
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_repeated_event_id_is_409_and_not_delivered_twice() {
    each_backend(async |backend| {
        let app = TestApp::on(&backend).await;
        let app_id = app.create_app("shop").await;
        let body = json!({ "eventType": "a", "payload": {}, "eventId": "evt-1" });
        app.send_message(&app_id, body.clone()).await;
        let again = app
            .call("POST", &format!("/app/{app_id}/msg"), Some(body))
            .await;
        assert_eq!(again.status, 409, "{}", again.body);
        assert_eq!(again.body["code"], "conflict");
        let listed = app.call("GET", &format!("/app/{app_id}/msg"), None).await;
        assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_taken_uid_is_409() {
    each_backend(async |backend| {
        let app = TestApp::on(&backend).await;
        let first = app
            .call("POST", "/app", Some(json!({ "name": "a", "uid": "acme" })))
            .await;
        assert_eq!(first.status, 201);
        let second = app
            .call("POST", "/app", Some(json!({ "name": "b", "uid": "acme" })))
            .await;
        assert_eq!(second.status, 409, "{}", second.body);
        let existing = app
            .call(
                "POST",
                "/app?get_if_exists=true",
                Some(json!({ "name": "b", "uid": "acme" })),
            )
            .await;
        assert_eq!(existing.status, 200, "{}", existing.body);
        assert_eq!(existing.body["id"], first.body["id"]);
        app.shutdown().await;
    })
    .await;
}
