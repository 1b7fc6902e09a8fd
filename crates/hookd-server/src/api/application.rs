//! Applications (`/app`, `/app/{app_id}`): list, create, get, replace, patch, delete; and the
//! lookup every `/app/{app_id}/...` handler starts with.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use hookd_api::{ApplicationIn, ApplicationOut, ApplicationPatch, ListResponse};
use hookd_core::name::UID_MAX;
use hookd_core::{AppId, Application};
use hookd_store::{Ordering, StoreError};

use crate::api::extract::{Json, Path, QueryParams, check_name, list_out};
use crate::api::{ApiError, Caller};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app", get(list_applications).post(create_application))
        .route(
            "/app/{app_id}",
            get(get_application)
                .put(replace_application)
                .patch(patch_application)
                .delete(delete_application),
        )
}

/// The application a path names by id or uid, if this caller may reach it.
pub(super) async fn find_application(
    state: &AppState,
    caller: &Caller,
    id_or_uid: &str,
) -> Result<Application, ApiError> {
    let app = state
        .store
        .get_application(id_or_uid)
        .await?
        .ok_or(ApiError::NotFound("application"))?;
    caller.check_app(&app.id)?;
    Ok(app)
}

/// Creates the application a message body carries when its path names none yet. A path value
/// that is not an `app_` id becomes the new application's uid, so the next message to the same
/// path finds it.
pub(super) async fn create_for_message(
    state: &AppState,
    caller: &Caller,
    path_value: &str,
    body: ApplicationIn,
) -> Result<Application, ApiError> {
    caller.check_admin()?;
    check_application_in(&body, &["body", "application"])?;
    let uid = match AppId::parse(path_value) {
        Some(_) => body.uid.clone(),
        None => {
            check_uid(&["path", "app_id"], path_value)?;
            Some(path_value.to_owned())
        }
    };
    let app = new_application(state, body, uid);
    match state.store.insert_application(&app).await {
        Ok(()) => Ok(app),
        // Another request took the uid in the meantime: send to that application.
        Err(StoreError::Conflict(_)) => {
            find_application(state, caller, app.uid.as_deref().unwrap_or(path_value)).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn list_applications(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> Result<Json<ListResponse<ApplicationOut>>, ApiError> {
    caller.check_admin()?;
    // Oldest first, as Svix lists applications.
    let page = query.page(Ordering::Ascending, |s| AppId::parse(s).is_some())?;
    let page = state.store.list_applications(&page).await?;
    Ok(Json(list_out(page, |app| Ok(application_out(&app)))?))
}

async fn create_application(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
    Json(body): Json<ApplicationIn>,
) -> Result<(StatusCode, Json<ApplicationOut>), ApiError> {
    caller.check_admin()?;
    let get_if_exists = query.flag("get_if_exists", false)?;
    check_application_in(&body, &["body"])?;
    let existing = match &body.uid {
        Some(uid) => state.store.get_application(uid).await?,
        None => None,
    };
    if let Some(existing) = existing {
        if get_if_exists {
            return Ok((StatusCode::OK, Json(application_out(&existing))));
        }
        let msg = "an application with this uid already exists";
        return Err(ApiError::Conflict(msg.into()));
    }
    let uid = body.uid.clone();
    let app = new_application(&state, body, uid);
    state.store.insert_application(&app).await?;
    Ok((StatusCode::CREATED, Json(application_out(&app))))
}

async fn get_application(
    State(state): State<AppState>,
    caller: Caller,
    Path(app_id): Path<String>,
) -> Result<Json<ApplicationOut>, ApiError> {
    let app = find_application(&state, &caller, &app_id).await?;
    Ok(Json(application_out(&app)))
}

/// Replaces the application, or creates it with the path value as its uid (201). A body
/// without `uid` keeps the current one, so repeating a PUT to `/app/{uid}` stays an update.
async fn replace_application(
    State(state): State<AppState>,
    caller: Caller,
    Path(app_id): Path<String>,
    Json(body): Json<ApplicationIn>,
) -> Result<(StatusCode, Json<ApplicationOut>), ApiError> {
    check_application_in(&body, &["body"])?;
    let Some(mut app) = state.store.get_application(&app_id).await? else {
        caller.check_admin()?;
        // An id we never issued cannot be created at will; only a uid can.
        if AppId::parse(&app_id).is_some() {
            return Err(ApiError::NotFound("application"));
        }
        check_uid(&["path", "app_id"], &app_id)?;
        let app = new_application(&state, body, Some(app_id));
        state.store.insert_application(&app).await?;
        return Ok((StatusCode::CREATED, Json(application_out(&app))));
    };
    caller.check_app(&app.id)?;
    app.name = body.name;
    app.rate_limit = body.throttle_rate;
    app.metadata = body.metadata;
    if body.uid.is_some() {
        app.uid = body.uid;
    }
    app.updated_at = state.clock.now();
    state.store.update_application(&app).await?;
    state.app_ids.clear();
    Ok((StatusCode::OK, Json(application_out(&app))))
}

async fn patch_application(
    State(state): State<AppState>,
    caller: Caller,
    Path(app_id): Path<String>,
    Json(body): Json<ApplicationPatch>,
) -> Result<Json<ApplicationOut>, ApiError> {
    let mut app = find_application(&state, &caller, &app_id).await?;
    if let Some(name) = body.name {
        check_app_name(&["body", "name"], &name)?;
        app.name = name;
    }
    if let hookd_api::Patch::Value(rate) = body.throttle_rate {
        check_throttle_rate(&["body", "throttleRate"], rate)?;
    }
    app.rate_limit = body.throttle_rate.apply(app.rate_limit);
    if let hookd_api::Patch::Value(uid) = &body.uid {
        check_uid(&["body", "uid"], uid)?;
    }
    app.uid = body.uid.apply(app.uid);
    if let Some(metadata) = body.metadata {
        app.metadata = metadata;
    }
    app.updated_at = state.clock.now();
    state.store.update_application(&app).await?;
    state.app_ids.clear();
    Ok(Json(application_out(&app)))
}

async fn delete_application(
    State(state): State<AppState>,
    caller: Caller,
    Path(app_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let app = find_application(&state, &caller, &app_id).await?;
    let deleted = state.store.delete_application(&app.id).await?;
    state.app_ids.clear();
    if !deleted {
        return Err(ApiError::NotFound("application"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Checks an `ApplicationIn` found at `at` (`["body"]`, or `["body", "application"]` inside a
/// message).
fn check_application_in(body: &ApplicationIn, at: &[&str]) -> Result<(), ApiError> {
    let loc = |field: &'static str| [at, &[field][..]].concat();
    check_app_name(&loc("name"), &body.name)?;
    if let Some(rate) = body.throttle_rate {
        check_throttle_rate(&loc("throttleRate"), rate)?;
    }
    if let Some(uid) = &body.uid {
        check_uid(&loc("uid"), uid)?;
    }
    Ok(())
}

fn check_app_name(loc: &[&str], name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() {
        return Err(ApiError::invalid(loc, "must not be empty"));
    }
    Ok(())
}

pub(super) fn check_throttle_rate(loc: &[&str], rate: u16) -> Result<(), ApiError> {
    if rate == 0 {
        return Err(ApiError::invalid(loc, "must be at least 1 when set"));
    }
    Ok(())
}

/// A uid follows the name rules and must not look like an id: lookups try the id first, so
/// such a uid could name another application.
fn check_uid(loc: &[&str], uid: &str) -> Result<(), ApiError> {
    check_name(loc, uid, UID_MAX)?;
    if AppId::parse(uid).is_some() {
        return Err(ApiError::invalid(
            loc,
            "must not have the form of an application id",
        ));
    }
    Ok(())
}

fn new_application(state: &AppState, body: ApplicationIn, uid: Option<String>) -> Application {
    let now = state.clock.now();
    Application {
        id: state.ids.new_app_id(),
        uid,
        name: body.name,
        rate_limit: body.throttle_rate,
        metadata: body.metadata,
        created_at: now,
        updated_at: now,
    }
}

fn application_out(app: &Application) -> ApplicationOut {
    ApplicationOut {
        id: app.id.to_string(),
        uid: app.uid.clone(),
        name: app.name.clone(),
        throttle_rate: app.rate_limit,
        metadata: app.metadata.clone(),
        created_at: hookd_api::timestamp::format_millis(app.created_at.as_millis()),
        updated_at: hookd_api::timestamp::format_millis(app.updated_at.as_millis()),
    }
}
