//! The endpoint ownership challenge: before hookd stores an endpoint (or a new URL for one), it
//! asks the URL to echo a one-time token, so nobody can point webhooks at a server that did not
//! agree to receive them.
//!
//! `GET <url>?challenge=<token>` carries Standard Webhooks headers whose signed payload is the
//! token, so a receiver that already holds the secret can check that hookd is asking. The answer
//! must be a 2xx whose body is the token (whitespace trimmed) or `{"challenge": "<token>"}`.

use std::time::Duration;

use base64::Engine;
use hookd_core::{FailureReason, Timestamp};
use hookd_receiver::{CHALLENGE_ID_PREFIX, CHALLENGE_PARAM};
use http::Method;
use http::header::{ACCEPT, HeaderMap, HeaderValue};
use rand::RngCore;

use crate::config::{Config, EndpointVerification};
use crate::outbound::{Failed, Outbound, Request};
use crate::worker::signature_headers;

/// The most of a challenge answer hookd reads.
const ANSWER_CAP: usize = 4096;

/// Why an endpoint did not pass the challenge; the text goes to the API caller as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeFailure {
    #[error("endpoint verification failed: the secret is not valid")]
    BadSecret,
    #[error("endpoint verification failed: {0}")]
    NotAllowed(String),
    #[error("endpoint verification failed: DNS lookup failed: {0}")]
    Dns(String),
    #[error("endpoint verification failed: connection failed: {0}")]
    Connect(String),
    #[error("endpoint verification failed: TLS failed: {0}")]
    Tls(String),
    #[error("endpoint verification failed: no answer within {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    #[error(
        "endpoint verification failed: the URL redirected ({status}{}); hookd does not follow redirects",
        location.as_deref().map(|l| format!(" to {l}")).unwrap_or_default()
    )]
    Redirect {
        status: u16,
        location: Option<String>,
    },
    #[error("endpoint verification failed: the URL answered status {0}; expected 2xx")]
    Status(u16),
    #[error(
        "endpoint verification failed: the response body did not echo the challenge \
         (it answered {0}; expected the token from the `challenge` query parameter, as plain \
         text or {{\"challenge\": \"...\"}})"
    )]
    WrongAnswer(String),
}

impl ChallengeFailure {
    fn from_failed(failed: Failed, timeout: Duration) -> ChallengeFailure {
        match failed.reason {
            FailureReason::Blocked => ChallengeFailure::NotAllowed(failed.detail),
            FailureReason::Dns => ChallengeFailure::Dns(failed.detail),
            FailureReason::Tls => ChallengeFailure::Tls(failed.detail),
            FailureReason::Timeout => ChallengeFailure::Timeout(timeout),
            FailureReason::Connect | FailureReason::Status => {
                ChallengeFailure::Connect(failed.detail)
            }
        }
    }
}

/// Proves that whoever answers at `url` consents to receive webhooks, unless the operator
/// turned the check off: runs the challenge, signing with `secret` as of `now`.
pub async fn verify_endpoint(
    config: &Config,
    outbound: &Outbound,
    now: Timestamp,
    url: &str,
    secret: &str,
) -> Result<(), ChallengeFailure> {
    if config.endpoint_verification == EndpointVerification::Off {
        return Ok(());
    }
    let timeout = config.challenge_timeout;
    let secrets = [secret.to_owned()];
    let mut target = outbound
        .vet_url(url)
        .map_err(|f| ChallengeFailure::from_failed(f, timeout))?;
    let token = new_challenge_token();
    target
        .query_pairs_mut()
        .append_pair(CHALLENGE_PARAM, &token);

    let id = format!("{CHALLENGE_ID_PREFIX}{}", new_challenge_token());
    let timestamp = now.as_unix_seconds();
    let signature = crate::signing::sign_all(&secrets, &id, timestamp, token.as_bytes())
        .map_err(|_| ChallengeFailure::BadSecret)?;
    let mut headers = HeaderMap::new();
    signature_headers(
        &mut headers,
        config.signature_headers,
        &id,
        timestamp,
        &signature,
    );
    headers.insert(
        ACCEPT,
        HeaderValue::from_static("text/plain, application/json"),
    );

    let answer = outbound
        .send(Request {
            method: Method::GET,
            url: target,
            headers,
            body: None,
            timeout,
            body_cap: ANSWER_CAP,
        })
        .await
        .map_err(|f| ChallengeFailure::from_failed(f, timeout))?;
    match answer.status {
        200..=299 if echoes(&answer.body, &token) => Ok(()),
        200..=299 => Err(ChallengeFailure::WrongAnswer(quote_answer(&answer.body))),
        status @ 300..=399 => Err(ChallengeFailure::Redirect {
            status,
            location: answer.location,
        }),
        status => Err(ChallengeFailure::Status(status)),
    }
}

/// A one-time challenge token: 32 random bytes, URL-safe base64 (43 characters).
fn new_challenge_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The start of what a URL answered, quoted for the caller: enough to see what it sent.
fn quote_answer(body: &str) -> String {
    const SHOWN: usize = 120;
    let body = body.trim();
    if body.is_empty() {
        return "an empty body".to_owned();
    }
    let mut shown: String = body.chars().take(SHOWN).collect();
    if shown.len() < body.len() {
        shown.push_str("...");
    }
    format!("{shown:?}")
}

/// True if `body` is the token, bare or as `{"challenge": token}`.
fn echoes(body: &str, token: &str) -> bool {
    let body = body.trim();
    if body == token {
        return true;
    }
    #[derive(serde::Deserialize)]
    struct Echo {
        challenge: String,
    }
    serde_json::from_str::<Echo>(body).is_ok_and(|echo| echo.challenge == token)
}

#[cfg(test)]
mod tests {
    use super::{echoes, quote_answer};

    #[test]
    fn a_wrong_answer_is_quoted_and_cut() {
        assert_eq!(quote_answer("  "), "an empty body");
        assert_eq!(quote_answer("ok"), "\"ok\"");
        let long = "x".repeat(500);
        assert_eq!(quote_answer(&long), format!("\"{}...\"", "x".repeat(120)));
    }

    #[test]
    fn an_echo_is_the_bare_token_or_a_json_object() {
        assert!(echoes("tok\n", "tok"));
        assert!(echoes(" {\"challenge\": \"tok\"} ", "tok"));
        assert!(!echoes("tok2", "tok"));
        assert!(!echoes("{\"challenge\": \"nope\"}", "tok"));
        assert!(!echoes("", "tok"));
    }
}
