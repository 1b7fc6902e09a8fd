//! Endpoints (`/app/{app_id}/endpoint/...`): list, create, get, replace, patch, delete, and
//! `verify`, which re-runs the ownership challenge. The secret, the headers, stats and
//! recovery have modules of their own.
//!
//! Architecture Invariant: a URL is stored only after whoever answers there passed the
//! ownership challenge (unless the operator turned it off): on create, and whenever the URL
//! changes. A failed challenge stores nothing.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use hookd_api::{EndpointIn, EndpointOut, EndpointPatch, EndpointUpdate, ListResponse, Patch};
use hookd_core::name::{CHANNEL_MAX, EVENT_TYPE_MAX, UID_MAX};
use hookd_core::{AppId, Endpoint, EndpointId};
use hookd_store::Ordering;

use crate::api::application::{check_throttle_rate, find_application};
use crate::api::endpoint_headers::check_headers;
use crate::api::endpoint_secret::parse_secret;
use crate::api::event_type::check_declared;
use crate::api::extract::{Json, Path, QueryParams, check_name, check_name_list, list_out};
use crate::api::lookup::find_endpoint;
use crate::api::{ApiError, Caller};
use crate::state::AppState;
use crate::{challenge, signing};

const MAX_ENDPOINT_CHANNELS: usize = 10;
/// Where a 422 for an undeclared event type points.
const EVENT_TYPES: [&str; 2] = ["body", "eventTypes"];

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/app/{app_id}/endpoint",
            get(list_endpoints).post(create_endpoint),
        )
        .route(
            "/app/{app_id}/endpoint/{endpoint_id}",
            get(get_endpoint)
                .put(replace_endpoint)
                .patch(patch_endpoint)
                .delete(delete_endpoint),
        )
        .route(
            "/app/{app_id}/endpoint/{endpoint_id}/verify",
            post(verify_endpoint),
        )
}

async fn list_endpoints(
    State(state): State<AppState>,
    caller: Caller,
    Path(app_id): Path<String>,
    query: QueryParams,
) -> Result<Json<ListResponse<EndpointOut>>, ApiError> {
    let app = find_application(&state, &caller, &app_id).await?;
    // Newest first, as Svix lists endpoints.
    let page = query.page(Ordering::Descending, |s| EndpointId::parse(s).is_some())?;
    let page = state.store.list_endpoints(&app.id, &page).await?;
    Ok(Json(list_out(page, |endpoint| {
        Ok(endpoint_out(&endpoint))
    })?))
}

async fn create_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(app_id): Path<String>,
    Json(body): Json<EndpointIn>,
) -> Result<(StatusCode, Json<EndpointOut>), ApiError> {
    let app = find_application(&state, &caller, &app_id).await?;
    let (settings, create_only) = body.split();
    let settings = check_settings(settings)?;
    check_declared(&state, &EVENT_TYPES, settings.event_types.as_deref(), None).await?;
    let headers = check_headers(&["body", "headers"], create_only.headers)?;
    let secret = match create_only.secret {
        Some(secret) => parse_secret(&["body", "secret"], &secret)?,
        None => signing::new_secret(state.config.default_signature_type),
    };
    let endpoint = insert_new(&state, app.id, settings, (secret, headers)).await?;
    Ok((StatusCode::CREATED, Json(endpoint_out(&endpoint))))
}

async fn get_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path((app_id, endpoint_id)): Path<(String, String)>,
) -> Result<Json<EndpointOut>, ApiError> {
    let app = find_application(&state, &caller, &app_id).await?;
    let endpoint = find_endpoint(&state, &app.id, &endpoint_id).await?;
    Ok(Json(endpoint_out(&endpoint)))
}

