//! Sending again: `resend` (one message to one endpoint) and `recover` (every message that
//! failed for good on an endpoint since a time). Both queue manual deliveries durably, due at
//! once, and wake the worker; a manual attempt is one try, with no retries after it.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use hookd_api::{RecoverIn, RecoverOut};
use hookd_core::Timestamp;
use hookd_store::Resend;
use serde_json::{Value, json};

use crate::api::application::find_application;
use crate::api::extract::{Json, Path};
use crate::api::lookup::find_endpoint;
use crate::api::message::find_message;
use crate::api::{ApiError, Caller};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/app/{app_id}/msg/{msg_id}/endpoint/{endpoint_id}/resend",
            post(resend),
        )
        .route(
            "/app/{app_id}/endpoint/{endpoint_id}/recover",
            post(recover),
        )
}

/// 202 with `{}` once the manual delivery is queued, whatever became of the earlier ones;
/// 400 `missing_payload` when the payload was removed.
async fn resend(
    State(state): State<AppState>,
    caller: Caller,
    Path((app_id, msg_id, endpoint_id)): Path<(String, String, String)>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let app = find_application(&state, &caller, &app_id).await?;
    let message = find_message(&state, &app.id, &msg_id).await?;
    let endpoint = find_endpoint(&state, &app.id, &endpoint_id).await?;
    let now = state.clock.now();
    match state
        .store
        .queue_resend(&app.id, &message.id, &endpoint.id, now)
        .await?
    {
        Resend::Queued => {
            state.worker.endpoint_touched(&endpoint.id);
            Ok((StatusCode::ACCEPTED, Json(json!({}))))
        }
        Resend::PayloadRemoved => Err(ApiError::MissingPayload),
        // Deleted between the lookups and the insert.
        Resend::NotFound => Err(ApiError::NotFound("message or endpoint")),
    }
}

/// Queues again every message created in `[since, until)` whose delivery to the endpoint
/// failed for good. The queueing is done when this answers; the sends are `running`.
async fn recover(
    State(state): State<AppState>,
    caller: Caller,
    Path((app_id, endpoint_id)): Path<(String, String)>,
    Json(body): Json<RecoverIn>,
) -> Result<(StatusCode, Json<RecoverOut>), ApiError> {
    let since = body_time("since", &body.since)?;
    let until = body
        .until
        .as_deref()
        .map(|t| body_time("until", t))
        .transpose()?;
    let app = find_application(&state, &caller, &app_id).await?;
    let endpoint = find_endpoint(&state, &app.id, &endpoint_id).await?;
    let now = state.clock.now();
    let recovered = state
        .store
        .recover_failed(&app.id, &endpoint.id, since, until, now)
        .await?;
    state.worker.endpoint_touched(&endpoint.id);
    tracing::info!(endpoint = %endpoint.id, recovered, "recovering failed messages");
    Ok((
        StatusCode::ACCEPTED,
        Json(RecoverOut {
            id: state.ids.new_task_id().to_string(),
            status: "running".to_owned(),
            task: "endpoint.recover".to_owned(),
            updated_at: hookd_api::timestamp::format_millis(now.as_millis()),
        }),
    ))
}

fn body_time(field: &str, text: &str) -> Result<Timestamp, ApiError> {
    hookd_api::timestamp::parse_millis(text)
        .map(Timestamp::from_millis)
        .ok_or_else(|| ApiError::invalid(&["body", field], "must be an RFC 3339 date-time"))
}
