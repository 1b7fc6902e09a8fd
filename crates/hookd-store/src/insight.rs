//! What the web UI's charts and overview read: attempts counted over time, per endpoint and per
//! application, and how the delivery queue stands. Every figure is counted in the database, so
//! it is the same whichever node answers.

use hookd_core::{AppId, AttemptStatus, EndpointId, Timestamp};

/// Whose attempts a series counts.
#[derive(Clone, Copy, Debug)]
pub enum SeriesOf<'a> {
    /// Every attempt on the server.
    All,
    Endpoint(&'a AppId, &'a EndpointId),
}

/// The attempts made in `[start, start + bucket)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttemptBucket {
    pub start: Timestamp,
    pub succeeded: u64,
    pub failed: u64,
}

/// An endpoint's attempts since some time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointTotals {
    pub endpoint_id: EndpointId,
    pub succeeded: u64,
    pub failed: u64,
}

/// The delivery queue at one moment, over all applications.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueDepth {
    /// Deliveries waiting for an attempt, due or not.
    pub pending: u64,
    /// Of those, the ones already due: the backlog.
    pub due: u64,
    /// Deliveries leased to a worker, their attempt under way.
    pub sending: u64,
}

/// An endpoint with deliveries waiting for a retry after failed attempts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryingEndpoint {
    pub app_id: AppId,
    pub endpoint_id: EndpointId,
    pub url: String,
    /// Deliveries waiting for a retry.
    pub retrying: u64,
    /// The soonest of their next attempts.
    pub next_attempt_at: Option<Timestamp>,
}

/// Which application an endpoint is of, and where it points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointRef {
    pub app_id: AppId,
    pub endpoint_id: EndpointId,
    pub url: String,
}

/// How much an application holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppCounts {
    pub app_id: AppId,
    pub endpoints: u64,
    pub messages: u64,
}

/// Empty buckets of `bucket_ms` from `since` up to `until`, to be filled by `Buckets::add`.
pub(crate) struct Buckets {
    since: i64,
    bucket_ms: i64,
    buckets: Vec<AttemptBucket>,
}

impl Buckets {
    pub(crate) fn new(since: Timestamp, until: Timestamp, bucket_ms: i64) -> Buckets {
        let bucket_ms = bucket_ms.max(1);
        let span = (until.as_millis() - since.as_millis()).max(0);
        let count = (span + bucket_ms - 1) / bucket_ms;
        let buckets = (0..count)
            .map(|i| AttemptBucket {
                start: Timestamp(since.as_millis() + i * bucket_ms),
                succeeded: 0,
                failed: 0,
            })
            .collect();
        Buckets {
            since: since.as_millis(),
            bucket_ms,
            buckets,
        }
    }

    /// Counts `n` attempts of `status` made at bucket number `slot` (from the SQL's division).
    pub(crate) fn add(&mut self, slot: i64, status: i64, n: i64) {
        let Some(bucket) = usize::try_from(slot)
            .ok()
            .and_then(|slot| self.buckets.get_mut(slot))
        else {
            return;
        };
        let n = u64::try_from(n).unwrap_or_default();
        match AttemptStatus::from_code(status) {
            Some(AttemptStatus::Success) => bucket.succeeded += n,
            Some(AttemptStatus::Fail) => bucket.failed += n,
            _ => {}
        }
    }

    pub(crate) fn since(&self) -> i64 {
        self.since
    }

    pub(crate) fn bucket_ms(&self) -> i64 {
        self.bucket_ms
    }

    pub(crate) fn into_vec(self) -> Vec<AttemptBucket> {
        self.buckets
    }
}
