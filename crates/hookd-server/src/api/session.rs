//! `GET /auth/session` (hookd's own): what the calling token may reach, so that the web UI
//! knows which application a portal token opens and whether it may change anything.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use hookd_api::SessionOut;
use hookd_api::timestamp::format_millis;

use crate::api::extract::Json;
use crate::api::{ApiError, Caller};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/auth/session", get(session))
}

async fn session(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<SessionOut>, ApiError> {
    let app = match caller.scope.app() {
        Some(id) => Some(
            state
                .store
                .get_application(id.as_str())
                .await?
                .ok_or(ApiError::NotFound("application"))?,
        ),
        None => None,
    };
    Ok(Json(SessionOut {
        admin: app.is_none(),
        app_id: app.as_ref().map(|a| a.id.to_string()),
        app_uid: app.as_ref().and_then(|a| a.uid.clone()),
        app_name: app.map(|a| a.name),
        read_only: caller.scope.is_read_only(),
        expires_at: caller.expires_at.map(|at| format_millis(at.as_millis())),
    }))
}
