//! Health checks, open without a token as in Svix: `/health` reads the store, `/health/ping`
//! only proves the process answers.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

use crate::api::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/health/ping", get(ping))
}

/// 204 once one cheap query succeeds; a broken store shows as the usual 500 body.
async fn health(State(state): State<AppState>) -> Result<StatusCode, ApiError> {
    state.store.count_tokens().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn ping() -> StatusCode {
    StatusCode::NO_CONTENT
}
