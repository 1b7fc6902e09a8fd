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
    // One request in flight at a time to a 10 ms receiver: at most 100 deliveries a second,
    // fewer than four senders put in, so the kill finds deliveries queued, claimed and in flight.
    let mut hookd = Hookd::start_with(dir.path(), &[("HOOKD_MAX_IN_FLIGHT_PER_ENDPOINT", "1")]);
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
    // Kill once a good stream is flowing: some delivered, a backlog still queued or in flight.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let backlog = || {
        accepted
            .lock()
            .unwrap()
            .len()
            .saturating_sub(counter.seen.lock().unwrap().len())
    };
    while accepted.lock().unwrap().len() < 300 || backlog() < 100 {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_hookd_cleanly_and_what_it_gave_back_is_delivered_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let token = create_token(dir.path());
    let (counter, receiver_url) = Counter::start().await;
    let mut hookd = Hookd::start_with(dir.path(), &[("HOOKD_MAX_IN_FLIGHT_PER_ENDPOINT", "2")]);
    let http = reqwest::Client::new();
    let app = post(
        &http,
        format!("{}/app", hookd.base),
        &token,
        json!({ "name": "term" }),
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
    let mut accepted = Vec::new();
    for n in 0..200 {
        let body = json!({ "eventType": "tick", "payload": { "n": n } });
        let msg = post(
            &http,
            format!("{}/app/{app_id}/msg", hookd.base),
            &token,
            body,
        )
        .await
        .unwrap();
        accepted.push(msg["id"].as_str().unwrap().to_owned());
    }

    let pid = hookd.child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = tokio::task::spawn_blocking(move || {
        let status = hookd.child.wait();
        (hookd, status)
    });
    let (_stopped, status) = tokio::time::timeout(Duration::from_secs(10), status)
        .await
        .expect("hookd stops within 10 s of SIGTERM")
        .unwrap();
    assert!(status.unwrap().success(), "a graceful stop exits 0");

    let _restarted = Hookd::start(dir.path());
    if let Err(missing) = counter
        .wait_for_all(&accepted, Duration::from_secs(30))
        .await
    {
        panic!(
            "{} accepted messages were lost across SIGTERM",
            missing.len()
        );
    }
    let duplicates: u32 = counter.seen.lock().unwrap().values().map(|n| n - 1).sum();
    assert_eq!(
        duplicates, 0,
        "a graceful stop finishes what is in flight: nothing is sent twice"
    );
}
