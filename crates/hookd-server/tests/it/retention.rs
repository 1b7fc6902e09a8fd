//! Retention: the sweep removes payloads past their message's retention period (reads then
//! show `{"expired": true}`) and idempotency keys past their 12 hours, at start and on demand.

use std::collections::BTreeMap;
use std::time::Duration;

use hookd_core::{AppId, Application, Message, MessageId, Timestamp};
use hookd_server::sweep::{Swept, sweep_once};
use hookd_server::{Config, Server, clock, token};
use hookd_store::{NewMessage, TokenScope};
use serde_json::{Value, json};

use crate::harness::{TestApp, each_backend, test_config};

const DAY: Duration = Duration::from_secs(86_400);

/// One sweep as of `now`, once the server's own sweep (at its start) lets go of the lock.
async fn sweep_at(store: &dyn hookd_store::Store, now: Timestamp) -> Swept {
    loop {
        if let Some(swept) = sweep_once(store, now).await.unwrap() {
            return swept;
        }
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn a_payload_past_its_retention_reads_as_expired_after_the_sweep() {
    each_backend(async |backend| {
        let app = TestApp::on(&backend).await;
        let app_id = app.create_app("shop").await;
        let short = json!({ "eventType": "a", "payload": {"n": 1}, "payloadRetentionPeriod": 5 });
        let short = app.send_message(&app_id, short).await;
        let long = app
            .send_message(&app_id, json!({ "eventType": "a", "payload": {"n": 2} }))
            .await;

        let now = clock::now();
        let early = sweep_at(app.store.as_ref(), now.saturating_add(4 * DAY)).await;
        assert_eq!(early, Swept::default());
        let swept = sweep_at(app.store.as_ref(), now.saturating_add(6 * DAY)).await;
        assert_eq!(swept.payloads, 1);

        let expired = app
            .call("GET", &format!("/app/{app_id}/msg/{short}"), None)
            .await;
        assert_eq!(expired.status, 200, "the message stays: {}", expired.body);
        assert_eq!(expired.body["payload"], json!({"expired": true}));
        let kept = app
            .call("GET", &format!("/app/{app_id}/msg/{long}"), None)
            .await;
        assert_eq!(kept.body["payload"], json!({"n": 2}));
        let listed = app.call("GET", &format!("/app/{app_id}/msg"), None).await;
        let payloads: Vec<&Value> = listed.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| &m["payload"])
            .collect();
        assert_eq!(payloads, [&json!({"n": 2}), &json!({"expired": true})]);
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn an_idempotency_key_is_replayed_for_12_hours_and_forgotten_after_the_sweep() {
    let app = TestApp::spawn().await;
    let post = async |key: &str| {
        let response = app
            .http
            .post(format!("{}/app", app.base))
            .bearer_auth(&app.token)
            .header("idempotency-key", key)
            .header("content-type", "application/json")
            .body(json!({ "name": "Acme" }).to_string())
            .send()
            .await
            .unwrap();
        let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        body["id"].clone()
    };
    let first = post("k1").await;
    let now = clock::now();
    let early = sweep_at(app.store.as_ref(), now.saturating_add(11 * DAY / 24)).await;
    assert_eq!(early.keys, 0);
    assert_eq!(post("k1").await, first, "still replayed");
    let swept = sweep_at(app.store.as_ref(), now.saturating_add(DAY)).await;
    assert_eq!(swept.keys, 1);
    assert_ne!(post("k1").await, first, "the key is free again");
    app.shutdown().await;
}

#[tokio::test]
async fn the_sweep_runs_when_the_server_starts() {
    let dir = tempfile::tempdir().unwrap();
    let raw = hookd_server::config::RawConfig {
        data_dir: dir.path().to_owned(),
        ..test_config()
    };
    let config: Config = raw.validate().unwrap();
    let sealer = hookd_server::secret_key::sealer(&config).unwrap();
    let store = config.database.open(sealer).await.unwrap();
    let now = clock::now();
    let app = Application {
        id: AppId::from_raw(1 << 100),
        uid: None,
        name: "old".into(),
        rate_limit: None,
        metadata: BTreeMap::new(),
        created_at: now,
        updated_at: now,
    };
    store.insert_application(&app).await.unwrap();
    let message = Message {
        id: MessageId::from_raw(1 << 100),
        app_id: app.id.clone(),
        event_type: "a".into(),
        event_id: None,
        channels: None,
        payload: Some("{}".into()),
        retention_days: 5,
        created_at: Timestamp(now.0 - 6 * 86_400_000),
    };
    store
        .insert_messages(&[NewMessage::new(message.clone())])
        .await
        .unwrap();
    let token = token::create(store.as_ref(), TokenScope::Admin, now)
        .await
        .unwrap();
    let server = Server::build(config, store).await.unwrap();
    let url = format!(
        "http://{}/api/v1/app/{}/msg/{}",
        server.local_addr(),
        app.id,
        message.id
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let got = http.get(&url).bearer_auth(&token).send().await.unwrap();
        let got: Value = serde_json::from_str(&got.text().await.unwrap()).unwrap();
        if got["payload"] == json!({"expired": true}) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not swept at start: {got}"
        );
        tokio::task::yield_now().await;
    }
    let _ = stop.send(());
    running.await.unwrap().unwrap();
}
