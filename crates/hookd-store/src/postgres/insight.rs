//! The web UI's figures in PostgreSQL: attempts counted over time and per endpoint, the
//! queue's depth, the endpoints waiting on retries, and what each application holds.

use hookd_core::{AppId, AttemptId, EndpointId, Timestamp};
use sqlx::{PgPool, Row};

use crate::insight::Buckets;
use crate::{
    AppCounts, AttemptBucket, EndpointRef, EndpointTotals, QueueDepth, Result, RetryingEndpoint,
    SeriesOf,
};

/// Attempt ids sort by creation time, so a time range is a range of an id index (the
/// endpoint's, or the primary key), not a scan of the log.
pub(super) async fn attempt_series(
    pool: &PgPool,
    of: SeriesOf<'_>,
    since: Timestamp,
    until: Timestamp,
    bucket_ms: i64,
) -> Result<Vec<AttemptBucket>> {
    let mut buckets = Buckets::new(since, until, bucket_ms);
    let (app, endpoint) = match of {
        SeriesOf::All => (None, None),
        SeriesOf::Endpoint(app, endpoint) => (Some(app.as_str()), Some(endpoint.as_str())),
    };
    let rows = sqlx::query(
        "SELECT (created_at - $1) / $2 AS slot, status::bigint AS status, COUNT(*) AS n
         FROM attempts
         WHERE id >= $3 AND id < $4
           AND ($5::text IS NULL OR (app_id = $5 AND endpoint_id = $6))
         GROUP BY 1, 2",
    )
    .bind(buckets.since())
    .bind(buckets.bucket_ms())
    .bind(AttemptId::first_at(since.as_millis()).as_str())
    .bind(AttemptId::first_at(until.as_millis()).as_str())
    .bind(app)
    .bind(endpoint)
    .fetch_all(pool)
    .await?;
    for row in rows {
        buckets.add(
            row.try_get("slot")?,
            row.try_get("status")?,
            row.try_get("n")?,
        );
    }
    Ok(buckets.into_vec())
}

pub(super) async fn attempt_totals(
    pool: &PgPool,
    app: &AppId,
    since: Timestamp,
) -> Result<Vec<EndpointTotals>> {
    let rows = sqlx::query(
        "SELECT e.id AS endpoint_id,
                COUNT(a.id) FILTER (WHERE a.status = 0) AS succeeded,
                COUNT(a.id) FILTER (WHERE a.status = 2) AS failed
         FROM endpoints e
         LEFT JOIN attempts a ON a.app_id = e.app_id AND a.endpoint_id = e.id AND a.id >= $2
         WHERE e.app_id = $1
         GROUP BY e.id",
    )
    .bind(app.as_str())
    .bind(AttemptId::first_at(since.as_millis()).as_str())
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(EndpointTotals {
                endpoint_id: EndpointId::from_stored(row.try_get("endpoint_id")?),
                succeeded: count(row.try_get("succeeded")?),
                failed: count(row.try_get("failed")?),
            })
        })
        .collect()
}

/// Counted on the partial indexes of pending and leased rows.
pub(super) async fn queue_depth(pool: &PgPool, now: Timestamp) -> Result<QueueDepth> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM deliveries WHERE status = 1) AS pending,
                (SELECT COUNT(*) FROM deliveries WHERE status = 1 AND next_attempt_at <= $1)
                    AS due,
                (SELECT COUNT(*) FROM deliveries WHERE status = 3) AS sending",
    )
    .bind(now.as_millis())
    .fetch_one(pool)
    .await?;
    Ok(QueueDepth {
        pending: count(row.try_get("pending")?),
        due: count(row.try_get("due")?),
        sending: count(row.try_get("sending")?),
    })
}

/// Pending rows that have had an attempt already are retries of failures.
pub(super) async fn retrying_endpoints(pool: &PgPool, limit: u32) -> Result<Vec<RetryingEndpoint>> {
    let rows = sqlx::query(
        "SELECT d.app_id, d.endpoint_id, e.url, COUNT(*) AS retrying,
                MIN(d.next_attempt_at) AS next_attempt_at
         FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
         WHERE d.status = 1 AND d.attempts_made > 0
         GROUP BY d.app_id, d.endpoint_id, e.url
         ORDER BY retrying DESC, d.endpoint_id
         LIMIT $1",
    )
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(RetryingEndpoint {
                app_id: AppId::from_stored(row.try_get("app_id")?),
                endpoint_id: EndpointId::from_stored(row.try_get("endpoint_id")?),
                url: row.try_get("url")?,
                retrying: count(row.try_get("retrying")?),
                next_attempt_at: row
                    .try_get::<Option<i64>, _>("next_attempt_at")?
                    .map(Timestamp),
            })
        })
        .collect()
}

pub(super) async fn application_counts(pool: &PgPool, apps: &[AppId]) -> Result<Vec<AppCounts>> {
    let ids: Vec<&str> = apps.iter().map(AppId::as_str).collect();
    let rows = sqlx::query(
        "SELECT a.id AS app_id,
                (SELECT COUNT(*) FROM endpoints e WHERE e.app_id = a.id COLLATE \"C\") AS endpoints,
                (SELECT COUNT(*) FROM messages m WHERE m.app_id = a.id COLLATE \"C\") AS messages
         FROM unnest($1::text[]) AS a(id)",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(AppCounts {
                app_id: AppId::from_stored(row.try_get("app_id")?),
                endpoints: count(row.try_get("endpoints")?),
                messages: count(row.try_get("messages")?),
            })
        })
        .collect()
}

pub(super) async fn endpoint_refs(
    pool: &PgPool,
    endpoints: &[EndpointId],
) -> Result<Vec<EndpointRef>> {
    let ids: Vec<&str> = endpoints.iter().map(EndpointId::as_str).collect();
    let rows = sqlx::query("SELECT e.app_id, e.id, e.url FROM endpoints e WHERE e.id = ANY($1)")
        .bind(ids)
        .fetch_all(pool)
        .await?;
    rows.iter().map(endpoint_ref).collect()
}

fn endpoint_ref(row: &sqlx::postgres::PgRow) -> Result<EndpointRef> {
    Ok(EndpointRef {
        app_id: AppId::from_stored(row.try_get("app_id")?),
        endpoint_id: EndpointId::from_stored(row.try_get("id")?),
        url: row.try_get("url")?,
    })
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}
