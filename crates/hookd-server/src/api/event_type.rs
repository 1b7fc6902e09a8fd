//! Event types (`/event-type`, `/event-type/{name}`): list, create (or unarchive), get,
//! replace, patch, archive and expunge; and the check that an endpoint's `eventTypes` name
//! declared ones.
//!
//! Event types are global to the server, as in Svix: any token may read them, only an admin
//! token may change them. Archiving keeps the type (endpoints that filter on it still do);
//! `?expunge=true` deletes it.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use hookd_api::{
    EventTypeIn, EventTypeOut, EventTypePatch, EventTypeUpdate, ListResponse, Schemas,
};
use hookd_core::EventType;
use hookd_core::name::EVENT_TYPE_MAX;
use hookd_store::{EventTypeFilter, Ordering};

use crate::api::extract::{Json, Path, QueryParams, check_name, list_out};
use crate::api::{ApiError, Caller};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/event-type", get(list_event_types).post(create_event_type))
        .route(
            "/event-type/{event_type_name}",
            get(get_event_type)
                .put(replace_event_type)
                .patch(patch_event_type)
                .delete(delete_event_type),
        )
}

/// Fails with 422 at `loc` unless every name is a declared event type that is not archived.
/// `already` are names the endpoint filters on now: they stay allowed after an archive.
pub(super) async fn check_declared(
    state: &AppState,
    loc: &[&str],
    names: Option<&[String]>,
    already: Option<&[String]>,
) -> Result<(), ApiError> {
    let new: Vec<String> = names
        .unwrap_or_default()
        .iter()
        .filter(|name| !already.unwrap_or_default().contains(name))
        .cloned()
        .collect();
    let unknown = state.store.unknown_event_types(&new).await?;
    if unknown.is_empty() {
        return Ok(());
    }
    Err(ApiError::invalid(
        loc,
        format!(
            "no such event type: {} (create it with POST /api/v1/event-type)",
            unknown.join(", ")
        ),
    ))
}

/// By name, ascending unless `order` says otherwise. Schemas only with `with_content=true`.
async fn list_event_types(
    State(state): State<AppState>,
    _caller: Caller,
    query: QueryParams,
) -> Result<Json<ListResponse<EventTypeOut>>, ApiError> {
    let page = query.page(Ordering::Ascending, |s| {
        hookd_core::name::check(s, EVENT_TYPE_MAX).is_ok()
    })?;
    let filter = EventTypeFilter {
        include_archived: query.flag("include_archived", false)?,
    };
    let with_content = query.flag("with_content", false)?;
    let page = state.store.list_event_types(&page, &filter).await?;
    Ok(Json(list_out(page, |event_type| {
        let out = event_type_out(&event_type)?;
        Ok(if with_content {
            out
        } else {
            EventTypeOut {
                schemas: None,
                ..out
            }
        })
    })?))
}

/// 201, also when it unarchives an archived type of this name (taking the new fields); 409
/// when a type of this name is live.
async fn create_event_type(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<EventTypeIn>,
) -> Result<(StatusCode, Json<EventTypeOut>), ApiError> {
    caller.check_admin()?;
    let (name, fields) = body.split_name();
    check_name(&["body", "name"], &name, EVENT_TYPE_MAX)?;
    check_fields(&fields)?;
    let now = state.clock.now();
    let event_type = match state.store.get_event_type(&name).await? {
        Some(existing) if !existing.archived => {
            return Err(ApiError::Conflict(format!(
                "an event type named {name} already exists"
            )));
        }
        Some(archived) => {
            let event_type = with_fields(archived, fields, now);
            state.store.update_event_type(&event_type).await?;
            event_type
        }
        None => {
            let event_type = new_event_type(name, fields, now);
            state.store.insert_event_type(&event_type).await?;
            event_type
        }
    };
    Ok((StatusCode::CREATED, Json(event_type_out(&event_type)?)))
}

