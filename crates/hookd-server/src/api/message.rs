//! Messages (`/app/{app_id}/msg/...`): create (stored and fanned out durably before the 202),
//! list, get by id or event id.

use std::time::Instant;

use axum::Extension;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hookd_api::{ListResponse, MessageIn, MessageOut};
use hookd_core::name::{CHANNEL_MAX, EVENT_TYPE_MAX, UID_MAX};
use hookd_core::{AppId, AttemptStatus, Message, MessageId};
use hookd_store::{MessageFilter, NewMessage, Ordering, StoreError, StoredResponse};
use serde_json::value::RawValue;

use crate::api::application::{create_for_message, find_application};
use crate::api::extract::{Json, Path, QueryParams, check_name, check_name_list, list_out};
use crate::api::idempotency::{IntakeKey, replay};
use crate::api::{ApiError, Caller};
use crate::state::AppState;

const MAX_MESSAGE_CHANNELS: usize = 5;
const RETENTION_DAYS: std::ops::RangeInclusive<i64> = 5..=90;
const DEFAULT_RETENTION_DAYS: i64 = 90;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/{app_id}/msg", get(list_messages).post(create_message))
        .route("/app/{app_id}/msg/{msg_id}", get(get_message))
}

/// The message a path names by id or event id.
pub(super) async fn find_message(
    state: &AppState,
    app: &AppId,
    id_or_event_id: &str,
) -> Result<Message, ApiError> {
    state
        .store
        .get_message(app, id_or_event_id)
        .await?
        .ok_or(ApiError::NotFound("message"))
}

/// 202 once the message and its deliveries are durable; `with_content=false` answers with
/// `{}` as the payload. With an idempotency key, the key and this answer are stored in the
/// message's own transaction, and a repeat gets the first answer back.
async fn create_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(app_id): Path<String>,
    query: QueryParams,
    key: Option<Extension<IntakeKey>>,
    Json(body): Json<MessageIn>,
) -> Result<Response, ApiError> {
    let with_content = query.flag("with_content", true)?;
    let fields = check_message_in(&body)?;
    let app_id = match message_app(&state, &app_id).await? {
        Some(id) => {
            caller.check_app(&id)?;
            id
        }
        None => match body.application {
            Some(app_in) => {
                create_for_message(&state, &caller, &app_id, app_in)
                    .await?
                    .id
            }
            None => return Err(ApiError::NotFound("application")),
        },
    };
    let message = Message {
        id: state.ids.new_message_id(),
        app_id,
        event_type: body.event_type,
        event_id: body.event_id,
        channels: fields.channels,
        payload: Some(body.payload.get().to_owned()),
        retention_days: fields.retention_days,
        created_at: state.clock.now(),
    };
    // The payload came in as raw JSON already: hand it back without parsing it again.
    let payload = if with_content {
        body.payload
    } else {
        empty_object()
    };
    let out = message_out(&message, payload);
    let Some(Extension(key)) = key else {
        state.commits.submit(NewMessage::new(message)).await?;
        return Ok((StatusCode::ACCEPTED, Json(out)).into_response());
    };
    let body = serde_json::to_vec(&out).map_err(|e| ApiError::Internal(Box::new(e)))?;
    let response = StoredResponse {
        status: StatusCode::ACCEPTED.as_u16(),
        body,
    };
    let keyed = key.answered_with(response.clone(), message.created_at);
    match state
        .commits
        .submit(NewMessage::keyed(message, keyed))
        .await
    {
        Ok(_) => Ok(stored_response(response)),
        Err(StoreError::AlreadyAnswered(first)) => Ok(replay(first)),
        Err(e) => Err(e.into()),
    }
}