/// Replaces the endpoint's settings (the secret stays), or creates it with the path value as
/// its uid (201). A body without `uid` keeps the current one.
async fn replace_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path((app_id, endpoint_id)): Path<(String, String)>,
    Json(body): Json<EndpointUpdate>,
) -> Result<(StatusCode, Json<EndpointOut>), ApiError> {
    let app = find_application(&state, &caller, &app_id).await?;
    let mut settings = check_settings(body)?;
    let found = state.store.get_endpoint(&app.id, &endpoint_id).await?;
    let current = found.as_ref().and_then(|ep| ep.event_types.as_deref());
    check_declared(
        &state,
        &EVENT_TYPES,
        settings.event_types.as_deref(),
        current,
    )
    .await?;
    let Some(mut endpoint) = found else {
        // An id we never issued cannot be created at will; only a uid can.
        if EndpointId::parse(&endpoint_id).is_some() {
            return Err(ApiError::NotFound("endpoint"));
        }
        check_uid(&["path", "endpoint_id"], &endpoint_id)?;
        settings.uid = Some(endpoint_id);
        let secret = signing::new_secret(state.config.default_signature_type);
        let created = (secret, BTreeMap::new());
        let endpoint = insert_new(&state, app.id, settings, created).await?;
        return Ok((StatusCode::CREATED, Json(endpoint_out(&endpoint))));
    };
    if let Some(uid) = &settings.uid {
        ensure_uid_free(&state, &app.id, uid, Some(&endpoint.id)).await?;
    }
    if settings.url != endpoint.url {
        verify(&state, &settings.url, &endpoint.secret).await?;
    }
    apply_settings(&mut endpoint, settings);
    endpoint.updated_at = state.clock.now();
    state.store.update_endpoint(&endpoint).await?;
    state.worker.endpoint_touched(&endpoint.id);
    Ok((StatusCode::OK, Json(endpoint_out(&endpoint))))
}

async fn patch_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path((app_id, endpoint_id)): Path<(String, String)>,
    Json(body): Json<EndpointPatch>,
) -> Result<Json<EndpointOut>, ApiError> {
    let app = find_application(&state, &caller, &app_id).await?;
    let mut endpoint = find_endpoint(&state, &app.id, &endpoint_id).await?;
    if let Some(url) = &body.url {
        check_url(url)?;
    }
    let event_types = check_list_patch(body.event_types, "eventTypes", EVENT_TYPE_MAX, usize::MAX)?;
    if let Patch::Value(types) = &event_types {
        check_declared(
            &state,
            &EVENT_TYPES,
            Some(types),
            endpoint.event_types.as_deref(),
        )
        .await?;
    }
    let channels = check_list_patch(
        body.channels,
        "channels",
        CHANNEL_MAX,
        MAX_ENDPOINT_CHANNELS,
    )?;
    if let Patch::Value(rate) = body.throttle_rate {
        check_throttle_rate(&["body", "throttleRate"], rate)?;
    }
    if let Patch::Value(uid) = &body.uid {
        check_uid(&["body", "uid"], uid)?;
        ensure_uid_free(&state, &app.id, uid, Some(&endpoint.id)).await?;
    }
    if let Some(url) = body.url.filter(|url| *url != endpoint.url) {
        verify(&state, &url, &endpoint.secret).await?;
        endpoint.url = url;
    }
    endpoint.description = body.description.unwrap_or(endpoint.description);
    endpoint.disabled = body.disabled.unwrap_or(endpoint.disabled);
    endpoint.event_types = event_types.apply(endpoint.event_types);
    endpoint.channels = channels.apply(endpoint.channels);
    endpoint.rate_limit = body.throttle_rate.apply(endpoint.rate_limit);
    endpoint.uid = body.uid.apply(endpoint.uid);
    endpoint.metadata = body.metadata.unwrap_or(endpoint.metadata);
    endpoint.updated_at = state.clock.now();
    state.store.update_endpoint(&endpoint).await?;
    state.worker.endpoint_touched(&endpoint.id);
    Ok(Json(endpoint_out(&endpoint)))
}

