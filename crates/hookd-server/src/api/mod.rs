//! The HTTP API: Svix v1 resources under `/api/v1`. Each resource module owns its handlers and
//! its `router()`; this one only merges them and sets the limits every route shares.

pub mod auth;
pub mod error;
pub mod extract;

mod api_token;
mod application;
mod attempt;
mod auth_portal;
mod destination;
mod endpoint;
mod endpoint_headers;
mod endpoint_secret;
mod event_type;
mod expunge;
pub mod health;
pub mod idempotency;
mod insight;
mod lookup;
mod message;
mod redelivery;
mod send_example;
mod session;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;

pub use auth::Caller;
pub use error::ApiError;

use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let limit = state.config.max_payload_bytes;
    let v1 = Router::new()
        .merge(application::router())
        .merge(endpoint::router())
        .merge(endpoint_secret::router())
        .merge(endpoint_headers::router())
        .merge(destination::router())
        .merge(redelivery::router())
        .merge(expunge::router())
        .merge(message::router())
        .merge(attempt::router())
        .merge(health::router())
        .merge(event_type::router())
        .merge(send_example::router())
        .merge(auth_portal::router())
        .merge(session::router())
        .merge(api_token::router())
        .merge(insight::router())
        .layer(from_fn_with_state(
            state.clone(),
            idempotency::replay_or_run,
        ));
    Router::new()
        .nest("/api/v1", v1)
        .fallback(|| async { ApiError::NotFound("route") })
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}
