//! Removing content that should not have been kept: a message's payload
//! (`DELETE /app/{app_id}/msg/{msg_id}/content`) or the response an attempt stored
//! (`DELETE .../attempt/{attempt_id}/content`). Both answer 204.
//!
//! A message without its payload reads as `{"expired": true}`, cannot be resent
//! (`missing_payload`), and its deliveries still pending fail.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::delete;

use crate::api::application::find_application;
use crate::api::extract::Path;
use crate::api::message::find_message;
use crate::api::{ApiError, Caller};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/app/{app_id}/msg/{msg_id}/content",
            delete(expunge_payload),
        )
        .route(
            "/app/{app_id}/msg/{msg_id}/attempt/{attempt_id}/content",
            delete(expunge_response),
        )
}

async fn expunge_payload(
    State(state): State<AppState>,
    caller: Caller,
    Path((app_id, msg_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let app = find_application(&state, &caller, &app_id).await?;
    let message = find_message(&state, &app.id, &msg_id).await?;
    if !state
        .store
        .expunge_message_payload(&app.id, &message.id)
        .await?
    {
        return Err(ApiError::NotFound("message"));
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn expunge_response(
    State(state): State<AppState>,
    caller: Caller,
    Path((app_id, msg_id, attempt_id)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let app = find_application(&state, &caller, &app_id).await?;
    let message = find_message(&state, &app.id, &msg_id).await?;
    if !state
        .store
        .expunge_attempt_response(&app.id, &message.id, &attempt_id)
        .await?
    {
        return Err(ApiError::NotFound("attempt"));
    }
    Ok(StatusCode::NO_CONTENT)
}
