//! Client: the load generator. It POSTs numbered, time-stamped payloads either to hookd's
//! message API or, for the loopback ceiling, straight to the receiver, signed as hookd would
//! sign them; the same code and the same concurrency either way.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hookd_receiver::Secret;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::payload::{self, Clock, Stamp};
use crate::tally::Bitmap;

/// Where the client sends its events.
#[derive(Clone)]
pub enum Sink {
    /// `POST {base}/app/{app}/msg`, answered 202 once stored. With several nodes, event `seq`
    /// goes to `msg_urls[seq % len]`: round-robin per request, as a load balancer would.
    /// Never empty.
    Hookd {
        msg_urls: Vec<String>,
        token: String,
    },
    /// Straight to a receiver, signed with `secret`: the loopback ceiling.
    Direct { url: String, secret: Secret },
}

/// Which events were accepted (202 from hookd, 2xx from a receiver) and how many failed.
pub struct Sent {
    pub accepted: Bitmap,
    accepted_count: AtomicU64,
    errors: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Sent {
    pub fn new(events: usize) -> Sent {
        Sent {
            accepted: Bitmap::new(events),
            accepted_count: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            first_error: Mutex::new(None),
        }
    }

    pub fn accepted(&self) -> u64 {
        self.accepted_count.load(Ordering::Relaxed)
    }

    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    pub fn first_error(&self) -> Option<String> {
        self.first_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn failed(&self, why: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_error.lock().unwrap_or_else(|e| e.into_inner());
        first.get_or_insert(why);
    }
}

pub struct Client {
    http: reqwest::Client,
    sink: Sink,
    clock: Clock,
    payload_bytes: usize,
}

impl Client {
    pub fn new(sink: Sink, clock: Clock, payload_bytes: usize) -> Arc<Client> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("a plain HTTP client builds");
        Arc::new(Client {
            http,
            sink,
            clock,
            payload_bytes,
        })
    }

    /// Sends events 0..`events` as fast as `concurrency` requests in flight allow; returns how
    /// long it took.
    pub async fn send_all(
        self: &Arc<Self>,
        events: usize,
        concurrency: usize,
        sent: &Arc<Sent>,
    ) -> Duration {
        let started = Instant::now();
        let next = Arc::new(AtomicUsize::new(0));
        let mut workers = JoinSet::new();
        for _ in 0..concurrency.max(1) {
            let (client, next, sent) = (self.clone(), next.clone(), sent.clone());
            workers.spawn(async move {
                loop {
                    let seq = next.fetch_add(1, Ordering::Relaxed);
                    if seq >= events {
                        break;
                    }
                    let sent_us = client.clock.now_us();
                    client.send(seq, sent_us, &sent).await;
                }
            });
        }
        while workers.join_next().await.is_some() {}
        started.elapsed()
    }

    /// Sends events 0..`events` at `rate` per second from `start` (now, or ahead), each stamped
    /// with the time it was due (so a client that falls behind shows up as latency, not as a
    /// lower rate). tokio's timer wakes on whole milliseconds, so each send leaves up to 1 ms
    /// after its time, by the same amount for every event when the interval is a whole number
    /// of milliseconds.
    pub async fn send_at_rate(
        self: &Arc<Self>,
        events: usize,
        rate: f64,
        sent: &Arc<Sent>,
        start: Instant,
    ) -> Duration {
        let start_us = self.clock.us_at(start);
        let outstanding = Arc::new(Semaphore::new(4096));
        let mut requests = JoinSet::new();
        for seq in 0..events {
            let due_us = start_us + (seq as f64 * 1_000_000.0 / rate) as u64;
            tokio::time::sleep_until(self.clock.instant_at(due_us).into()).await;
            let permit = outstanding
                .clone()
                .acquire_owned()
                .await
                .expect("never closed");
            let (client, sent) = (self.clone(), sent.clone());
            requests.spawn(async move {
                client.send(seq, due_us, &sent).await;
                drop(permit);
            });
            while requests.try_join_next().is_some() {}
        }
        while requests.join_next().await.is_some() {}
        start.elapsed()
    }

    async fn send(&self, seq: usize, sent_us: u64, sent: &Sent) {
        let stamp = Stamp {
            seq: seq as u64,
            sent_us,
        };
        let body = payload::build(stamp, self.payload_bytes);
        let request = match &self.sink {
            Sink::Hookd { msg_urls, token } => self
                .http
                .post(&msg_urls[seq % msg_urls.len()])
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(format!(
                    "{{\"eventType\":\"bench.event\",\"payload\":{body}}}"
                )),
            Sink::Direct { url, secret } => {
                let id = format!("bench_{seq}");
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let now = i64::try_from(now).unwrap_or(i64::MAX);
                let signature = hookd_receiver::sign(secret, &id, now, body.as_bytes());
                self.http
                    .post(url)
                    .header("content-type", "application/json")
                    .header("webhook-id", id)
                    .header("webhook-timestamp", now.to_string())
                    .header("webhook-signature", signature)
                    .body(body)
            }
        };
        match request.send().await {
            Ok(response) => {
                let status = response.status();
                // Read the body so the connection goes back to the pool.
                let text = response.text().await.unwrap_or_default();
                if status.is_success() {
                    sent.accepted.set(seq);
                    sent.accepted_count.fetch_add(1, Ordering::Relaxed);
                } else {
                    sent.failed(format!("status {status}: {text}"));
                }
            }
            Err(e) => sent.failed(format!("{e}")),
        }
    }
}
