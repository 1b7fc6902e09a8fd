//! A complete webhook receiver on axum: the `Webhook` extractor answers hookd's ownership
//! challenge and verifies every delivery; `RecentIds` drops repeated deliveries.
//!
//! ```sh
//! SECRET="whsec_$(head -c 32 /dev/urandom | base64)"
//! HOOKD_SECRET=$SECRET cargo run -p hookd-receiver --features axum --example axum_receiver -- 127.0.0.1:9000
//! # then create the endpoint with that secret, so the receiver can check the challenge:
//! curl -s -X POST localhost:8071/api/v1/app/acme/endpoint -H "Authorization: Bearer $TOKEN" \
//!      -H 'content-type: application/json' \
//!      -d "{\"url\": \"http://127.0.0.1:9000/webhooks\", \"secret\": \"$SECRET\"}"
//! ```

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::any;
use hookd_receiver::axum::{Webhook, WebhookConfig};
use hookd_receiver::{RecentIds, Secret, Verifier};

#[derive(Clone)]
struct AppState {
    webhooks: WebhookConfig,
    seen: Arc<Mutex<RecentIds>>,
}

impl FromRef<AppState> for WebhookConfig {
    fn from_ref(state: &AppState) -> WebhookConfig {
        state.webhooks.clone()
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9000".into());
    let secret = std::env::var("HOOKD_SECRET")
        .map_err(|_| "set HOOKD_SECRET to the endpoint's whsec_ secret")?;
    let state = AppState {
        webhooks: WebhookConfig::new(Verifier::new(Secret::parse(&secret)?)),
        seen: Arc::new(Mutex::new(RecentIds::new(10_000))),
    };
    let app = Router::new()
        .route("/webhooks", any(on_event))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("receiver listening on http://{addr}/webhooks");
    axum::serve(listener, app).await?;
    Ok(())
}

/// Runs only for verified deliveries: the extractor has answered challenges and refused
/// anything unsigned, stale or tampered with (401, naming the failed check).
async fn on_event(State(state): State<AppState>, webhook: Webhook) -> StatusCode {
    if !state.seen.lock().unwrap().first_time(&webhook.id) {
        println!("{}: duplicate, skipped", webhook.id);
        return StatusCode::NO_CONTENT;
    }
    match serde_json::from_slice::<serde_json::Value>(&webhook.body) {
        Ok(event) => {
            println!("{}: {event}", webhook.id);
            StatusCode::NO_CONTENT
        }
        Err(e) => {
            // Let the sender retry, and let the next attempt be handled rather than skipped.
            state.seen.lock().unwrap().forget(&webhook.id);
            println!("{}: not JSON ({e})", webhook.id);
            StatusCode::UNPROCESSABLE_ENTITY
        }
    }
}
