//! Authentication (`/auth/...`): `app-portal-access`, which mints a token that reaches one
//! application only, and `logout`, which ends the token that calls it.
//!
//! The portal URL points at `/portal` on this server (the web UI, `crate::ui`), the token in
//! its fragment (never sent to a server or written to its logs). The token works with the API
//! and the SDKs as well.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use hookd_api::{AppPortalAccessIn, AppPortalAccessOut};
use hookd_store::TokenScope;

use crate::api::application::create_for_message;
use crate::api::extract::{Json, Path};
use crate::api::{ApiError, Caller};
use crate::state::AppState;
use crate::token;

/// How long a portal token works unless the request says: 7 days, as Svix.
const DEFAULT_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);
const EXPIRY_SECONDS: std::ops::RangeInclusive<u64> = 3600..=7 * 24 * 3600;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/app-portal-access/{app_id}", post(app_portal_access))
        .route("/auth/logout", post(logout))
}

/// Admin only. Creates the application from `application` when the path names none yet.
async fn app_portal_access(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(app_id): Path<String>,
    Json(body): Json<AppPortalAccessIn>,
) -> Result<Json<AppPortalAccessOut>, ApiError> {
    caller.check_admin()?;
    let expiry = match body.expiry {
        None => DEFAULT_EXPIRY,
        Some(seconds) if EXPIRY_SECONDS.contains(&seconds) => Duration::from_secs(seconds),
        Some(_) => {
            let msg = "must be between 3600 (1 hour) and 604800 (7 days) seconds";
            return Err(ApiError::invalid(&["body", "expiry"], msg));
        }
    };
    let app = match state.store.get_application(&app_id).await? {
        Some(app) => app,
        None => match body.application {
            Some(app_in) => create_for_message(&state, &caller, &app_id, app_in).await?,
            None => return Err(ApiError::NotFound("application")),
        },
    };
    let now = state.clock.now();
    let scope = match body.read_only {
        Some(true) => TokenScope::ApplicationReadOnly(app.id),
        _ => TokenScope::Application(app.id),
    };
    let until = Some(now.saturating_add(expiry));
    let token = token::create_until(state.store.as_ref(), scope, now, until).await?;
    let url = format!("{}/portal#token={token}", base_url(&headers, &state));
    Ok(Json(AppPortalAccessOut { token, url }))
}

/// 204; the token that made the call no longer works.
/// Ends an app-portal token. Admin tokens are refused, as Svix refuses to log out anything but
/// app tokens: an admin token would otherwise end by one stray call.
async fn logout(State(state): State<AppState>, caller: Caller) -> Result<StatusCode, ApiError> {
    if caller.check_admin().is_ok() {
        let why = "only app-portal tokens can log out; an admin token stays valid";
        return Err(ApiError::BadRequest(why.into()));
    }
    state.store.delete_token(&caller.token_hash).await?;
    state.tokens.forget(&caller.token_hash);
    Ok(StatusCode::NO_CONTENT)
}

/// This server as the caller reached it: the `Host` it asked for (`https` when a proxy says
/// so), or the listen address.
fn base_url(headers: &HeaderMap, state: &AppState) -> String {
    let value = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let scheme = match value("x-forwarded-proto") {
        Some(proto) if proto.eq_ignore_ascii_case("https") => "https",
        _ => "http",
    };
    match value(header::HOST.as_str()) {
        Some(host) => format!("{scheme}://{host}"),
        None => format!("{scheme}://{}", state.config.listen),
    }
}
