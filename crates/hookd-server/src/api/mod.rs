//! The HTTP API: Svix v1 resources under `/api/v1`. Each resource module owns its handlers and
//! its `router()`; this one only merges them and sets the limits every route shares.

pub mod auth;
pub mod error;
pub mod extract;

mod application;
mod attempt;
mod endpoint;
pub mod health;
mod message;

use axum::Router;
use axum::extract::DefaultBodyLimit;

pub use auth::Caller;
pub use error::ApiError;

use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let limit = state.config.max_payload_bytes;
    let v1 = Router::new()
        .merge(application::router())
        .merge(endpoint::router())
        .merge(message::router())
        .merge(attempt::router())
        .merge(health::router());
    Router::new()
        .nest("/api/v1", v1)
        .fallback(|| async { ApiError::NotFound("route") })
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}
