//! The web UI: the customer portal (`/portal`) a provider embeds for its customers, and the
//! operator console (`/console`; `/` leads there). Both are static pages and ES modules
//! embedded in the binary (`assets.rs`); they talk only to `/api/v1` with a bearer token, so
//! they can do exactly what the token can do through the API and nothing more.
//!
//! Every answer carries a strict Content-Security-Policy (`headers.rs`): scripts and styles
//! from this origin only, no inline code, no eval, nothing from another origin.

mod assets;
mod headers;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::state::AppState;
use assets::Asset;
use headers::Framing;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route("/portal", get(portal))
        .route("/console", get(console))
        .route("/ui/{*file}", get(file))
}

async fn portal(State(state): State<AppState>, request: HeaderMap) -> Response {
    page(&state, &request, "portal.html", Framing::Portal)
}

async fn console(State(state): State<AppState>, request: HeaderMap) -> Response {
    page(&state, &request, "console.html", Framing::Never)
}

/// The scripts and styles are framed with the portal, so they may be loaded where it is.
async fn file(
    State(state): State<AppState>,
    request: HeaderMap,
    Path(file): Path<String>,
) -> Response {
    if file.ends_with(".html") {
        return StatusCode::NOT_FOUND.into_response();
    }
    page(&state, &request, &file, Framing::Portal)
}

fn page(state: &AppState, request: &HeaderMap, path: &str, framing: Framing) -> Response {
    let Some(asset) = assets::find(path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let policy = headers::policy(framing, &state.config.portal_frame_ancestors);
    if not_modified(request, asset) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        headers::secure(response.headers_mut(), &policy, asset);
        return response;
    }
    let mut response = asset.body.into_response();
    headers::secure(response.headers_mut(), &policy, asset);
    response
}

fn not_modified(request: &HeaderMap, asset: &Asset) -> bool {
    request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == asset.etag()))
}
