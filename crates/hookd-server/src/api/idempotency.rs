//! Idempotency: a POST sent again with the same `idempotency-key` (same token, same method and
//! path) gets the first one's 2xx response back, status and body, for 12 hours; it does not run
//! twice. SDKs send a key with every POST and reuse it on their own retries.
//!
//! The keys live in the store, so this holds across nodes. A key is bound to its request: a
//! digest of the method, path and body is stored with it, and a repeat with another request is
//! refused (422 `idempotency_key_reused`, as Stripe does). A request that finds its key held by
//! one still running waits for it (polling the store, for at most `WAIT_LIMIT`), then replays
//! what it answered. Only 2xx answers are kept: after an error, the same key runs the request
//! again. The request runs in a task of its own, so a client that hangs up cannot leave its key
//! held: the answer is stored either way.
//!
//! `POST .../msg`, the one POST on the hot path, is not claimed here: the key goes with the
//! message (`IntakeKey`) and the commit loop answers it in the message's own transaction.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hookd_core::Timestamp;
use hookd_store::{IdempotencyClaim, IdempotencyKey, KeyedIntake, StoredResponse};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use crate::api::{ApiError, Caller};
use crate::error_chain::error_chain;
use crate::state::AppState;

const HEADER: &str = "idempotency-key";
/// How long a 2xx answer is replayed.
const KEEP: Duration = Duration::from_secs(12 * 3600);
/// How long a running request holds its key. A node that dies mid-request leaves its key held
/// this long; after it, the key is free again.
const LEASE: Duration = Duration::from_secs(60);
/// The longest a repeated request waits for the first to finish before giving up with 409.
const WAIT_LIMIT: Duration = Duration::from_secs(30);
const FIRST_PAUSE: Duration = Duration::from_millis(10);
const LONGEST_PAUSE: Duration = Duration::from_millis(500);
/// Marks a replayed answer, as Stripe does.
const REPLAYED_HEADER: &str = "idempotent-replayed";

/// The middleware, for every `/api/v1` route. A request that is no POST, has no key, or has
/// no valid token passes straight through (the handler then answers it as usual).
pub async fn replay_or_run(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(key) = client_key(&request) else {
        return next.run(request).await;
    };
    let Ok(caller) = Caller::authenticate(request.headers(), &state).await else {
        return next.run(request).await;
    };
    let path = request
        .uri()
        .path_and_query()
        .map_or_else(|| request.uri().path(), |p| p.as_str())
        .to_owned();
    let intake = is_message_intake(request.uri().path());
    let (parts, body) = request.into_parts();
    let limit = state.config.max_payload_bytes;
    let Ok(body) = axum::body::to_bytes(body, limit).await else {
        return ApiError::PayloadTooLarge(limit).into_response();
    };
    let key = IdempotencyKey {
        token_hash: caller.token_hash.clone(),
        request: format!("POST {path}"),
        key,
        digest: digest(&path, &body),
    };
    let mut request = Request::from_parts(parts, Body::from(body));
    if intake {
        request.extensions_mut().insert(IntakeKey(key));
        return next.run(request).await;
    }
    match claim(&state, &key).await {
        Ok(None) => run_once(state, key, caller, request, next).await,
        Ok(Some(stored)) => replay(stored),
        Err(e) => e.into_response(),
    }
}

/// The idempotency key of a `POST .../msg`, for the message handler to send with the message.
#[derive(Clone, Debug)]
pub struct IntakeKey(pub IdempotencyKey);

impl IntakeKey {
    /// What the message's transaction stores with the key: `response`, replayed for 12 hours.
    pub fn answered_with(self, response: StoredResponse, now: Timestamp) -> KeyedIntake {
        KeyedIntake {
            key: self.0,
            response,
            expires_at: now.saturating_add(KEEP),
        }
    }
}

/// `POST /app/{app}/msg`, with or without the `/api/v1` the router nests it under.
fn is_message_intake(path: &str) -> bool {
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    matches!(segments.as_slice(), ["app", app, "msg"] if !app.is_empty())
}

/// SHA-256 of the request a key is bound to: its method, path and query, and body.
fn digest(path: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(b"POST ");
    hash.update(path.as_bytes());
    hash.update(b"\n");
    hash.update(body);
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn client_key(request: &Request) -> Option<String> {
    if request.method() != Method::POST {
        return None;
    }
    let value = request.headers().get(HEADER)?.to_str().ok()?.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// Takes the key (`None`: run the request), or returns the finished request's answer, waiting
/// for a running one with growing pauses.
async fn claim(state: &AppState, key: &IdempotencyKey) -> Result<Option<StoredResponse>, ApiError> {
    let deadline = Instant::now() + WAIT_LIMIT;
    let mut pause = FIRST_PAUSE;
    loop {
        let now = state.clock.now();
        let lease_until = now.saturating_add(LEASE);
        match state
            .store
            .claim_idempotency_key(key, now, lease_until)
            .await?
        {
            IdempotencyClaim::Started => return Ok(None),
            IdempotencyClaim::Done(stored) => return Ok(Some(stored)),
            IdempotencyClaim::Reused => return Err(ApiError::KeyReused),
            IdempotencyClaim::InProgress => {}
        }
        if Instant::now() + pause > deadline {
            return Err(ApiError::Conflict(
                "a request with this idempotency-key is still running; try again later".into(),
            ));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

/// Runs the request to its end even if the client hangs up, and records its answer.
async fn run_once(
    state: AppState,
    key: IdempotencyKey,
    caller: Caller,
    mut request: Request,
    next: Next,
) -> Response {
    request.extensions_mut().insert(caller);
    let store = state.store.clone();
    let held = key.clone();
    let task = tokio::spawn(async move {
        let response = next.run(request).await;
        record(&state, &key, response).await
    });
    match task.await {
        Ok(response) => response,
        Err(panicked) => {
            if let Err(e) = store.release_idempotency_key(&held).await {
                tracing::error!(error = %error_chain(&e), "releasing an idempotency key failed");
            }
            ApiError::Internal(Box::new(panicked)).into_response()
        }
    }
}

/// Keeps a 2xx answer for replay; frees the key after any other.
async fn record(state: &AppState, key: &IdempotencyKey, response: Response) -> Response {
    if !response.status().is_success() {
        if let Err(e) = state.store.release_idempotency_key(key).await {
            tracing::error!(error = %error_chain(&e), "releasing an idempotency key failed");
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(e) => return ApiError::Internal(Box::new(e)).into_response(),
    };
    let stored = StoredResponse {
        status: parts.status.as_u16(),
        body: body.to_vec(),
    };
    let expires_at = state.clock.now().saturating_add(KEEP);
    if let Err(e) = state
        .store
        .complete_idempotency_key(key, &stored, expires_at)
        .await
    {
        // The request took effect: answer it. A retry waits out the lease, then runs again.
        tracing::error!(error = %error_chain(&e), "storing an idempotent answer failed");
    }
    Response::from_parts(parts, Body::from(body))
}

/// The first answer to a request sent again with its key.
pub fn replay(stored: StoredResponse) -> Response {
    let has_body = !stored.body.is_empty();
    let mut response = Response::new(Body::from(stored.body));
    *response.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    if has_body {
        let json = HeaderValue::from_static("application/json");
        headers.insert(header::CONTENT_TYPE, json);
    }
    headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    response
}
