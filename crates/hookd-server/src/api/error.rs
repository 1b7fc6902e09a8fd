//! ApiError: every way a request can fail, mapped to its status and Svix error body in one place.
//!
//! | status | body `code` | when |
//! |---|---|---|
//! | 400 | `bad_request` | the request is well-formed JSON but cannot be carried out |
//! | 400 | `endpoint_verification_failed` | the endpoint did not pass the ownership challenge |
//! | 400 | `missing_payload` | the message's payload was removed (expunged or expired): it cannot be sent again |
//! | 401 | `authentication_failed` | missing or unknown bearer token |
//! | 403 | `forbidden` | the token may not reach this application, or may only read it |
//! | 404 | `not_found` | unknown application, endpoint, message or attempt |
//! | 409 | `conflict` | a uid or event id is taken |
//! | 413 | `payload_too_large` | the body is over `max_payload_bytes` |
//! | 422 | (validation list) | a field is missing, has the wrong type or breaks its rule |
//! | 422 | `idempotency_key_reused` | the `idempotency-key` was sent before with another request (a validation body at `["header", "idempotency-key"]`, as SDKs read every 422, with the code beside it) |
//! | 500 | `server_error` | hookd itself broke; the cause is logged, not sent |

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hookd_api::{HttpErrorOut, ValidationError, ValidationErrorItem};
use hookd_store::StoreError;

use crate::error_chain::error_chain;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    VerificationFailed(String),
    #[error(
        "the message's payload was removed (expunged or past its retention): it cannot be sent again"
    )]
    MissingPayload,
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("this token may not reach that application")]
    Forbidden,
    #[error("this token is read-only: it may look, not change anything")]
    ReadOnly,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("validation failed")]
    Validation(Vec<ValidationErrorItem>),
    #[error(
        "this idempotency-key was used before with another request (method, path or body): \
         use a new key for a new request"
    )]
    KeyReused,
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// A 422 for one field: `loc` is the path to it, e.g. `["body", "url"]`.
    pub fn invalid(loc: &[&str], msg: impl Into<String>) -> ApiError {
        ApiError::Validation(vec![ValidationErrorItem {
            loc: loc.iter().map(|s| s.to_string()).collect(),
            msg: msg.into(),
            r#type: "value_error".into(),
        }])
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::VerificationFailed(_) => {
                (StatusCode::BAD_REQUEST, "endpoint_verification_failed")
            }
            ApiError::MissingPayload => (StatusCode::BAD_REQUEST, "missing_payload"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "authentication_failed"),
            ApiError::Forbidden | ApiError::ReadOnly => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation"),
            ApiError::KeyReused => (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => ApiError::Conflict(format!("{what} already exists")),
            StoreError::NotFound(what) => ApiError::NotFound(what),
            StoreError::KeyReused => ApiError::KeyReused,
            StoreError::KeyInProgress => ApiError::Conflict(
                "a request with this idempotency-key is still running; try again later".into(),
            ),
            other => ApiError::Internal(Box::new(other)),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        match self {
            ApiError::Validation(items) => {
                (status, Json(ValidationError { detail: items })).into_response()
            }
            ApiError::KeyReused => {
                let item = ValidationErrorItem {
                    loc: vec!["header".into(), "idempotency-key".into()],
                    msg: ApiError::KeyReused.to_string(),
                    r#type: code.into(),
                };
                let body = serde_json::json!({ "code": code, "detail": [item] });
                (status, Json(body)).into_response()
            }
            ApiError::Internal(cause) => {
                tracing::error!(error = %error_chain(cause.as_ref()), "request failed");
                let body = HttpErrorOut {
                    code: code.into(),
                    detail: "internal server error".into(),
                };
                (status, Json(body)).into_response()
            }
            other => {
                let body = HttpErrorOut {
                    code: code.into(),
                    detail: other.to_string(),
                };
                (status, Json(body)).into_response()
            }
        }
    }
}
