//! `POST /app/{app_id}/endpoint/{endpoint_id}/send-example`: a message of a declared event
//! type, its payload the example of the type's latest schema, delivered to that endpoint alone.

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use hookd_api::{EventExampleIn, MessageOut};
use hookd_core::Message;
use hookd_core::name::EVENT_TYPE_MAX;
use serde_json::Value;

use crate::api::application::find_application;
use crate::api::event_type::find_event_type;
use crate::api::extract::{Json, Path, check_name};
use crate::api::lookup::find_endpoint;
use crate::api::message::stored_message_out;
use crate::api::{ApiError, Caller};
use crate::state::AppState;

/// How long an example's payload is kept, as for a message sent without a retention period.
const EXAMPLE_RETENTION_DAYS: i64 = 90;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/app/{app_id}/endpoint/{endpoint_id}/send-example",
        post(send_example),
    )
}

/// 200 with the message, once it and its one delivery are stored. The endpoint's event type
/// and channel filters do not apply: the example is sent to it on purpose.
async fn send_example(
    State(state): State<AppState>,
    caller: Caller,
    Path((app_id, endpoint_id)): Path<(String, String)>,
    Json(body): Json<EventExampleIn>,
) -> Result<Json<MessageOut>, ApiError> {
    check_name(&["body", "eventType"], &body.event_type, EVENT_TYPE_MAX)?;
    let app = find_application(&state, &caller, &app_id).await?;
    let endpoint = find_endpoint(&state, &app.id, &endpoint_id).await?;
    let event_type = find_event_type(&state, &body.event_type).await?;
    let payload = example_payload(event_type.schemas.as_deref(), body.example_index);
    let message = Message {
        id: state.ids.new_message_id(),
        app_id: app.id,
        event_type: event_type.name,
        event_id: None,
        channels: None,
        payload: Some(payload),
        retention_days: EXAMPLE_RETENTION_DAYS,
        created_at: state.clock.now(),
    };
    state
        .store
        .insert_message_for_endpoint(&message, &endpoint.id)
        .await?;
    state.worker.wake();
    Ok(Json(stored_message_out(&message, true)?))
}

/// The `examples[index]` (the first by default) of the latest schema version, when it is a
/// JSON object; `{}` otherwise. Versions are compared as numbers when they are numbers.
fn example_payload(schemas: Option<&str>, index: Option<usize>) -> String {
    let schemas: Option<serde_json::Map<String, Value>> =
        schemas.and_then(|text| serde_json::from_str(text).ok());
    let latest = schemas.as_ref().and_then(|schemas| {
        schemas
            .iter()
            .max_by_key(|(version, _)| (version.parse::<u64>().ok(), version.as_str()))
            .map(|(_, schema)| schema)
    });
    latest
        .and_then(|schema| schema.get("examples"))
        .and_then(|examples| examples.get(index.unwrap_or(0)))
        .filter(|example| example.is_object())
        .map_or_else(|| "{}".to_owned(), Value::to_string)
}

#[cfg(test)]
mod tests {
    use super::example_payload;

    #[test]
    fn the_example_is_the_first_of_the_latest_schema_version() {
        let schemas = r#"{
            "2": {"examples": [{"v": 2}, {"v": "2b"}]},
            "10": {"examples": [{"v": 10}]},
            "9": {"examples": [{"v": 9}]}
        }"#;
        assert_eq!(example_payload(Some(schemas), None), r#"{"v":10}"#);
        let two = r#"{"1": {"examples": [{"a": 1}]}, "2": {"examples": [{"v": 2}, {"v": "2b"}]}}"#;
        assert_eq!(example_payload(Some(two), Some(1)), r#"{"v":"2b"}"#);
    }

    #[test]
    fn a_schema_without_an_object_example_gives_an_empty_object() {
        assert_eq!(example_payload(None, None), "{}");
        assert_eq!(
            example_payload(Some(r#"{"1": {"type": "object"}}"#), None),
            "{}"
        );
        assert_eq!(
            example_payload(Some(r#"{"1": {"examples": [3]}}"#), None),
            "{}"
        );
        assert_eq!(
            example_payload(Some(r#"{"1": {"examples": []}}"#), None),
            "{}"
        );
        assert_eq!(
            example_payload(Some(r#"{"1": {"examples": [{}]}}"#), Some(5)),
            "{}"
        );
    }
}
