//! Admin API tokens (`/token`, hookd's own, admin only): the console's list, create and revoke.
//!
//! A token is shown once, in the answer that made it; the store keeps its SHA-256 only. Tokens
//! are named in lists by `token::id`, a prefix of that hash.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use hookd_api::timestamp::format_millis;
use hookd_api::{ApiTokenCreatedOut, ApiTokenIn, ApiTokenOut, ListResponse};
use hookd_store::{TokenRecord, TokenScope, TokenSummary};

use crate::api::extract::{Json, Path};
use crate::api::{ApiError, Caller};
use crate::state::AppState;
use crate::token;

const NAME_MAX: usize = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/token", get(list_tokens).post(create_token))
        .route("/token/{token_id}", delete(revoke_token))
}

fn token_out(summary: &TokenSummary, caller: &Caller) -> ApiTokenOut {
    ApiTokenOut {
        id: token::id(&summary.hash),
        name: summary.name.clone(),
        created_at: format_millis(summary.created_at.as_millis()),
        current: summary.hash == caller.token_hash,
    }
}

async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ListResponse<ApiTokenOut>>, ApiError> {
    caller.check_admin()?;
    let tokens = state.store.list_admin_tokens().await?;
    Ok(Json(ListResponse {
        data: tokens.iter().map(|t| token_out(t, &caller)).collect(),
        iterator: None,
        prev_iterator: None,
        done: true,
    }))
}

async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<ApiTokenIn>,
) -> Result<(StatusCode, Json<ApiTokenCreatedOut>), ApiError> {
    caller.check_admin()?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        let msg = format!("must be 1 to {NAME_MAX} characters, none of them control characters");
        return Err(ApiError::invalid(&["body", "name"], msg));
    }
    let now = state.clock.now();
    let secret = token::generate(&TokenScope::Admin);
    let record = TokenRecord {
        hash: token::hash(&secret),
        scope: TokenScope::Admin,
        created_at: now,
        expires_at: None,
    };
    state.store.insert_named_token(&record, name).await?;
    let out = ApiTokenCreatedOut {
        id: token::id(&record.hash),
        name: Some(name.to_owned()),
        created_at: format_millis(now.as_millis()),
        token: secret,
    };
    Ok((StatusCode::CREATED, Json(out)))
}

/// 204. The last admin token cannot be revoked: nobody could sign in to make another.
async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(token_id_in): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.check_admin()?;
    let tokens = state.store.list_admin_tokens().await?;
    let found = tokens
        .iter()
        .find(|t| token::id(&t.hash) == token_id_in)
        .ok_or(ApiError::NotFound("token"))?;
    if tokens.len() == 1 {
        let why = "this is the only admin token: make another before revoking it";
        return Err(ApiError::Conflict(why.into()));
    }
    state.store.delete_token(&found.hash).await?;
    state.tokens.forget(&found.hash);
    Ok(StatusCode::NO_CONTENT)
}
