//! What an operator reads in the logs: at `info` the start-up line with the allowed networks,
//! each failed attempt and each endpoint that stops or starts answering; at `debug` one line per
//! request, and still no SQL unless asked for.

use std::time::Duration;

use serde_json::{Value, json};

use crate::process::{Hookd, create_token};

const WAIT: Duration = Duration::from_secs(30);

async fn post(hookd: &Hookd, token: &str, path: &str, body: Value) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", hookd.base))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
}

/// A loopback URL where nothing listens: every attempt is refused.
fn refusing_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}/hook", listener.local_addr().unwrap())
}

fn wait_for(hookd: &Hookd, needle: &str) -> String {
    tokio::task::block_in_place(|| hookd.log.wait_for(needle, WAIT))
        .unwrap_or_else(|all| panic!("no line with {needle:?}:\n{all}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_attempts_and_an_endpoint_that_stops_answering_are_logged_at_info() {
    let dir = tempfile::tempdir().unwrap();
    let token = create_token(dir.path());
    let env = [
        ("HOOKD_ENDPOINT_VERIFICATION", "off"),
        ("HOOKD_UNREACHABLE_AFTER", "2"),
    ];
    let hookd = Hookd::start_with(dir.path(), &env);
    let start = wait_for(&hookd, "listening on");
    assert!(start.contains("allowed_networks=127.0.0.0/8"), "{start}");

    post(
        &hookd,
        &token,
        "/app",
        json!({"name": "Acme", "uid": "acme"}),
    )
    .await;
    let endpoint = json!({"url": refusing_url(), "uid": "down"});
    post(&hookd, &token, "/app/acme/endpoint", endpoint).await;
    for n in 0..2 {
        let message = json!({"eventType": "invoice.paid", "payload": {"n": n}});
        post(&hookd, &token, "/app/acme/msg", message).await;
    }

    let failed = wait_for(&hookd, "delivery attempt failed");
    assert!(failed.contains("INFO"), "{failed}");
    for part in [
        "endpoint=ep_",
        "msg=msg_",
        "attempt=1",
        "reason=\"connect\"",
        "retry in",
    ] {
        assert!(failed.contains(part), "{part:?} missing: {failed}");
    }
    let held = wait_for(&hookd, "endpoint does not answer");
    assert!(held.contains("endpoint=ep_"), "{held}");

    let log = hookd.log.text();
    assert!(
        !log.contains("sqlx") && !log.contains("hookd_store::sql"),
        "no SQL at info:\n{log}"
    );
    assert!(!log.contains(&token), "the token never reaches a log line");
}

#[tokio::test(flavor = "multi_thread")]
async fn debug_logs_each_request_but_no_sql_unless_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let token = create_token(dir.path());
    let hookd = Hookd::start_with(dir.path(), &[("HOOKD_LOG", "debug")]);
    post(&hookd, &token, "/app", json!({"name": "Acme"})).await;

    let request = wait_for(&hookd, "request method=POST");
    assert!(
        request.contains("path=\"/api/v1/app\"") && request.contains("status=201"),
        "{request}"
    );
    let log = hookd.log.text();
    assert!(
        !log.contains("hookd_store::sql"),
        "no statements at debug:\n{log}"
    );
    assert!(!log.contains(&token), "the token never reaches a log line");
    drop(hookd);

    let asked = Hookd::start_with(dir.path(), &[("HOOKD_LOG", "info,hookd_store::sql=debug")]);
    post(&asked, &token, "/app", json!({"name": "Acme 2"})).await;
    let statement = wait_for(&asked, "INSERT INTO applications");
    assert!(statement.contains("hookd_store::sql"), "{statement}");
}
