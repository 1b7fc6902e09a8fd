//! Idempotency keys: a repeated POST gets the first 2xx answer and does not run again, also
//! while the first still runs, on the same node or another; errors are not kept.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{RawQuery, State};
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};

use crate::harness::{Backend, TestApp, each_backend};

/// Sends a POST with an `idempotency-key` and the admin token: (status, replayed?, body).
async fn post(app: &TestApp, path: &str, key: &str, body: Value) -> (u16, bool, Value) {
    post_as(app, &app.token, path, key, body).await
}

async fn post_as(
    app: &TestApp,
    token: &str,
    path: &str,
    key: &str,
    body: Value,
) -> (u16, bool, Value) {
    let response = app
        .http
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("hookd answers");
    let status = response.status().as_u16();
    let replayed = response.headers().contains_key("idempotent-replayed");
    let body = serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null);
    (status, replayed, body)
}

async fn app_count(app: &TestApp) -> usize {
    let listed = app.call("GET", "/app", None).await;
    listed.body["data"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_repeated_post_gets_the_first_answer_back_and_does_not_run_again() {
    each_backend(async |backend| {
        let app = TestApp::on(&backend).await;
        let first = post(&app, "/app", "k1", json!({ "name": "Acme" })).await;
        assert_eq!((first.0, first.1), (201, false), "{}", first.2);
        let again = post(&app, "/app", "k1", json!({ "name": "Acme" })).await;
        assert_eq!(
            again,
            (201, true, first.2.clone()),
            "the same status and body"
        );
        let other = post(&app, "/app", "k1", json!({ "name": "Something else" })).await;
        assert_eq!(other.0, 422, "another request with the key: {}", other.2);
        assert_eq!(other.2["code"], "idempotency_key_reused");
        assert_eq!(app_count(&app).await, 1);

        let other_key = post(&app, "/app", "k2", json!({ "name": "Acme" })).await;
        assert_eq!((other_key.0, other_key.1), (201, false));
        let app_id = first.2["id"].as_str().unwrap();
        let msg = json!({ "eventType": "a", "payload": {} });
        let other_path = post(&app, &format!("/app/{app_id}/msg"), "k1", msg).await;
        assert_eq!(
            (other_path.0, other_path.1),
            (202, false),
            "{}",
            other_path.2
        );
        let portal = json!({});
        let access = post(
            &app,
            &format!("/auth/app-portal-access/{app_id}"),
            "k9",
            portal,
        )
        .await;
        let app_token = access.2["token"].as_str().expect("an app token").to_owned();
        let msg = json!({ "eventType": "a", "payload": {} });
        let by_other = post_as(&app, &app_token, &format!("/app/{app_id}/msg"), "k1", msg).await;
        assert_eq!((by_other.0, by_other.1), (202, false), "keys are per token");
        assert_ne!(by_other.2["id"], other_path.2["id"]);
        assert_eq!(app_count(&app).await, 2);
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn an_error_answer_is_not_kept_so_the_same_key_runs_again() {
    let app = TestApp::spawn().await;
    let refused = post(&app, "/app", "k1", json!({ "name": "" })).await;
    assert_eq!(refused.0, 422);
    let accepted = post(&app, "/app", "k1", json!({ "name": "Acme" })).await;
    assert_eq!((accepted.0, accepted.1), (201, false), "{}", accepted.2);
    let replayed = post(&app, "/app", "k1", json!({ "name": "Acme" })).await;
    assert_eq!((replayed.0, replayed.1), (201, true));
    // The key now stands for the request that succeeded, not the one that failed.
    let first = post(&app, "/app", "k1", json!({ "name": "" })).await;
    assert_eq!(first.0, 422);
    assert_eq!(first.2["code"], "idempotency_key_reused");
    app.shutdown().await;
}

/// A receiver whose challenge answer waits for `open`; it counts the challenges it got and
/// says when each arrives.
#[derive(Clone)]
struct Gate {
    open: Arc<Notify>,
    challenges: Arc<AtomicUsize>,
    arrived: mpsc::UnboundedSender<()>,
}

async fn gated_receiver() -> (String, Gate, mpsc::UnboundedReceiver<()>) {
    let (arrived, arrivals) = mpsc::unbounded_channel();
    let gate = Gate {
        open: Arc::new(Notify::new()),
        challenges: Arc::new(AtomicUsize::new(0)),
        arrived,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let router = Router::new()
        .fallback(answer_when_open)
        .with_state(gate.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, gate, arrivals)
}

async fn answer_when_open(State(gate): State<Gate>, RawQuery(query): RawQuery) -> String {
    gate.challenges.fetch_add(1, Ordering::SeqCst);
    let _ = gate.arrived.send(());
    gate.open.notified().await;
    query
        .as_deref()
        .and_then(hookd_receiver::challenge_from_query)
        .unwrap_or_default()
}

#[tokio::test]
async fn a_repeat_while_the_first_runs_waits_for_it_on_this_node_or_another() {
    each_backend(async |backend| {
        let first_node = TestApp::on(&backend).await;
        let second_node = match backend {
            Backend::Postgres(_) => Some(TestApp::on(&backend).await),
            Backend::Sqlite => None,
        };
        let app_id = first_node.create_app("shop").await;
        let (url, gate, mut arrivals) = gated_receiver().await;
        let path = format!("/app/{app_id}/endpoint");
        let body = json!({ "url": url });

        let first = tokio::spawn({
            let (base, token, http) = (
                first_node.base.clone(),
                first_node.token.clone(),
                first_node.http.clone(),
            );
            let (path, body) = (path.clone(), body.clone());
            async move { raw_post(&http, &base, &token, &path, "k1", body).await }
        });
        arrivals
            .recv()
            .await
            .expect("the first request runs the challenge");
        let repeat_on = second_node.as_ref().unwrap_or(&first_node);
        let mut second = tokio::spawn({
            let (base, http) = (repeat_on.base.clone(), repeat_on.http.clone());
            let token = first_node.token.clone();
            async move { raw_post(&http, &base, &token, &path, "k1", body).await }
        });
        let waited = tokio::time::timeout(Duration::from_millis(300), &mut second).await;
        assert!(waited.is_err(), "the repeat waits while the first runs");
        gate.open.notify_waiters();
        gate.open.notify_one();

        let first = first.await.unwrap();
        let second = second.await.unwrap();
        assert_eq!(first.0, 201, "{}", first.2);
        assert_eq!((second.0, second.1, &second.2), (201, true, &first.2));
        assert_eq!(gate.challenges.load(Ordering::SeqCst), 1, "run once");
        let listed = first_node
            .call("GET", &format!("/app/{app_id}/endpoint"), None)
            .await;
        assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);
        if let Some(node) = second_node {
            node.shutdown().await;
        }
        first_node.shutdown().await;
    })
    .await;
}

async fn raw_post(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    path: &str,
    key: &str,
    body: Value,
) -> (u16, bool, Value) {
    let response = http
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("hookd answers");
    let status = response.status().as_u16();
    let replayed = response.headers().contains_key("idempotent-replayed");
    let body = serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null);
    (status, replayed, body)
}

#[tokio::test]
async fn a_post_without_a_key_or_another_method_is_not_deduplicated() {
    let app = TestApp::spawn().await;
    for _ in 0..2 {
        assert_eq!(
            app.call("POST", "/app", Some(json!({ "name": "Acme" })))
                .await
                .status,
            201
        );
    }
    assert_eq!(app_count(&app).await, 2);
    app.shutdown().await;
}

/// `POST .../msg` answers its key in the message's own transaction: a repeat gets the first
/// answer (and no second message), another request with the key is refused and stores nothing.
#[tokio::test]
async fn a_keyed_message_is_stored_once_and_its_key_bound_to_its_body() {
    each_backend(async |backend| {
        let app = TestApp::on(&backend).await;
        let created = post(&app, "/app", "app-key", json!({ "name": "Acme" })).await;
        let path = format!("/app/{}/msg", created.2["id"].as_str().unwrap());
        let msg = json!({ "eventType": "invoice.paid", "payload": { "n": 1 } });
        let first = post(&app, &path, "m1", msg.clone()).await;
        assert_eq!((first.0, first.1), (202, false), "{}", first.2);
        let again = post(&app, &path, "m1", msg).await;
        assert_eq!(
            again,
            (202, true, first.2.clone()),
            "the first answer, replayed"
        );
        let other = json!({ "eventType": "invoice.paid", "payload": { "n": 2 } });
        let refused = post(&app, &path, "m1", other).await;
        assert_eq!(refused.0, 422, "{}", refused.2);
        assert_eq!(refused.2["code"], "idempotency_key_reused");
        let listed = app.call("GET", &path, None).await;
        let ids: Vec<&Value> = listed.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| &m["id"])
            .collect();
        assert_eq!(ids, [&first.2["id"]], "one message stored");
    })
    .await;
}
