//! An endpoint's custom headers (`/app/{app_id}/endpoint/{endpoint_id}/headers`), sent with
//! every delivery: read (sensitive values withheld), replace, patch (`null` removes one).
//!
//! Names hookd sets itself, and hop-by-hop names, are refused: a custom header must never
//! forge a signature header or break the framing of the request.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::routing::get;
use hookd_api::{EndpointHeadersIn, EndpointHeadersOut, EndpointHeadersPatchIn};

use crate::api::application::find_application;
use crate::api::extract::{Json, Path};
use crate::api::lookup::find_endpoint;
use crate::api::{ApiError, Caller};
use crate::state::AppState;

/// Names a custom header may not have (compared in lowercase).
const FORBIDDEN: &[&str] = &[
    "host",
    "content-length",
    "content-type",
    "content-encoding",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "expect",
    "user-agent",
];
/// Prefixes of the names hookd signs with.
const FORBIDDEN_PREFIXES: &[&str] = &["webhook-", "svix-"];
/// Headers whose values `GET` withholds, besides names holding one of `SENSITIVE_PARTS`.
const SENSITIVE: &[&str] = &["authorization", "cookie", "x-api-key"];
const SENSITIVE_PARTS: &[&str] = &["secret", "token", "key"];

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/app/{app_id}/endpoint/{endpoint_id}/headers",
        get(get_headers).put(replace_headers).patch(patch_headers),
    )
}

async fn get_headers(
    State(state): State<AppState>,
    caller: Caller,
    Path((app_id, endpoint_id)): Path<(String, String)>,
) -> Result<Json<EndpointHeadersOut>, ApiError> {
    let app = find_application(&state, &caller, &app_id).await?;
    let endpoint = find_endpoint(&state, &app.id, &endpoint_id).await?;
    let (sensitive, shown): (BTreeMap<_, _>, BTreeMap<_, _>) = endpoint
        .headers
        .into_iter()
        .partition(|(name, _)| is_sensitive(name));
    Ok(Json(EndpointHeadersOut {
        headers: shown,
        sensitive: sensitive.into_keys().collect(),
    }))
}

async fn replace_headers(
    State(state): State<AppState>,
    caller: Caller,
    Path((app_id, endpoint_id)): Path<(String, String)>,
    Json(body): Json<EndpointHeadersIn>,
) -> Result<StatusCode, ApiError> {
    let headers = check_headers(&["body", "headers"], body.headers)?;
    let app = find_application(&state, &caller, &app_id).await?;
    let endpoint = find_endpoint(&state, &app.id, &endpoint_id).await?;
    store_headers(&state, &endpoint, &headers).await
}

/// A value sets its header, replacing one of the same name in any case; `null` removes it.
async fn patch_headers(
    State(state): State<AppState>,
    caller: Caller,
    Path((app_id, endpoint_id)): Path<(String, String)>,
    Json(body): Json<EndpointHeadersPatchIn>,
) -> Result<StatusCode, ApiError> {
    let set: BTreeMap<String, String> = body
        .headers
        .iter()
        .filter_map(|(name, value)| Some((name.clone(), value.clone()?)))
        .collect();
    check_headers(&["body", "headers"], set)?;
    let app = find_application(&state, &caller, &app_id).await?;
    let endpoint = find_endpoint(&state, &app.id, &endpoint_id).await?;
    let mut headers = endpoint.headers.clone();
    for (name, value) in body.headers {
        headers.retain(|kept, _| !kept.eq_ignore_ascii_case(&name));
        if let Some(value) = value {
            headers.insert(name, value);
        }
    }
    store_headers(&state, &endpoint, &headers).await
}

async fn store_headers(
    state: &AppState,
    endpoint: &hookd_core::Endpoint,
    headers: &BTreeMap<String, String>,
) -> Result<StatusCode, ApiError> {
    let now = state.clock.now();
    let stored = state
        .store
        .set_endpoint_headers(&endpoint.app_id, &endpoint.id, headers, now)
        .await?;
    if !stored {
        return Err(ApiError::NotFound("endpoint"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// 422 at `loc` for a name hookd sets itself or that is not a valid header, a value that is
/// not valid, or two names that differ only in case.
pub(super) fn check_headers(
    loc: &[&str],
    headers: BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, ApiError> {
    let mut seen: Vec<String> = Vec::with_capacity(headers.len());
    for (name, value) in &headers {
        let lower = name.to_ascii_lowercase();
        let field: Vec<&str> = loc.iter().copied().chain([name.as_str()]).collect();
        if HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(ApiError::invalid(&field, "is not a valid header name"));
        }
        if HeaderValue::from_str(value).is_err() {
            return Err(ApiError::invalid(&field, "is not a valid header value"));
        }
        if FORBIDDEN.contains(&lower.as_str())
            || FORBIDDEN_PREFIXES.iter().any(|p| lower.starts_with(p))
        {
            return Err(ApiError::invalid(&field, "hookd sets this header itself"));
        }
        if seen.contains(&lower) {
            return Err(ApiError::invalid(
                &field,
                "is given twice, in different cases",
            ));
        }
        seen.push(lower);
    }
    Ok(headers)
}

fn is_sensitive(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SENSITIVE.contains(&lower.as_str()) || SENSITIVE_PARTS.iter().any(|p| lower.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_sensitive_and_ordinary_headers_are_not() {
        for name in [
            "Authorization",
            "cookie",
            "X-Api-Key",
            "X-Auth-Token",
            "My-Secret",
        ] {
            assert!(is_sensitive(name), "{name}");
        }
        assert!(!is_sensitive("X-Env"));
    }

    #[test]
    fn names_hookd_sets_are_refused_in_any_case() {
        for name in [
            "Host",
            "webhook-signature",
            "Svix-Id",
            "Transfer-Encoding",
            "bad name",
        ] {
            let headers = BTreeMap::from([(name.to_owned(), "x".to_owned())]);
            assert!(check_headers(&["body"], headers).is_err(), "{name}");
        }
        let ok = BTreeMap::from([("X-Env".to_owned(), "prod".to_owned())]);
        assert!(check_headers(&["body"], ok).is_ok());
    }
}
