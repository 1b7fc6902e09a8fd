//! `hookd prune`: an operator deletes old messages and attempts from the command line.

use serde_json::{Value, json};

use crate::process::{Hookd, create_token, hookd};

async fn call(
    base: &str,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub fn prune(dir: &std::path::Path, older_than: &str) -> String {
    let out = hookd()
        .args(["prune", "--older-than", older_than, "--data-dir"])
        .arg(dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "hookd prune --older-than {older_than}: {stderr}"
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn prune_deletes_the_messages_older_than_the_age_it_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let token = create_token(dir.path());
    let server = Hookd::start(dir.path());
    let post = reqwest::Method::POST;
    let (status, _) = call(
        &server.base,
        &token,
        post.clone(),
        "/app",
        Some(json!({ "name": "Shop", "uid": "shop" })),
    )
    .await;
    assert_eq!(status, 201);
    let body = json!({ "eventType": "a", "payload": {} });
    let (status, msg) = call(&server.base, &token, post, "/app/shop/msg", Some(body)).await;
    assert_eq!(status, 202, "{msg}");
    let msg_path = format!("/app/shop/msg/{}", msg["id"].as_str().unwrap());

    let kept = prune(dir.path(), "30d");
    assert!(
        kept.starts_with("Deleted 0 messages, 0 attempts and 0 delivery rows older than 30days"),
        "{kept}"
    );
    let (status, _) = call(&server.base, &token, reqwest::Method::GET, &msg_path, None).await;
    assert_eq!(status, 200);

    let pruned = prune(dir.path(), "1ms");
    assert!(
        pruned.starts_with("Deleted 1 messages, 0 attempts"),
        "{pruned}"
    );
    let (status, _) = call(&server.base, &token, reqwest::Method::GET, &msg_path, None).await;
    assert_eq!(status, 404, "gone, while the server runs on");

    let out = hookd()
        .args(["prune", "--older-than", "soon"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("older-than"));
}