async fn delete_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path((app_id, endpoint_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let app = find_application(&state, &caller, &app_id).await?;
    let endpoint = find_endpoint(&state, &app.id, &endpoint_id).await?;
    if !state.store.delete_endpoint(&app.id, &endpoint.id).await? {
        return Err(ApiError::NotFound("endpoint"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Re-runs the ownership challenge for the stored URL and secret: 204 when it passes.
async fn verify_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path((app_id, endpoint_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let app = find_application(&state, &caller, &app_id).await?;
    let endpoint = find_endpoint(&state, &app.id, &endpoint_id).await?;
    verify(&state, &endpoint.url, &endpoint.secret).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Checks the uid is free, runs the challenge, then stores with the given secret and
/// headers: nothing is written for a URL whose owner did not answer.
async fn insert_new(
    state: &AppState,
    app_id: AppId,
    settings: EndpointUpdate,
    (secret, headers): (String, BTreeMap<String, String>),
) -> Result<Endpoint, ApiError> {
    if let Some(uid) = &settings.uid {
        ensure_uid_free(state, &app_id, uid, None).await?;
    }
    verify(state, &settings.url, &secret).await?;
    let now = state.clock.now();
    let mut endpoint = Endpoint {
        id: state.ids.new_endpoint_id(),
        app_id,
        uid: None,
        url: String::new(),
        description: String::new(),
        disabled: false,
        event_types: None,
        channels: None,
        rate_limit: None,
        metadata: BTreeMap::new(),
        secret,
        headers,
        created_at: now,
        updated_at: now,
    };
    apply_settings(&mut endpoint, settings);
    state.store.insert_endpoint(&endpoint).await?;
    Ok(endpoint)
}

async fn verify(state: &AppState, url: &str, secret: &str) -> Result<(), ApiError> {
    let now = state.clock.now();
    challenge::verify_endpoint(&state.config, &state.outbound, now, url, secret)
        .await
        .map_err(|failure| ApiError::VerificationFailed(failure.to_string()))
}

/// Fails with 409 when another endpoint of the application has this uid. The store's unique
/// key is the real guard; asking first spares the receiver a challenge that cannot lead anywhere.
async fn ensure_uid_free(
    state: &AppState,
    app: &AppId,
    uid: &str,
    this: Option<&EndpointId>,
) -> Result<(), ApiError> {
    match state.store.get_endpoint(app, uid).await? {
        Some(other) if Some(&other.id) != this => Err(ApiError::Conflict(
            "an endpoint with this uid already exists".into(),
        )),
        _ => Ok(()),
    }
}

/// Validates the settings of a create or replace; lists come back without duplicates.
fn check_settings(mut settings: EndpointUpdate) -> Result<EndpointUpdate, ApiError> {
    check_url(&settings.url)?;
    if let Some(types) = settings.event_types.take() {
        let loc = ["body", "eventTypes"];
        settings.event_types = Some(check_name_list(&loc, types, EVENT_TYPE_MAX, usize::MAX)?);
    }
    if let Some(channels) = settings.channels.take() {
        let loc = ["body", "channels"];
        let max = MAX_ENDPOINT_CHANNELS;
        settings.channels = Some(check_name_list(&loc, channels, CHANNEL_MAX, max)?);
    }
    if let Some(rate) = settings.throttle_rate {
        check_throttle_rate(&["body", "throttleRate"], rate)?;
    }
    if let Some(uid) = &settings.uid {
        check_uid(&["body", "uid"], uid)?;
    }
    Ok(settings)
}

fn check_list_patch(
    patch: Patch<Vec<String>>,
    field: &str,
    max_len: usize,
    max_items: usize,
) -> Result<Patch<Vec<String>>, ApiError> {
    match patch {
        Patch::Value(values) => {
            check_name_list(&["body", field], values, max_len, max_items).map(Patch::Value)
        }
        other => Ok(other),
    }
}

fn check_url(url: &str) -> Result<(), ApiError> {
    let loc = ["body", "url"];
    let parsed =
        url::Url::parse(url).map_err(|e| ApiError::invalid(&loc, format!("not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ApiError::invalid(&loc, "the scheme must be http or https"));
    }
    if parsed.host().is_none() {
        return Err(ApiError::invalid(&loc, "must have a host"));
    }
    Ok(())
}

/// A uid follows the name rules and must not look like an id: lookups try the id first, so
/// such a uid could name another endpoint.
fn check_uid(loc: &[&str], uid: &str) -> Result<(), ApiError> {
    check_name(loc, uid, UID_MAX)?;
    if EndpointId::parse(uid).is_some() {
        return Err(ApiError::invalid(
            loc,
            "must not have the form of an endpoint id",
        ));
    }
    Ok(())
}

/// Writes a create or replace body onto the endpoint. A body without `uid` keeps the current.
fn apply_settings(endpoint: &mut Endpoint, settings: EndpointUpdate) {
    endpoint.url = settings.url;
    endpoint.description = settings.description;
    endpoint.disabled = settings.disabled;
    endpoint.event_types = settings.event_types;
    endpoint.channels = settings.channels;
    endpoint.rate_limit = settings.throttle_rate;
    endpoint.metadata = settings.metadata;
    if settings.uid.is_some() {
        endpoint.uid = settings.uid;
    }
}

fn endpoint_out(endpoint: &Endpoint) -> EndpointOut {
    EndpointOut {
        id: endpoint.id.to_string(),
        uid: endpoint.uid.clone(),
        url: endpoint.url.clone(),
        description: endpoint.description.clone(),
        disabled: endpoint.disabled,
        event_types: endpoint.event_types.clone(),
        channels: endpoint.channels.clone(),
        throttle_rate: endpoint.rate_limit,
        metadata: endpoint.metadata.clone(),
        created_at: hookd_api::timestamp::format_millis(endpoint.created_at.as_millis()),
        updated_at: hookd_api::timestamp::format_millis(endpoint.updated_at.as_millis()),
    }
}
