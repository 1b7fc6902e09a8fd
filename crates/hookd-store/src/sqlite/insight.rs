//! The web UI's figures in SQLite: attempts counted over time and per endpoint, the queue's
//! depth, the endpoints waiting on retries, and what each application holds.

use hookd_core::{AppId, AttemptId, EndpointId, Timestamp};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use super::column::json_list;
use crate::insight::Buckets;
use crate::{
    AppCounts, AttemptBucket, EndpointRef, EndpointTotals, QueueDepth, Result, RetryingEndpoint,
    SeriesOf,
};

/// Attempt ids sort by creation time, so a time range is a range of the id index (the
/// endpoint's, or the table's own), not a scan of the log.
pub(super) async fn attempt_series(
    reader: &SqlitePool,
    of: SeriesOf<'_>,
    since: Timestamp,
    until: Timestamp,
    bucket_ms: i64,
) -> Result<Vec<AttemptBucket>> {
    let mut buckets = Buckets::new(since, until, bucket_ms);
    let mut sql = QueryBuilder::<Sqlite>::new("SELECT (created_at - ");
    sql.push_bind(buckets.since())
        .push(") / ")
        .push_bind(buckets.bucket_ms())
        .push(" AS slot, status, COUNT(*) AS n FROM attempts WHERE id >= ")
        .push_bind(AttemptId::first_at(since.as_millis()).as_str().to_owned())
        .push(" AND id < ")
        .push_bind(AttemptId::first_at(until.as_millis()).as_str().to_owned());
    if let SeriesOf::Endpoint(app, endpoint) = of {
        sql.push(" AND endpoint_id = ")
            .push_bind(endpoint.as_str().to_owned())
            .push(" AND app_id = ")
            .push_bind(app.as_str().to_owned());
    }
    sql.push(" GROUP BY slot, status");
    for row in sql.build().fetch_all(reader).await? {
        buckets.add(
            row.try_get("slot")?,
            row.try_get("status")?,
            row.try_get("n")?,
        );
    }
    Ok(buckets.into_vec())
}

pub(super) async fn attempt_totals(
    reader: &SqlitePool,
    app: &AppId,
    since: Timestamp,
) -> Result<Vec<EndpointTotals>> {
    let rows = sqlx::query(
        "SELECT e.id AS endpoint_id,
                COUNT(a.id) FILTER (WHERE a.status = 0) AS succeeded,
                COUNT(a.id) FILTER (WHERE a.status = 2) AS failed
         FROM endpoints e LEFT JOIN attempts a ON a.endpoint_id = e.id AND a.id >= ?2
         WHERE e.app_id = ?1
         GROUP BY e.id",
    )
    .bind(app.as_str())
    .bind(AttemptId::first_at(since.as_millis()).as_str().to_owned())
    .fetch_all(reader)
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
pub(super) async fn queue_depth(reader: &SqlitePool, now: Timestamp) -> Result<QueueDepth> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM deliveries WHERE status = 1) AS pending,
                (SELECT COUNT(*) FROM deliveries WHERE status = 1 AND next_attempt_at <= ?)
                    AS due,
                (SELECT COUNT(*) FROM deliveries WHERE status = 3) AS sending",
    )
    .bind(now.as_millis())
    .fetch_one(reader)
    .await?;
    Ok(QueueDepth {
        pending: count(row.try_get("pending")?),
        due: count(row.try_get("due")?),
        sending: count(row.try_get("sending")?),
    })
}

/// Pending rows that have had an attempt already are retries of failures.
pub(super) async fn retrying_endpoints(
    reader: &SqlitePool,
    limit: u32,
) -> Result<Vec<RetryingEndpoint>> {
    let rows = sqlx::query(
        "SELECT d.app_id, d.endpoint_id, e.url, COUNT(*) AS retrying,
                MIN(d.next_attempt_at) AS next_attempt_at
         FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
         WHERE d.status = 1 AND d.attempts_made > 0
         GROUP BY d.app_id, d.endpoint_id, e.url
         ORDER BY retrying DESC, d.endpoint_id
         LIMIT ?",
    )
    .bind(i64::from(limit))
    .fetch_all(reader)
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

pub(super) async fn application_counts(
    reader: &SqlitePool,
    apps: &[AppId],
) -> Result<Vec<AppCounts>> {
    let rows = sqlx::query(
        "SELECT a.value AS app_id,
                (SELECT COUNT(*) FROM endpoints e WHERE e.app_id = a.value) AS endpoints,
                (SELECT COUNT(*) FROM messages m WHERE m.app_id = a.value) AS messages
         FROM json_each(?) a",
    )
    .bind(json_list(apps.iter().map(AppId::as_str)))
    .fetch_all(reader)
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
    reader: &SqlitePool,
    endpoints: &[EndpointId],
) -> Result<Vec<EndpointRef>> {
    let rows = sqlx::query(
        "SELECT e.app_id, e.id, e.url FROM endpoints e
         WHERE e.id IN (SELECT value FROM json_each(?))",
    )
    .bind(json_list(endpoints.iter().map(EndpointId::as_str)))
    .fetch_all(reader)
    .await?;
    rows.iter().map(endpoint_ref).collect()
}

fn endpoint_ref(row: &sqlx::sqlite::SqliteRow) -> Result<EndpointRef> {
    Ok(EndpointRef {
        app_id: AppId::from_stored(row.try_get("app_id")?),
        endpoint_id: EndpointId::from_stored(row.try_get("id")?),
        url: row.try_get("url")?,
    })
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}
