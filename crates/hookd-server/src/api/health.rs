//! Health checks, open without a token as in Svix: `/health` makes a round trip to the
//! database, `/health/ping` only proves the process answers. A worker-only node serves these
//! alone (`standalone`), so a load balancer or orchestrator can watch every node the same way.

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

/// The whole HTTP surface of a node that runs no API: the health checks under `/api/v1`.
pub fn standalone(state: AppState) -> Router {
    Router::new()
        .nest("/api/v1", router())
        .fallback(|| async { ApiError::NotFound("route") })
        .with_state(state)
}

/// 204 once a query answered by the database succeeds (SQLite reads the file; PostgreSQL
/// answers over the network); a database that fails or does not answer within the statement
/// timeout shows as the usual 500 body, its cause in the log.
async fn health(State(state): State<AppState>) -> Result<StatusCode, ApiError> {
    state.store.count_tokens().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn ping() -> StatusCode {
    StatusCode::NO_CONTENT
}