/// A stored answer sent the first time, as the handler would have sent it.
fn stored_response(stored: StoredResponse) -> Response {
    let mut response = (StatusCode::ACCEPTED, stored.body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The id of the application a message path names by id or uid. Looked up in the store once a
/// second at most per path: if the application is deleted meanwhile, the store refuses the
/// message (404) when it commits.
async fn message_app(state: &AppState, id_or_uid: &str) -> Result<Option<AppId>, ApiError> {
    if let Some(id) = state.app_ids.get(id_or_uid, Instant::now()) {
        return Ok(Some(id));
    }
    let found = state
        .store
        .get_application(id_or_uid)
        .await?
        .map(|app| app.id);
    if let Some(id) = &found {
        state
            .app_ids
            .put(id_or_uid.to_owned(), id.clone(), Instant::now());
    }
    Ok(found)
}

/// Newest first. Filters: `event_types`, `channel`, `before`, `after`, and hookd's own
/// `status` (0 success, 1 pending, 2 fail, 3 sending: messages with a delivery in it);
/// `with_content=false` leaves payloads out.
async fn list_messages(
    State(state): State<AppState>,
    caller: Caller,
    Path(app_id): Path<String>,
    query: QueryParams,
) -> Result<Json<ListResponse<MessageOut>>, ApiError> {
    let app = find_application(&state, &caller, &app_id).await?;
    let page = query.page(Ordering::Descending, |s| MessageId::parse(s).is_some())?;
    let filter = MessageFilter {
        event_types: query.names("event_types", EVENT_TYPE_MAX)?,
        channel: query.name("channel", CHANNEL_MAX)?,
        before: query.time("before")?,
        after: query.time("after")?,
    };
    let with_content = query.flag("with_content", true)?;
    let page = match query.integer("status")? {
        None => state.store.list_messages(&app.id, &page, &filter).await?,
        Some(code) => {
            let status = AttemptStatus::from_code(code)
                .ok_or_else(|| ApiError::invalid(&["query", "status"], "must be 0, 1, 2 or 3"))?;
            let store = &state.store;
            store
                .list_messages_by_delivery_status(&app.id, &page, &filter, status)
                .await?
        }
    };
    Ok(Json(list_out(page, |message| {
        stored_message_out(&message, with_content)
    })?))
}

async fn get_message(
    State(state): State<AppState>,
    caller: Caller,
    Path((app_id, msg_id)): Path<(String, String)>,
    query: QueryParams,
) -> Result<Json<MessageOut>, ApiError> {
    let with_content = query.flag("with_content", true)?;
    let app = find_application(&state, &caller, &app_id).await?;
    let message = find_message(&state, &app.id, &msg_id).await?;
    Ok(Json(stored_message_out(&message, with_content)?))
}

/// What `check_message_in` settles beyond the body's own fields.
struct CheckedFields {
    channels: Option<Vec<String>>,
    retention_days: i64,
}

fn check_message_in(body: &MessageIn) -> Result<CheckedFields, ApiError> {
    check_name(&["body", "eventType"], &body.event_type, EVENT_TYPE_MAX)?;
    if !body.payload.get().trim_start().starts_with('{') {
        return Err(ApiError::invalid(
            &["body", "payload"],
            "must be a JSON object",
        ));
    }
    if let Some(event_id) = &body.event_id {
        check_name(&["body", "eventId"], event_id, UID_MAX)?;
    }
    let channels = match &body.channels {
        Some(channels) => Some(check_name_list(
            &["body", "channels"],
            channels.clone(),
            CHANNEL_MAX,
            MAX_MESSAGE_CHANNELS,
        )?),
        None => None,
    };
    let retention_days = body
        .payload_retention_period
        .unwrap_or(DEFAULT_RETENTION_DAYS);
    if !RETENTION_DAYS.contains(&retention_days) {
        let msg = "must be between 5 and 90 days";
        return Err(ApiError::invalid(&["body", "payloadRetentionPeriod"], msg));
    }
    Ok(CheckedFields {
        channels,
        retention_days,
    })
}

fn empty_object() -> Box<RawValue> {
    RawValue::from_string("{}".to_owned()).expect("`{}` is JSON")
}

/// A stored message on the wire; its payload is the stored text, byte for byte.
pub(super) fn stored_message_out(
    message: &Message,
    with_content: bool,
) -> Result<MessageOut, ApiError> {
    Ok(message_out(message, payload_out(message, with_content)?))
}

/// The payload on the wire: the stored text byte for byte, `{}` without content, and
/// `{"expired": true}` once it was removed.
pub(super) fn payload_out(
    message: &Message,
    with_content: bool,
) -> Result<Box<RawValue>, ApiError> {
    match &message.payload {
        _ if !with_content => Ok(empty_object()),
        Some(payload) => {
            RawValue::from_string(payload.clone()).map_err(|e| ApiError::Internal(Box::new(e)))
        }
        None => {
            Ok(RawValue::from_string(r#"{"expired": true}"#.to_owned()).expect("a JSON object"))
        }
    }
}

fn message_out(message: &Message, payload: Box<RawValue>) -> MessageOut {
    MessageOut {
        id: message.id.to_string(),
        event_type: message.event_type.clone(),
        event_id: message.event_id.clone(),
        channels: message.channels.clone(),
        payload,
        timestamp: hookd_api::timestamp::format_millis(message.created_at.as_millis()),
    }
}