async fn get_event_type(
    State(state): State<AppState>,
    _caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<EventTypeOut>, ApiError> {
    let event_type = find_event_type(&state, &name).await?;
    Ok(Json(event_type_out(&event_type)?))
}

/// Replaces every field (200), or creates the type with the path's name (201).
async fn replace_event_type(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Json(body): Json<EventTypeUpdate>,
) -> Result<(StatusCode, Json<EventTypeOut>), ApiError> {
    caller.check_admin()?;
    check_path_name(&name)?;
    check_fields(&body)?;
    let now = state.clock.now();
    let Some(existing) = state.store.get_event_type(&name).await? else {
        let event_type = new_event_type(name, body, now);
        state.store.insert_event_type(&event_type).await?;
        return Ok((StatusCode::CREATED, Json(event_type_out(&event_type)?)));
    };
    let event_type = with_fields(existing, body, now);
    update(&state, &event_type).await?;
    Ok((StatusCode::OK, Json(event_type_out(&event_type)?)))
}

/// Absent fields stay; `null` clears `featureFlag` and `schemas`.
async fn patch_event_type(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Json(body): Json<EventTypePatch>,
) -> Result<Json<EventTypeOut>, ApiError> {
    caller.check_admin()?;
    let mut event_type = find_event_type(&state, &name).await?;
    if let hookd_api::Patch::Value(flag) = &body.feature_flag {
        check_name(&["body", "featureFlag"], flag, EVENT_TYPE_MAX)?;
    }
    if let hookd_api::Patch::Value(schemas) = &body.schemas {
        check_schemas(schemas)?;
    }
    event_type.description = body.description.unwrap_or(event_type.description);
    event_type.archived = body.archived.unwrap_or(event_type.archived);
    event_type.deprecated = body.deprecated.unwrap_or(event_type.deprecated);
    event_type.feature_flag = body.feature_flag.apply(event_type.feature_flag);
    let schemas = body.schemas.map(schemas_text);
    event_type.schemas = schemas.apply(event_type.schemas);
    event_type.updated_at = state.clock.now();
    update(&state, &event_type).await?;
    Ok(Json(event_type_out(&event_type)?))
}

/// Archives the type (204); with `expunge=true`, deletes it for good.
async fn delete_event_type(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    query: QueryParams,
) -> Result<StatusCode, ApiError> {
    caller.check_admin()?;
    let expunge = query.flag("expunge", false)?;
    let mut event_type = find_event_type(&state, &name).await?;
    if expunge {
        if !state.store.delete_event_type(&event_type.name).await? {
            return Err(ApiError::NotFound("event type"));
        }
        return Ok(StatusCode::NO_CONTENT);
    }
    event_type.archived = true;
    event_type.updated_at = state.clock.now();
    update(&state, &event_type).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The event type a path names; 422 for a name no event type could have.
pub(super) async fn find_event_type(state: &AppState, name: &str) -> Result<EventType, ApiError> {
    check_path_name(name)?;
    state
        .store
        .get_event_type(name)
        .await?
        .ok_or(ApiError::NotFound("event type"))
}

/// Writes the event type; 404 if it was expunged meanwhile.
async fn update(state: &AppState, event_type: &EventType) -> Result<(), ApiError> {
    if !state.store.update_event_type(event_type).await? {
        return Err(ApiError::NotFound("event type"));
    }
    Ok(())
}

fn check_path_name(name: &str) -> Result<(), ApiError> {
    check_name(&["path", "event_type_name"], name, EVENT_TYPE_MAX)
}

fn check_fields(fields: &EventTypeUpdate) -> Result<(), ApiError> {
    if let Some(flag) = &fields.feature_flag {
        check_name(&["body", "featureFlag"], flag, EVENT_TYPE_MAX)?;
    }
    if let Some(schemas) = &fields.schemas {
        check_schemas(schemas)?;
    }
    Ok(())
}

/// Each version's schema must be a JSON object.
fn check_schemas(schemas: &Schemas) -> Result<(), ApiError> {
    match schemas.iter().find(|(_, schema)| !schema.is_object()) {
        Some((version, _)) => Err(ApiError::invalid(
            &["body", "schemas", version],
            "must be a JSON schema (an object)",
        )),
        None => Ok(()),
    }
}

fn schemas_text(schemas: Schemas) -> String {
    serde_json::Value::Object(schemas).to_string()
}

fn new_event_type(name: String, fields: EventTypeUpdate, now: hookd_core::Timestamp) -> EventType {
    let blank = EventType {
        name,
        description: String::new(),
        archived: false,
        deprecated: false,
        feature_flag: None,
        schemas: None,
        created_at: now,
        updated_at: now,
    };
    with_fields(blank, fields, now)
}

/// The event type with every field of a create or replace body; name and creation stay.
fn with_fields(
    event_type: EventType,
    fields: EventTypeUpdate,
    now: hookd_core::Timestamp,
) -> EventType {
    EventType {
        description: fields.description,
        archived: fields.archived,
        deprecated: fields.deprecated,
        feature_flag: fields.feature_flag,
        schemas: fields.schemas.map(schemas_text),
        updated_at: now,
        ..event_type
    }
}

fn event_type_out(event_type: &EventType) -> Result<EventTypeOut, ApiError> {
    let schemas = match &event_type.schemas {
        Some(text) => Some(
            serde_json::from_str::<Schemas>(text).map_err(|e| ApiError::Internal(Box::new(e)))?,
        ),
        None => None,
    };
    Ok(EventTypeOut {
        name: event_type.name.clone(),
        description: event_type.description.clone(),
        archived: event_type.archived,
        deprecated: event_type.deprecated,
        feature_flag: event_type.feature_flag.clone(),
        schemas,
        created_at: hookd_api::timestamp::format_millis(event_type.created_at.as_millis()),
        updated_at: hookd_api::timestamp::format_millis(event_type.updated_at.as_millis()),
    })
}
