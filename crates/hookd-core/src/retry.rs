//! The retry policy: plain data, and one pure function that says when to try again.

use std::time::Duration;

use crate::attempt::FailureReason;

/// When to retry a failed delivery. `schedule[0]` is the delay before the first attempt
/// (normally zero), `schedule[n]` the delay after the n-th failure; the number of attempts is
/// the length of the schedule.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    pub schedule: Vec<Duration>,
    /// Each delay is moved by up to this fraction either way, so retries do not stampede.
    pub jitter: f64,
    /// The least wait after a timeout or a 429, whatever the schedule says.
    pub min_backoff_after_throttle: Duration,
    /// The most a `Retry-After` header can ask for.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        let s = Duration::from_secs;
        RetryPolicy {
            schedule: vec![
                s(0),
                s(5),
                s(5 * 60),
                s(30 * 60),
                s(2 * 3600),
                s(5 * 3600),
                s(10 * 3600),
                s(10 * 3600),
            ],
            jitter: 0.2,
            min_backoff_after_throttle: s(60),
            max_retry_after: s(24 * 3600),
        }
    }
}

/// What the failed attempt tells the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failure {
    pub reason: FailureReason,
    pub status: Option<u16>,
    /// The receiver's `Retry-After`, already parsed; heeded only on 429 and 503.
    pub retry_after: Option<Duration>,
}

impl RetryPolicy {
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.schedule.len()).unwrap_or(u32::MAX)
    }

    /// The wait before the next attempt after `attempts_made` attempts, the last of which failed
    /// as `failure`; `None` when no attempt is left. `random` is uniform in `[0, 1)`.
    pub fn next_delay(
        &self,
        attempts_made: u32,
        failure: &Failure,
        random: f64,
    ) -> Option<Duration> {
        let base = *self.schedule.get(usize::try_from(attempts_made).ok()?)?;
        let spread = (random * 2.0 - 1.0) * self.jitter.clamp(0.0, 1.0);
        let mut delay = base.mul_f64((1.0 + spread).max(0.0));
        let throttled = failure.reason == FailureReason::Timeout || failure.status == Some(429);
        if throttled {
            delay = delay.max(self.min_backoff_after_throttle);
        }
        if matches!(failure.status, Some(429 | 503))
            && let Some(asked) = failure.retry_after
        {
            delay = delay.max(asked.min(self.max_retry_after));
        }
        Some(delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(reason: FailureReason, status: Option<u16>, retry_after: Option<u64>) -> Failure {
        Failure {
            reason,
            status,
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn follows_the_schedule_and_stops_after_the_last_attempt() {
        let policy = RetryPolicy {
            jitter: 0.0,
            ..RetryPolicy::default()
        };
        let f = failure(FailureReason::Status, Some(500), None);
        assert_eq!(policy.next_delay(1, &f, 0.5), Some(Duration::from_secs(5)));
        assert_eq!(
            policy.next_delay(2, &f, 0.5),
            Some(Duration::from_secs(300))
        );
        assert_eq!(
            policy.next_delay(7, &f, 0.5),
            Some(Duration::from_secs(36000))
        );
        assert_eq!(policy.next_delay(8, &f, 0.5), None);
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let policy = RetryPolicy::default();
        let f = failure(FailureReason::Status, Some(500), None);
        assert_eq!(
            policy.next_delay(2, &f, 0.0),
            Some(Duration::from_secs(240))
        );
        assert_eq!(
            policy.next_delay(2, &f, 0.999_999).map(|d| d.as_secs()),
            Some(359)
        );
    }

    #[test]
    fn timeouts_and_429_wait_at_least_the_throttle_backoff() {
        let policy = RetryPolicy {
            jitter: 0.0,
            ..RetryPolicy::default()
        };
        let timeout = failure(FailureReason::Timeout, None, None);
        let throttled = failure(FailureReason::Status, Some(429), None);
        assert_eq!(
            policy.next_delay(1, &timeout, 0.5),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            policy.next_delay(1, &throttled, 0.5),
            Some(Duration::from_secs(60))
        );
    }

    #[test]
    fn retry_after_on_503_extends_the_wait_up_to_the_cap() {
        let policy = RetryPolicy {
            jitter: 0.0,
            max_retry_after: Duration::from_secs(3600),
            ..RetryPolicy::default()
        };
        let asked = failure(FailureReason::Status, Some(503), Some(120));
        assert_eq!(
            policy.next_delay(1, &asked, 0.5),
            Some(Duration::from_secs(120))
        );
        let greedy = failure(FailureReason::Status, Some(503), Some(999_999));
        assert_eq!(
            policy.next_delay(1, &greedy, 0.5),
            Some(Duration::from_secs(3600))
        );
        let ignored = failure(FailureReason::Status, Some(500), Some(120));
        assert_eq!(
            policy.next_delay(1, &ignored, 0.5),
            Some(Duration::from_secs(5))
        );
    }
}
