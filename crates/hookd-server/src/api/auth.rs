//! Auth: the `Caller` extractor checks the bearer token and says what it may reach.
//!
//! Architecture Invariant: a read-only token (a portal opened for viewing) is refused every
//! request but reads, here, before any handler runs: the web UI hides its buttons, but the API
//! is what holds to it.

use std::time::Instant;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use hookd_core::{AppId, Timestamp};
use hookd_store::TokenScope;

use crate::api::ApiError;
use crate::state::AppState;
use crate::token;

/// The authenticated caller of an `/api/v1` route.
#[derive(Clone, Debug)]
pub struct Caller {
    pub scope: TokenScope,
    /// The stored hash of the token presented: what logout deletes, and what idempotency keys
    /// belong to.
    pub token_hash: String,
    /// When the token stops working; `None`: never.
    pub expires_at: Option<Timestamp>,
}

impl Caller {
    /// Fails unless this caller may reach the application.
    pub fn check_app(&self, app: &AppId) -> Result<(), ApiError> {
        match self.scope.app() {
            None => Ok(()),
            Some(own) if own == app => Ok(()),
            Some(_) => Err(ApiError::Forbidden),
        }
    }

    /// Fails unless this caller is an admin (listing or creating applications, say).
    pub fn check_admin(&self) -> Result<(), ApiError> {
        match self.scope {
            TokenScope::Admin => Ok(()),
            TokenScope::Application(_) | TokenScope::ApplicationReadOnly(_) => {
                Err(ApiError::Forbidden)
            }
        }
    }
}

impl Caller {
    /// Checks the bearer token in `headers`: who calls, or why not.
    pub async fn authenticate(headers: &HeaderMap, state: &AppState) -> Result<Caller, ApiError> {
        let header = headers
            .get(AUTHORIZATION)
            .ok_or(ApiError::Unauthorized("missing Authorization header"))?;
        let value = header
            .to_str()
            .map_err(|_| ApiError::Unauthorized("invalid Authorization header"))?;
        let presented = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or(ApiError::Unauthorized(
                "expected 'Authorization: Bearer <token>'",
            ))?
            .trim();
        let token_hash = token::hash(presented);
        let record = match state.tokens.get(&token_hash, Instant::now()) {
            Some(record) => Some(record),
            None => {
                let found = state.store.find_token(&token_hash).await?;
                if let Some(record) = &found {
                    state
                        .tokens
                        .put(token_hash.clone(), record.clone(), Instant::now());
                }
                found
            }
        };
        let record = record
            .filter(|record| record.is_live(state.clock.now()))
            .ok_or(ApiError::Unauthorized("invalid token"))?;
        Ok(Caller {
            scope: record.scope,
            token_hash,
            expires_at: record.expires_at,
        })
    }
}

/// A middleware that authenticated the request already (idempotency) leaves the `Caller` in
/// the request's extensions; otherwise the token is checked here.
impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let caller = match parts.extensions.get::<Caller>() {
            Some(caller) => caller.clone(),
            None => Caller::authenticate(&parts.headers, state).await?,
        };
        if caller.scope.is_read_only() && !reads(&parts.method, parts.uri.path()) {
            return Err(ApiError::ReadOnly);
        }
        Ok(caller)
    }
}

/// What a read-only token may do: read, and end itself.
fn reads(method: &Method, path: &str) -> bool {
    method == Method::GET || method == Method::HEAD || path.ends_with("/auth/logout")
}
