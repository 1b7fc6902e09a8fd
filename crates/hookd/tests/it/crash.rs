//! Never lose an event: SIGKILL hookd in the middle of a stream; after a restart every message
//! it accepted is delivered.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::process::{Counter, Hookd, create_token};

async fn post(
    http: &reqwest::Client,
    url: String,
    token: &str,
    body: Value,
) -> Result<Value, String> {
    let response = http
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let text = response.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{status}: {text}"));
    }
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_accepted_event_is_delivered_after_a_kill_9_mid_stream() {
    let dir = tempfile::tempdir().unwrap();
    let token = create_token(dir.path());
    let (counter, receiver_url) = Counter::start().await;
    // Four requests in flight at most: with a 10 ms receiver, messages queue up faster than
    // they leave, so the kill finds deliveries queued, claimed and in flight.
    let mut hookd = Hookd::start_with(dir.path(), &[("HOOKD_MAX_IN_FLIGHT_PER_ENDPOINT", "4")]);
    let http = reqwest::Client::new();

    let app = post(
        &http,
        format!("{}/app", hookd.base),
        &token,
        json!({ "name": "crash" }),
    )
    .await
    .unwrap();
    let app_id = app["id"].as_str().unwrap().to_owned();
    post(
        &http,
        format!("{}/app/{app_id}/endpoint", hookd.base),
        &token,
        json!({ "url": receiver_url }),
    )
    .await
    .unwrap();

    // Four senders stream messages; each remembers which ones hookd accepted with a 202.
    let accepted = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut senders = Vec::new();
    for sender in 0..4 {
        let (http, token, accepted) = (http.clone(), token.clone(), accepted.clone());
        let url = format!("{}/app/{app_id}/msg", hookd.base);
        senders.push(tokio::spawn(async move {
            for n in 0.. {
                let body = json!({ "eventType": "tick", "payload": { "sender": sender, "n": n } });
                match post(&http, url.clone(), &token, body).await {
                    Ok(msg) => accepted
                        .lock()
                        .unwrap()
                        .push(msg["id"].as_str().unwrap().to_owned()),
                    Err(_) => return,
                }
            }
        }));
    }
    // Kill once a good stream is flowing: some delivered, more still queued or in flight.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while accepted.lock().unwrap().len() < 400 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "hookd accepted too few messages"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    hookd.kill_9();
    for sender in senders {
        sender.await.unwrap();
    }
    let accepted = accepted.lock().unwrap().clone();
    let delivered_before = counter.seen.lock().unwrap().len();
    assert!(
        delivered_before + 50 < accepted.len(),
        "only {} of {} accepted messages were still pending at the kill: no test",
        accepted.len() - delivered_before,
        accepted.len()
    );

    let _restarted = Hookd::start(dir.path());
    if let Err(missing) = counter
        .wait_for_all(&accepted, Duration::from_secs(30))
        .await
    {
        panic!(
            "{} of {} accepted messages were lost: {:?}",
            missing.len(),
            accepted.len(),
            &missing[..missing.len().min(5)]
        );
    }
    let duplicates: u32 = counter.seen.lock().unwrap().values().map(|n| n - 1).sum();
    println!(
        "accepted {}, delivered before the kill {delivered_before}, duplicates after restart {duplicates}",
        accepted.len()
    );
}
