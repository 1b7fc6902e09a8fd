//! The SSRF guard at delivery time: forbidden addresses are never called, however spelled.

use std::time::Duration;

use hookd_server::EndpointVerification;
use hookd_server::config::RawConfig;
use serde_json::json;

use crate::harness::{TestApp, test_config};
use crate::receiver::Receiver;

/// A server with no allow-list and no challenge, so endpoints at forbidden addresses can be
/// stored, and only the delivery-time guard stands between hookd and them.
async fn guarded_app() -> TestApp {
    TestApp::spawn_with(RawConfig {
        allowed_networks: vec![],
        endpoint_verification: EndpointVerification::Off,
        retry_schedule: vec!["0s".into()],
        ..test_config()
    })
    .await
}

#[tokio::test]
async fn deliveries_to_loopback_in_any_spelling_are_blocked_and_logged() {
    let app = guarded_app().await;
    let mut receiver = Receiver::start().await;
    let port = receiver.port;
    let app_id = app.create_app("shop").await;
    let urls = [
        format!("http://127.0.0.1:{port}/hook"),
        format!("http://2130706433:{port}/hook"),
        format!("http://0x7f.1:{port}/hook"),
        format!("http://localhost:{port}/hook"),
        format!("http://[::1]:{port}/hook"),
        format!("http://[::ffff:127.0.0.1]:{port}/hook"),
    ];
    let mut endpoints = Vec::new();
    for url in &urls {
        endpoints.push(app.create_endpoint(&app_id, json!({ "url": url })).await.0);
    }
    app.send_message(&app_id, json!({ "eventType": "a", "payload": {} }))
        .await;
    for (ep, url) in endpoints.iter().zip(&urls) {
        let attempts = app
            .wait_for_list(&format!("/app/{app_id}/attempt/endpoint/{ep}"), |items| {
                items.len() == 1
            })
            .await;
        assert_eq!(attempts[0]["status"], 2, "{url}");
        assert_eq!(attempts[0]["responseStatusCode"], 0, "{url}");
        let why = attempts[0]["response"].as_str().unwrap();
        assert!(why.contains("not allowed"), "{url}: {why}");
    }
    assert!(
        receiver.stays_quiet(Duration::from_millis(200)).await,
        "a blocked address was called"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn metadata_and_private_addresses_are_blocked() {
    let app = guarded_app().await;
    let app_id = app.create_app("shop").await;
    let urls = [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/",
        "http://[fd00:ec2::254]/",
    ];
    let mut endpoints = Vec::new();
    for url in urls {
        endpoints.push(app.create_endpoint(&app_id, json!({ "url": url })).await.0);
    }
    app.send_message(&app_id, json!({ "eventType": "a", "payload": {} }))
        .await;
    for (ep, url) in endpoints.iter().zip(urls) {
        let attempts = app
            .wait_for_list(&format!("/app/{app_id}/attempt/endpoint/{ep}"), |items| {
                items.len() == 1
            })
            .await;
        let why = attempts[0]["response"].as_str().unwrap();
        assert!(why.contains("not allowed"), "{url}: {why}");
    }
    app.shutdown().await;
}
