//! The `axum` extractor (feature `axum`): [`Webhook`] reads the raw body, verifies it, and
//! answers hookd's ownership challenge, so a handler only ever sees verified events.
//!
//! ```no_run
//! use axum::{Router, http::StatusCode, routing::any};
//! use hookd_receiver::axum::{Webhook, WebhookConfig};
//! use hookd_receiver::{Secret, Verifier};
//!
//! async fn on_event(webhook: Webhook) -> StatusCode {
//!     println!("{} {}", webhook.id, String::from_utf8_lossy(&webhook.body));
//!     StatusCode::NO_CONTENT
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = Secret::parse(&std::env::var("HOOKD_SECRET")?)?;
//! // `any`: the challenge comes as a GET, events as POSTs; the extractor answers the GET.
//! let app = Router::new()
//!     .route("/webhooks", any(on_event))
//!     .with_state(WebhookConfig::new(Verifier::new(secret)));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
//!
//! A state of your own works too: implement `FromRef<YourState> for WebhookConfig`. The body
//! limit is axum's (`DefaultBodyLimit`, 2 MB unless you change it).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use ::axum::body::Bytes;
use ::axum::extract::rejection::BytesRejection;
use ::axum::extract::{FromRef, FromRequest, Request};
use ::axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use ::axum::response::{IntoResponse, Response};

use crate::{
    Headers, Verifier, VerifyError, answer_challenge, challenge_from_query, verify_challenge,
};

/// Which ownership challenges the extractor answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenges {
    /// Only challenges signed with one of the verifier's keys: the endpoint was created with the
    /// secret this receiver holds (`"secret"` in the create call, or `hookd listen`). The default.
    Signed,
    /// Every challenge, unchecked: consent to any hookd given this URL. Needed when the server
    /// generates the secret, which the receiver learns only after the endpoint exists.
    Any,
}

/// What the extractor needs from the router's state: the verifier and the challenge policy.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    verifier: Arc<Verifier>,
    challenges: Challenges,
}

impl WebhookConfig {
    pub fn new(verifier: Verifier) -> WebhookConfig {
        WebhookConfig {
            verifier: Arc::new(verifier),
            challenges: Challenges::Signed,
        }
    }

    pub fn challenges(self, challenges: Challenges) -> WebhookConfig {
        WebhookConfig { challenges, ..self }
    }

    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }
}

/// A delivery whose signature and timestamp checked out.
#[derive(Debug, Clone)]
pub struct Webhook {
    /// `webhook-id`: the same on every attempt of a message; deduplicate on it.
    pub id: String,
    /// `webhook-timestamp`: when this attempt was signed, unix seconds.
    pub timestamp: i64,
    /// The raw body, exactly as signed. Parse it as JSON yourself.
    pub body: Bytes,
}

/// Why the extractor did not produce a [`Webhook`], as a response to send back.
///
/// [`WebhookRejection::Challenge`] is not a failure: it carries the answer to an ownership
/// challenge, a 200 with the token. Take `Result<Webhook, WebhookRejection>` to see every
/// rejection (to log it), and return it to answer as the extractor would have.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookRejection {
    #[error("ownership challenge answered")]
    Challenge(String),
    #[error("ownership challenge refused: {0}")]
    ChallengeRefused(#[source] VerifyError),
    #[error("a GET without a `challenge` parameter is neither a challenge nor a webhook")]
    NotAWebhook,
    #[error("the body could not be read: {0}")]
    Body(#[source] BytesRejection),
    #[error("webhook rejected: {0}")]
    Unverified(#[source] VerifyError),
}

impl WebhookRejection {
    /// True for the answer to an ownership challenge, which is no failure.
    pub fn is_challenge(&self) -> bool {
        matches!(self, WebhookRejection::Challenge(_))
    }
}

impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        let status = match &self {
            WebhookRejection::Challenge(token) => {
                let headers = [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/plain; charset=utf-8"),
                    ),
                    (
                        header::X_CONTENT_TYPE_OPTIONS,
                        HeaderValue::from_static("nosniff"),
                    ),
                ];
                return (StatusCode::OK, headers, answer_challenge(token)).into_response();
            }
            WebhookRejection::Body(rejection) => rejection.status(),
            WebhookRejection::NotAWebhook => StatusCode::BAD_REQUEST,
            WebhookRejection::ChallengeRefused(_) | WebhookRejection::Unverified(_) => {
                StatusCode::UNAUTHORIZED
            }
        };
        (status, self.to_string()).into_response()
    }
}

impl<S> FromRequest<S> for Webhook
where
    WebhookConfig: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebhookRejection;

    async fn from_request(request: Request, state: &S) -> Result<Webhook, WebhookRejection> {
        let config = WebhookConfig::from_ref(state);
        if request.method() == Method::GET || request.method() == Method::HEAD {
            return Err(challenge(&config, request.headers(), request.uri().query()));
        }
        let headers = request.headers().clone();
        let body = Bytes::from_request(request, state)
            .await
            .map_err(WebhookRejection::Body)?;
        let signed = signed_headers(&headers).map_err(WebhookRejection::Unverified)?;
        config
            .verifier
            .verify(&signed, &body, now_unix())
            .map_err(WebhookRejection::Unverified)?;
        Ok(Webhook {
            id: signed.id.to_owned(),
            // verify accepted it, so it is a valid unix time.
            timestamp: signed.timestamp.parse().unwrap_or_default(),
            body,
        })
    }
}

/// The rejection that answers (or refuses) a GET.
fn challenge(config: &WebhookConfig, headers: &HeaderMap, query: Option<&str>) -> WebhookRejection {
    let Some(token) = query.and_then(challenge_from_query) else {
        return WebhookRejection::NotAWebhook;
    };
    if config.challenges == Challenges::Signed {
        let checked = signed_headers(headers)
            .and_then(|signed| verify_challenge(&config.verifier, &signed, &token, now_unix()));
        if let Err(e) = checked {
            return WebhookRejection::ChallengeRefused(e);
        }
    }
    WebhookRejection::Challenge(token)
}

fn signed_headers(headers: &HeaderMap) -> Result<Headers<'_>, VerifyError> {
    Headers::from_lookup(|name| headers.get(name).and_then(|value| value.to_str().ok()))
}

fn now_unix() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX)
}
