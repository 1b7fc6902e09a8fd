//! One delivery attempt: sign, POST, and turn what happened into an `Outcome` for the store.

use hookd_core::retry::Failure;
use hookd_core::{Attempt, AttemptStatus, FailureReason, TriggerType};
use hookd_store::{DueDelivery, NextStep, Outcome};
use http::Method;
use http::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use rand::Rng;

use crate::config::SignatureHeaders;
use crate::outbound::{Answer, Failed, Request};
use crate::state::AppState;

/// Svix keeps this much of a response body; so do we.
pub const RESPONSE_CAP: usize = 20_000;

/// Sets the id, timestamp and signature headers under the configured names.
pub fn signature_headers(
    headers: &mut HeaderMap,
    names: SignatureHeaders,
    id: &str,
    timestamp: i64,
    signature: &str,
) {
    const WEBHOOK: [&str; 3] = ["webhook-id", "webhook-timestamp", "webhook-signature"];
    const SVIX: [&str; 3] = ["svix-id", "svix-timestamp", "svix-signature"];
    let values = [
        HeaderValue::try_from(id),
        HeaderValue::try_from(timestamp.to_string()),
        HeaderValue::try_from(signature),
    ];
    let mut put = |names: [&'static str; 3]| {
        for (name, value) in names.into_iter().zip(&values) {
            if let Ok(value) = value {
                headers.insert(HeaderName::from_static(name), value.clone());
            }
        }
    };
    match names {
        SignatureHeaders::Webhook => put(WEBHOOK),
        SignatureHeaders::Svix => put(SVIX),
        SignatureHeaders::Both => {
            put(WEBHOOK);
            put(SVIX);
        }
    }
}

/// Makes one attempt at `due` and says where the delivery goes next.
pub async fn attempt(state: &AppState, due: &DueDelivery) -> Outcome {
    let started = state.now();
    let result = send(state, due, started.as_unix_seconds()).await;
    let attempts_made = due.attempts_made + 1;
    let (status_code, response, failure, duration) = match &result {
        Ok(answer) if (200..300).contains(&answer.status) => {
            (answer.status, answer.body.clone(), None, answer.elapsed)
        }
        Ok(answer) => {
            let failure = Failure {
                reason: FailureReason::Status,
                status: Some(answer.status),
                retry_after: answer.retry_after,
            };
            (
                answer.status,
                answer.body.clone(),
                Some(failure),
                answer.elapsed,
            )
        }
        Err(failed) => {
            let failure = Failure {
                reason: failed.reason,
                status: None,
                retry_after: None,
            };
            (
                0,
                format!("{}: {}", failed.reason.as_str(), failed.detail),
                Some(failure),
                state.now().since(started),
            )
        }
    };
    let next = match &failure {
        None => NextStep::Delivered,
        // A manual attempt (resend, recover) is one try, as in Svix: no retries follow it.
        Some(_) if due.trigger == TriggerType::Manual => NextStep::Exhausted,
        Some(failure) => {
            let random = rand::rng().random::<f64>();
            match state
                .config
                .retry
                .next_delay(attempts_made, failure, random)
            {
                Some(delay) => NextStep::RetryAt(state.now().saturating_add(delay)),
                None => NextStep::Exhausted,
            }
        }
    };
    let attempt = Attempt {
        id: state.new_attempt_id(),
        app_id: due.app_id.clone(),
        msg_id: due.msg_id.clone(),
        endpoint_id: due.endpoint_id.clone(),
        url: due.url.clone(),
        status: if failure.is_none() {
            AttemptStatus::Success
        } else {
            AttemptStatus::Fail
        },
        response_status_code: i16::try_from(status_code).unwrap_or(0),
        response,
        response_duration_ms: i64::try_from(duration.as_millis()).unwrap_or(i64::MAX),
        trigger: due.trigger,
        failure: failure.map(|f| f.reason),
        created_at: started,
    };
    let outcome = Outcome {
        delivery: due.id,
        attempt,
        next,
    };
    log_attempt(due, &outcome, state.now());
    outcome
}

/// One line per attempt: at `info` when it failed (with why, and what happens next), so an
/// operator sees failures without turning on debug logs; at `debug` when it was delivered.
fn log_attempt(due: &DueDelivery, outcome: &Outcome, now: hookd_core::Timestamp) {
    let attempt = &outcome.attempt;
    let number = due.attempts_made + 1;
    let Some(reason) = attempt.failure else {
        tracing::debug!(endpoint = %due.endpoint_id, msg = %due.msg_id, attempt = number, status = attempt.response_status_code, ms = attempt.response_duration_ms, "delivered");
        return;
    };
    let next = match outcome.next {
        NextStep::RetryAt(at) => format!("retry in {}s", at.since(now).as_secs()),
        _ => "no attempt left".to_owned(),
    };
    // A status failure's response is the receiver's body; any other is hookd's own words.
    let detail = match reason {
        FailureReason::Status => format!("status {}", attempt.response_status_code),
        _ => attempt.response.chars().take(200).collect(),
    };
    tracing::info!(endpoint = %due.endpoint_id, msg = %due.msg_id, attempt = number, reason = reason.as_str(), next, "delivery attempt failed: {detail}");
}

async fn send(state: &AppState, due: &DueDelivery, timestamp: i64) -> Result<Answer, Failed> {
    let url = state.outbound.vet_url(&due.url)?;
    let payload = due.payload.as_bytes();
    let signature = crate::signing::sign_all(&due.secrets, due.msg_id.as_str(), timestamp, payload)
        .map_err(|bad| {
            tracing::error!(endpoint = %due.endpoint_id, "stored signing secret does not parse");
            Failed {
                reason: FailureReason::Blocked,
                detail: bad.to_string(),
            }
        })?;
    let mut headers = HeaderMap::with_capacity(due.headers.len() + 4);
    for (name, value) in &due.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            headers.insert(name, value);
        }
    }
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    signature_headers(
        &mut headers,
        state.config.signature_headers,
        due.msg_id.as_str(),
        timestamp,
        &signature,
    );
    state
        .outbound
        .send(Request {
            method: Method::POST,
            url,
            headers,
            body: Some(payload),
            timeout: state.config.delivery_timeout,
            body_cap: RESPONSE_CAP,
        })
        .await
}
