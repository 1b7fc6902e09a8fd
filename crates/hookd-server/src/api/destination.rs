//! Where deliveries stand, read from the delivery queue: the endpoints a message was queued
//! for (`/app/{app_id}/msg/{msg_id}/endpoint`), the messages queued for an endpoint
//! (`/app/{app_id}/endpoint/{endpoint_id}/msg`), and an endpoint's counts (`.../stats`).
//! A message resent to an endpoint counts once, as its newest delivery stands.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use hookd_api::{EndpointMessageOut, EndpointStats, ListResponse, MessageEndpointOut};
use hookd_core::name::{CHANNEL_MAX, EVENT_TYPE_MAX};
use hookd_core::{AttemptStatus, EndpointId, MessageId, Timestamp};
use hookd_store::{
    DeliveryState, Destination, MessageFilter, Ordering, QueuedMessage, QueuedMessageFilter,
};

use crate::api::application::find_application;
use crate::api::extract::{Json, Path, QueryParams, list_out};
use crate::api::lookup::find_endpoint;
use crate::api::message::{find_message, payload_out};
use crate::api::{ApiError, Caller};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/app/{app_id}/msg/{msg_id}/endpoint",
            get(list_destinations),
        )
        .route(
            "/app/{app_id}/endpoint/{endpoint_id}/msg",
            get(list_queued_messages),
        )
        .route("/app/{app_id}/endpoint/{endpoint_id}/stats", get(stats))
}

async fn list_destinations(
    State(state): State<AppState>,
    caller: Caller,
    Path((app_id, msg_id)): Path<(String, String)>,
    query: QueryParams,
) -> Result<Json<ListResponse<MessageEndpointOut>>, ApiError> {
    let app = find_application(&state, &caller, &app_id).await?;
    let message = find_message(&state, &app.id, &msg_id).await?;
    let page = query.page(Ordering::Descending, |s| EndpointId::parse(s).is_some())?;
    let page = state
        .store
        .list_destinations(&app.id, &message.id, &page)
        .await?;
    Ok(Json(list_out(page, |d| Ok(destination_out(d)))?))
}

/// Filters: `status`, `channel`, `event_types`, `before`, `after`; `with_content=false`
/// leaves payloads out.
async fn list_queued_messages(
    State(state): State<AppState>,
    caller: Caller,
    Path((app_id, endpoint_id)): Path<(String, String)>,
    query: QueryParams,
) -> Result<Json<ListResponse<EndpointMessageOut>>, ApiError> {
    let app = find_application(&state, &caller, &app_id).await?;
    let endpoint = find_endpoint(&state, &app.id, &endpoint_id).await?;
    let page = query.page(Ordering::Descending, |s| MessageId::parse(s).is_some())?;
    let filter = QueuedMessageFilter {
        status: status_filter(&query)?,
        message: MessageFilter {
            event_types: query.names("event_types", EVENT_TYPE_MAX)?,
            channel: query.name("channel", CHANNEL_MAX)?,
            before: query.time("before")?,
            after: query.time("after")?,
        },
    };
    let with_content = query.flag("with_content", true)?;
    let page = state
        .store
        .list_queued_messages(&app.id, &endpoint.id, &page, &filter)
        .await?;
    Ok(Json(list_out(page, |q| queued_out(q, with_content))?))
}

/// Counts for messages created in `[since, until)`; either bound may be left out. hookd
/// cancels nothing, so `canceled` is 0.
async fn stats(
    State(state): State<AppState>,
    caller: Caller,
    Path((app_id, endpoint_id)): Path<(String, String)>,
    query: QueryParams,
) -> Result<Json<EndpointStats>, ApiError> {
    let (since, until) = (query.time("since")?, query.time("until")?);
    let app = find_application(&state, &caller, &app_id).await?;
    let endpoint = find_endpoint(&state, &app.id, &endpoint_id).await?;
    let stats = state
        .store
        .endpoint_stats(&app.id, &endpoint.id, since, until)
        .await?;
    Ok(Json(EndpointStats {
        success: stats.success,
        fail: stats.fail,
        pending: stats.pending,
        sending: stats.sending,
        canceled: 0,
    }))
}

fn status_filter(query: &QueryParams) -> Result<Option<AttemptStatus>, ApiError> {
    query
        .integer("status")?
        .map(|code| {
            AttemptStatus::from_code(code)
                .ok_or_else(|| ApiError::invalid(&["query", "status"], "must be 0, 1, 2 or 3"))
        })
        .transpose()
}

fn time_out(at: Timestamp) -> String {
    hookd_api::timestamp::format_millis(at.as_millis())
}

fn destination_out(Destination { endpoint, state }: Destination) -> MessageEndpointOut {
    let DeliveryState {
        status,
        next_attempt,
    } = state;
    MessageEndpointOut {
        id: endpoint.id.to_string(),
        uid: endpoint.uid,
        url: endpoint.url,
        description: endpoint.description,
        disabled: endpoint.disabled,
        event_types: endpoint.event_types,
        channels: endpoint.channels,
        throttle_rate: endpoint.rate_limit,
        metadata: endpoint.metadata,
        created_at: time_out(endpoint.created_at),
        updated_at: time_out(endpoint.updated_at),
        status: status.code(),
        status_text: status.text().to_owned(),
        next_attempt: next_attempt.map(time_out),
    }
}

fn queued_out(queued: QueuedMessage, with_content: bool) -> Result<EndpointMessageOut, ApiError> {
    let QueuedMessage { message, state } = queued;
    Ok(EndpointMessageOut {
        payload: payload_out(&message, with_content)?,
        id: message.id.to_string(),
        event_type: message.event_type,
        event_id: message.event_id,
        channels: message.channels,
        timestamp: time_out(message.created_at),
        status: state.status.code(),
        status_text: state.status.text().to_owned(),
        next_attempt: state.next_attempt.map(time_out),
    })
}
