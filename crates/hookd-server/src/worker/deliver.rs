//! One delivery attempt: sign, POST, and turn what happened into an `Outcome` for the store.
//! `attempt` does the IO; `outcome`, the judgement, is given the time and the randomness.

use hookd_core::retry::{Failure, RetryPolicy};
use hookd_core::{Attempt, AttemptId, AttemptStatus, FailureReason, Timestamp, TriggerType};
use hookd_store::{DueDelivery, NextStep, Outcome};
use http::Method;
use http::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use rand::Rng;

use super::state::WorkerState;
use crate::config::SignatureHeaders;
use crate::outbound::{Answer, Failed, Request};

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
pub async fn attempt(state: &WorkerState, due: &DueDelivery) -> Outcome {
    let started = state.clock.now();
    let result = send(state, due, started.as_unix_seconds()).await;
    let id = state.ids.new_attempt_id();
    let (now, retry) = (state.clock.now(), &state.config.retry);
    let outcome = outcome(due, &result, id, started, now, retry, &mut rand::rng());
    log_attempt(due, &outcome, now);
    outcome
}

/// What an attempt at `due` that started at `started` and came to `result` is, as of `now`:
/// its row, and where the delivery goes next under `retry`, jittered with `rng`.
pub fn outcome(
    due: &DueDelivery,
    result: &Result<Answer, Failed>,
    id: AttemptId,
    started: Timestamp,
    now: Timestamp,
    retry: &RetryPolicy,
    rng: &mut impl Rng,
) -> Outcome {
    let attempts_made = due.attempts_made + 1;
    let (status_code, response, failure, duration) = match result {
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
                now.since(started),
            )
        }
    };
    let next = match &failure {
        None => NextStep::Delivered,
        // A manual attempt (resend, recover) is one try, as in Svix: no retries follow it.
        Some(_) if due.trigger == TriggerType::Manual => NextStep::Exhausted,
        Some(failure) => {
            let random = rng.random::<f64>();
            match retry.next_delay(attempts_made, failure, random) {
                Some(delay) => NextStep::RetryAt(now.saturating_add(delay)),
                None => NextStep::Exhausted,
            }
        }
    };
    let attempt = Attempt {
        id,
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
    Outcome {
        delivery: due.id,
        attempt,
        next,
    }
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

async fn send(state: &WorkerState, due: &DueDelivery, timestamp: i64) -> Result<Answer, Failed> {
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hookd_core::{AppId, EndpointId, MessageId};
    use hookd_store::DeliveryId;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn due(trigger: TriggerType) -> DueDelivery {
        DueDelivery {
            id: DeliveryId(7),
            app_id: AppId::from_stored("app_1".into()),
            msg_id: MessageId::from_stored("msg_1".into()),
            endpoint_id: EndpointId::from_stored("ep_1".into()),
            event_type: "a".into(),
            payload: "{}".into(),
            url: "http://127.0.0.1:1/".into(),
            secrets: Vec::new(),
            headers: Default::default(),
            attempts_made: 1,
            trigger,
        }
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            schedule: [0, 5, 300].map(Duration::from_secs).to_vec(),
            jitter: 0.2,
            min_backoff_after_throttle: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(3600),
        }
    }

    fn refused() -> Result<Answer, Failed> {
        Err(Failed {
            reason: FailureReason::Connect,
            detail: "refused".into(),
        })
    }

    fn judge(due: &DueDelivery, result: &Result<Answer, Failed>, seed: u64) -> Outcome {
        let id = AttemptId::from_raw(1);
        let (started, now) = (Timestamp(10_000), Timestamp(10_250));
        let mut rng = StdRng::seed_from_u64(seed);
        outcome(due, result, id, started, now, &policy(), &mut rng)
    }

    #[test]
    fn a_failed_attempt_retries_after_the_jittered_delay_counted_from_now() {
        let judged = judge(&due(TriggerType::Scheduled), &refused(), 3);
        let random = StdRng::seed_from_u64(3).random::<f64>();
        let failure = Failure {
            reason: FailureReason::Connect,
            status: None,
            retry_after: None,
        };
        let delay = policy().next_delay(2, &failure, random).unwrap();
        assert_eq!(
            judged.next,
            NextStep::RetryAt(Timestamp(10_250).saturating_add(delay))
        );
        assert_ne!(delay, Duration::from_secs(300), "jittered");
        assert_eq!(judged.attempt.status, AttemptStatus::Fail);
        assert_eq!(judged.attempt.response, "connect: refused");
        assert_eq!(judged.attempt.response_duration_ms, 250);
        assert_eq!(judged.attempt.created_at, Timestamp(10_000));
    }

    #[test]
    fn an_answer_in_2xx_is_delivered_and_a_failed_manual_attempt_is_not_retried() {
        let answer = Ok(Answer {
            status: 204,
            body: String::new(),
            retry_after: None,
            location: None,
            elapsed: Duration::from_millis(12),
        });
        let judged = judge(&due(TriggerType::Scheduled), &answer, 1);
        assert_eq!(judged.next, NextStep::Delivered);
        assert_eq!(judged.attempt.response_duration_ms, 12);
        assert_eq!(judged.attempt.status, AttemptStatus::Success);

        let judged = judge(&due(TriggerType::Manual), &refused(), 1);
        assert_eq!(judged.next, NextStep::Exhausted);
    }
}
