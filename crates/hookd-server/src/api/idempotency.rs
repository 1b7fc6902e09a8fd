//! Idempotency: a POST sent again with the same `idempotency-key` (same token, same method and
//! path) gets the first one's 2xx response back, status and body, for 12 hours; it does not run
//! twice. SDKs send a key with every POST and reuse it on their own retries.
//!
//! The keys live in the store, so this holds across nodes. A request that finds its key held
//! by one still running waits for it (polling the store, for at most `WAIT_LIMIT`), then
//! replays what it answered. Only 2xx answers are kept: after an error, the same key runs the
//! request again. The request runs in a task of its own, so a client that hangs up cannot
//! leave its key held: the answer is stored either way.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hookd_store::{IdempotencyClaim, IdempotencyKey, StoredResponse};
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
        .map_or_else(|| request.uri().path(), |p| p.as_str());
    let key = IdempotencyKey {
        token_hash: caller.token_hash.clone(),
        request: format!("POST {path}"),
        key,
    };
    match claim(&state, &key).await {
        Ok(None) => run_once(state, key, caller, request, next).await,
        Ok(Some(stored)) => replay(stored),
        Err(e) => e.into_response(),
    }
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

fn replay(stored: StoredResponse) -> Response {
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
