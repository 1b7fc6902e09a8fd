//! A real HTTP receiver on loopback for tests: answers challenges as told, records every
//! request, and answers deliveries from a script.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;

/// How the receiver answers hookd's challenge GET.
#[derive(Clone, Debug)]
pub enum ChallengeReply {
    Echo,
    EchoJson,
    Status(u16),
    Body(&'static str),
    Redirect,
    Hang,
}

/// How the receiver answers one delivery.
#[derive(Clone, Debug)]
pub enum Reply {
    Status(u16),
    WithRetryAfter(u16, &'static str),
    WithBody(u16, &'static str),
    Hang,
}

#[derive(Clone, Debug)]
pub struct Received {
    pub method: Method,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Clone)]
struct Shared {
    challenge: ChallengeReply,
    script: Arc<Mutex<VecDeque<Reply>>>,
    seen: mpsc::UnboundedSender<Received>,
}

pub struct Receiver {
    pub url: String,
    pub port: u16,
    script: Arc<Mutex<VecDeque<Reply>>>,
    seen: mpsc::UnboundedReceiver<Received>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        Receiver::start_with(ChallengeReply::Echo).await
    }

    pub async fn start_with(challenge: ChallengeReply) -> Receiver {
        Receiver::start_at(0, challenge).await
    }

    /// Starts on `port` of loopback (0: any free one).
    pub async fn start_at(port: u16, challenge: ChallengeReply) -> Receiver {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind receiver");
        let port = listener.local_addr().expect("addr").port();
        let (seen_tx, seen) = mpsc::unbounded_channel();
        let script = Arc::new(Mutex::new(VecDeque::new()));
        let shared = Shared {
            challenge,
            script: script.clone(),
            seen: seen_tx,
        };
        let app = Router::new().fallback(handle).with_state(shared);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            port,
            script,
            seen,
        }
    }

    /// Queues answers for the next deliveries; after the script runs out, 200.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.script.lock().unwrap().extend(replies);
    }

    /// The next request that reached this receiver; fails the test after 10 s.
    pub async fn next(&mut self) -> Received {
        tokio::time::timeout(Duration::from_secs(10), self.seen.recv())
            .await
            .expect("a request within 10 s")
            .expect("receiver running")
    }

    /// The next POST (skipping challenge GETs).
    pub async fn next_delivery(&mut self) -> Received {
        loop {
            let received = self.next().await;
            if received.method == Method::POST {
                return received;
            }
        }
    }

    /// True if no request has reached this receiver yet (the ones `next` took aside). Whatever
    /// a request to hookd made on its way (a challenge) has arrived by the time it answers.
    pub fn has_seen_nothing(&mut self) -> bool {
        self.seen.try_recv().is_err()
    }

    /// True if no request arrives within `quiet`: used only to show something did NOT happen.
    pub async fn stays_quiet(&mut self, quiet: Duration) -> bool {
        tokio::time::timeout(quiet, self.seen.recv()).await.is_err()
    }
}

async fn handle(
    State(shared): State<Shared>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let received = Received {
        method: method.clone(),
        query: query.clone(),
        headers,
        body,
        at: Instant::now(),
    };
    let _ = shared.seen.send(received);
    if method == Method::GET {
        let token = query
            .as_deref()
            .and_then(hookd_receiver::challenge_from_query)
            .unwrap_or_default();
        return match shared.challenge {
            ChallengeReply::Echo => hookd_receiver::answer_challenge(&token).into_response(),
            ChallengeReply::EchoJson => format!("{{\"challenge\": \"{token}\"}}").into_response(),
            ChallengeReply::Status(code) => status(code).into_response(),
            ChallengeReply::Body(text) => text.into_response(),
            ChallengeReply::Redirect => (
                StatusCode::FOUND,
                [("location", "http://127.0.0.1:1/elsewhere")],
            )
                .into_response(),
            ChallengeReply::Hang => std::future::pending().await,
        };
    }
    let reply = shared
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(Reply::Status(200));
    match reply {
        Reply::Status(code) => status(code).into_response(),
        Reply::WithRetryAfter(code, after) => {
            (status(code), [("retry-after", after)]).into_response()
        }
        Reply::WithBody(code, body) => (status(code), body).into_response(),
        Reply::Hang => std::future::pending().await,
    }
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).expect("valid status")
}
