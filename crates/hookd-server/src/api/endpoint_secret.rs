//! An endpoint's signing secret (`/app/{app_id}/endpoint/{endpoint_id}/secret`): read it, and
//! rotate it with a grace period during which the old one signs too.
//!
//! The secret is `whsec_...` (HMAC, `v1`) or `whsk_...` (ed25519, `v1a`); an ed25519
//! endpoint's owner is shown only its public key, `whpk_...`, which verifies but cannot sign.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use hookd_api::{EndpointSecretOut, EndpointSecretRotateIn};
use hookd_core::SignatureType;
use hookd_core::endpoint::ED25519_SECRET_PREFIX;
use hookd_receiver::{SECRET_PREFIX, Secret, SigningKey};

use crate::api::application::find_application;
use crate::api::extract::{Json, Path};
use crate::api::lookup::find_endpoint;
use crate::api::{ApiError, Caller};
use crate::signing;
use crate::state::AppState;

/// How long a rotated-out secret signs when the request does not say: a day, as in Svix.
const DEFAULT_GRACE_SECONDS: u32 = 86_400;
/// The longest grace period: a week.
const MAX_GRACE_SECONDS: u32 = 604_800;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/app/{app_id}/endpoint/{endpoint_id}/secret",
            get(get_secret),
        )
        .route(
            "/app/{app_id}/endpoint/{endpoint_id}/secret/rotate",
            post(rotate_secret),
        )
}

async fn get_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path((app_id, endpoint_id)): Path<(String, String)>,
) -> Result<Json<EndpointSecretOut>, ApiError> {
    let app = find_application(&state, &caller, &app_id).await?;
    let endpoint = find_endpoint(&state, &app.id, &endpoint_id).await?;
    let key = signing::shown_key(&endpoint.secret).map_err(|e| ApiError::Internal(Box::new(e)))?;
    Ok(Json(EndpointSecretOut { key }))
}

/// The new secret (given, or generated of the endpoint's current type) signs from now on;
/// the old one also signs until the grace period ends.
///
/// 200 with the new key, where the spec says 204 without a body: the current `svix` SDKs
/// parse an `EndpointSecretOut` from this answer and fail on an empty one, and older SDKs,
/// which expect 204, ignore the body of any 2xx.
async fn rotate_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path((app_id, endpoint_id)): Path<(String, String)>,
    Json(body): Json<EndpointSecretRotateIn>,
) -> Result<Json<EndpointSecretOut>, ApiError> {
    let grace = body.grace_period_seconds.unwrap_or(DEFAULT_GRACE_SECONDS);
    if grace > MAX_GRACE_SECONDS {
        let msg = "must be between 0 and 604800 seconds";
        return Err(ApiError::invalid(&["body", "gracePeriodSeconds"], msg));
    }
    let new_secret = match &body.key {
        Some(key) => Some(parse_secret(&["body", "key"], key)?),
        None => None,
    };
    let app = find_application(&state, &caller, &app_id).await?;
    let endpoint = find_endpoint(&state, &app.id, &endpoint_id).await?;
    let new_secret =
        new_secret.unwrap_or_else(|| signing::new_secret(SignatureType::of(&endpoint.secret)));
    let now = state.clock.now();
    let grace_until = now.saturating_add(Duration::from_secs(u64::from(grace)));
    let rotated = state
        .store
        .rotate_endpoint_secret(&app.id, &endpoint.id, &new_secret, grace_until, now)
        .await?;
    if !rotated {
        return Err(ApiError::NotFound("endpoint"));
    }
    let key = signing::shown_key(&new_secret).map_err(|e| ApiError::Internal(Box::new(e)))?;
    Ok(Json(EndpointSecretOut { key }))
}

/// A secret given on create or rotate, as it will be stored: `whsec_` and padded base64
/// (HMAC), or a `whsk_` ed25519 signing key in its 64-byte form.
pub(super) fn parse_secret(loc: &[&str], secret: &str) -> Result<String, ApiError> {
    if secret.starts_with(ED25519_SECRET_PREFIX) {
        return SigningKey::parse(secret)
            .map(|key| key.to_whsk())
            .map_err(|e| ApiError::invalid(loc, e.to_string()));
    }
    if signing::is_public_key(secret) {
        let msg = "a whpk_ public key cannot sign: give the whsk_ signing key";
        return Err(ApiError::invalid(loc, msg));
    }
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    let well_formed = (32..=100).contains(&encoded.len())
        && encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    if !well_formed {
        let msg = "must be 32 to 100 base64 characters, optionally after `whsec_`, or a whsk_ key";
        return Err(ApiError::invalid(loc, msg));
    }
    Secret::parse(secret)
        .map(|key| key.to_whsec())
        .map_err(|e| ApiError::invalid(loc, e.to_string()))
}
