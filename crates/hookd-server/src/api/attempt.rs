//! Delivery attempts: listed by endpoint or by message (newest first, with filters), or one
//! by id under its message.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use hookd_api::{ListResponse, MessageAttemptOut};
use hookd_core::name::{CHANNEL_MAX, EVENT_TYPE_MAX};
use hookd_core::{AppId, Attempt, AttemptId, AttemptStatus, EndpointId};
use hookd_store::{AttemptFilter, Ordering, PageQuery};

use crate::api::application::find_application;
use crate::api::extract::{Json, Path, QueryParams, list_out};
use crate::api::message::find_message;
use crate::api::{ApiError, Caller};
use crate::state::AppState;

const STATUS_CODE_CLASSES: [i64; 6] = [0, 100, 200, 300, 400, 500];

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/app/{app_id}/attempt/endpoint/{endpoint_id}",
            get(list_by_endpoint),
        )
        .route("/app/{app_id}/attempt/msg/{msg_id}", get(list_by_message))
        .route(
            "/app/{app_id}/msg/{msg_id}/attempt/{attempt_id}",
            get(get_attempt),
        )
}

async fn list_by_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path((app_id, endpoint_id)): Path<(String, String)>,
    query: QueryParams,
) -> Result<Json<ListResponse<MessageAttemptOut>>, ApiError> {
    let app = find_application(&state, &caller, &app_id).await?;
    let endpoint = resolve_endpoint_id(&state, &app.id, &endpoint_id).await?;
    let (page, filter, with_content) = list_params(&query)?;
    let page = state
        .store
        .list_attempts_by_endpoint(&app.id, &endpoint, &page, &filter)
        .await?;
    Ok(Json(list_out(page, |attempt| {
        Ok(attempt_out(&attempt, with_content))
    })?))
}

/// Also takes `endpoint_id` (an id or uid) to keep one endpoint's attempts.
async fn list_by_message(
    State(state): State<AppState>,
    caller: Caller,
    Path((app_id, msg_id)): Path<(String, String)>,
    query: QueryParams,
) -> Result<Json<ListResponse<MessageAttemptOut>>, ApiError> {
    let app = find_application(&state, &caller, &app_id).await?;
    let message = find_message(&state, &app.id, &msg_id).await?;
    let (page, mut filter, with_content) = list_params(&query)?;
    if let Some(id_or_uid) = query.get("endpoint_id") {
        filter.endpoint_id = Some(resolve_endpoint_id(&state, &app.id, id_or_uid).await?);
    }
    let page = state
        .store
        .list_attempts_by_message(&app.id, &message.id, &page, &filter)
        .await?;
    Ok(Json(list_out(page, |attempt| {
        Ok(attempt_out(&attempt, with_content))
    })?))
}

async fn get_attempt(
    State(state): State<AppState>,
    caller: Caller,
    Path((app_id, msg_id, attempt_id)): Path<(String, String, String)>,
) -> Result<Json<MessageAttemptOut>, ApiError> {
    let app = find_application(&state, &caller, &app_id).await?;
    let message = find_message(&state, &app.id, &msg_id).await?;
    let attempt = state
        .store
        .get_attempt(&app.id, &message.id, &attempt_id)
        .await?
        .ok_or(ApiError::NotFound("attempt"))?;
    Ok(Json(attempt_out(&attempt, true)))
}

/// An endpoint's id from its id or uid. The attempts of a deleted endpoint stay in the log,
/// so a well-formed id is taken as it is when no endpoint has it any more.
async fn resolve_endpoint_id(
    state: &AppState,
    app: &AppId,
    id_or_uid: &str,
) -> Result<EndpointId, ApiError> {
    if let Some(endpoint) = state.store.get_endpoint(app, id_or_uid).await? {
        return Ok(endpoint.id);
    }
    EndpointId::parse(id_or_uid).ok_or(ApiError::NotFound("endpoint"))
}

/// The paging, the filters and `with_content` both attempt lists share.
fn list_params(query: &QueryParams) -> Result<(PageQuery, AttemptFilter, bool), ApiError> {
    let page = query.page(Ordering::Descending, |s| AttemptId::parse(s).is_some())?;
    let status = match query.integer("status")? {
        None => None,
        Some(code) => Some(
            AttemptStatus::from_code(code)
                .ok_or_else(|| ApiError::invalid(&["query", "status"], "must be 0, 1, 2 or 3"))?,
        ),
    };
    let status_code_class = match query.integer("status_code_class")? {
        None => None,
        Some(class) if STATUS_CODE_CLASSES.contains(&class) => Some(class as i16),
        Some(_) => {
            let msg = "must be 0, 100, 200, 300, 400 or 500";
            return Err(ApiError::invalid(&["query", "status_code_class"], msg));
        }
    };
    let filter = AttemptFilter {
        status,
        status_code_class,
        event_types: query.names("event_types", EVENT_TYPE_MAX)?,
        channel: query.name("channel", CHANNEL_MAX)?,
        before: query.time("before")?,
        after: query.time("after")?,
        endpoint_id: None,
    };
    Ok((page, filter, query.flag("with_content", true)?))
}

/// `with_content=false` leaves the receiver's answer out.
fn attempt_out(attempt: &Attempt, with_content: bool) -> MessageAttemptOut {
    MessageAttemptOut {
        id: attempt.id.to_string(),
        msg_id: attempt.msg_id.to_string(),
        endpoint_id: attempt.endpoint_id.to_string(),
        url: attempt.url.clone(),
        response: if with_content {
            attempt.response.clone()
        } else {
            String::new()
        },
        response_status_code: attempt.response_status_code,
        response_duration_ms: attempt.response_duration_ms,
        status: attempt.status.code(),
        status_text: attempt.status.text().to_owned(),
        trigger_type: attempt.trigger.code(),
        timestamp: hookd_api::timestamp::format_millis(attempt.created_at.as_millis()),
    }
}
