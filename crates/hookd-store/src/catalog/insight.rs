//! The web UI's figures: attempts counted over time and per endpoint, the queue's depth, the
//! endpoints waiting on retries, and what each application holds. Attempt ids sort by creation
//! time, so a time range is a range of an id index (the endpoint's, or the table's own), not a
//! scan of the log.

use hookd_core::{AppId, AttemptId, EndpointId, Timestamp};

use crate::insight::Buckets;
use crate::sql::{Db, Query, Row, first, sql};
use crate::{
    AppCounts, AttemptBucket, EndpointRef, EndpointTotals, QueueDepth, Result, RetryingEndpoint,
    SeriesOf, StoreError,
};

pub(crate) async fn attempt_series(
    db: &dyn Db,
    of: SeriesOf<'_>,
    (since, until): (Timestamp, Timestamp),
    bucket_ms: i64,
) -> Result<Vec<AttemptBucket>> {
    let mut buckets = Buckets::new(since, until, bucket_ms);
    let mut sql = Query::new("SELECT (created_at - ");
    sql.bind(buckets.since())
        .push(") / ")
        .bind(buckets.bucket_ms())
        .push(" AS slot, status, COUNT(*) AS n FROM attempts WHERE id >= ")
        .bind(AttemptId::first_at(since.as_millis()).as_str())
        .push(" AND id < ")
        .bind(AttemptId::first_at(until.as_millis()).as_str());
    if let SeriesOf::Endpoint(app, endpoint) = of {
        sql.push(" AND app_id = ")
            .bind(app.as_str())
            .push(" AND endpoint_id = ")
            .bind(endpoint.as_str());
    }
    sql.push(" GROUP BY 1, 2");
    for row in db.fetch(sql).await? {
        buckets.add(row.int("slot")?, row.int("status")?, row.int("n")?);
    }
    Ok(buckets.into_vec())
}

pub(crate) async fn attempt_totals(
    db: &dyn Db,
    app: &AppId,
    since: Timestamp,
) -> Result<Vec<EndpointTotals>> {
    let rows = db
        .fetch(sql!(
            "SELECT e.id AS endpoint_id,
                    COUNT(a.id) FILTER (WHERE a.status = 0) AS succeeded,
                    COUNT(a.id) FILTER (WHERE a.status = 2) AS failed
             FROM endpoints e
             LEFT JOIN attempts a ON a.app_id = e.app_id AND a.endpoint_id = e.id AND a.id >= $2
             WHERE e.app_id = $1
             GROUP BY e.id",
            app.as_str(),
            AttemptId::first_at(since.as_millis()).as_str(),
        ))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(EndpointTotals {
                endpoint_id: EndpointId::from_stored(row.text("endpoint_id")?),
                succeeded: row.int_as("succeeded")?,
                failed: row.int_as("failed")?,
            })
        })
        .collect()
}

/// Counted on the partial indexes of pending and leased rows.
pub(crate) async fn queue_depth(db: &dyn Db, now: Timestamp) -> Result<QueueDepth> {
    let rows = db
        .fetch(sql!(
            "SELECT (SELECT COUNT(*) FROM deliveries WHERE status = 1) AS pending,
                    (SELECT COUNT(*) FROM deliveries WHERE status = 1 AND next_attempt_at <= $1)
                        AS due,
                    (SELECT COUNT(*) FROM deliveries WHERE status = 3) AS sending",
            now
        ))
        .await?;
    let row = first(rows).ok_or_else(|| StoreError::Corrupt("no queue depth row".into()))?;
    Ok(QueueDepth {
        pending: row.int_as("pending")?,
        due: row.int_as("due")?,
        sending: row.int_as("sending")?,
    })
}

/// Pending rows that have had an attempt already are retries of failures.
pub(crate) async fn retrying_endpoints(db: &dyn Db, limit: u32) -> Result<Vec<RetryingEndpoint>> {
    let rows = db
        .fetch(sql!(
            "SELECT d.app_id, d.endpoint_id, e.url, COUNT(*) AS retrying,
                    MIN(d.next_attempt_at) AS next_attempt_at
             FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
             WHERE d.status = 1 AND d.attempts_made > 0
             GROUP BY d.app_id, d.endpoint_id, e.url
             ORDER BY retrying DESC, d.endpoint_id
             LIMIT $1",
            limit
        ))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(RetryingEndpoint {
                app_id: AppId::from_stored(row.text("app_id")?),
                endpoint_id: EndpointId::from_stored(row.text("endpoint_id")?),
                url: row.text("url")?,
                retrying: row.int_as("retrying")?,
                next_attempt_at: row.opt_int("next_attempt_at")?.map(Timestamp),
            })
        })
        .collect()
}

/// Applications that do not exist are left out.
pub(crate) async fn application_counts(db: &dyn Db, apps: &[AppId]) -> Result<Vec<AppCounts>> {
    if apps.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Query::new(
        "SELECT a.id AS app_id,
                (SELECT COUNT(*) FROM endpoints e WHERE e.app_id = a.id) AS endpoints,
                (SELECT COUNT(*) FROM messages m WHERE m.app_id = a.id) AS messages
         FROM applications a WHERE",
    );
    let ids: Vec<String> = apps.iter().map(|a| a.as_str().to_owned()).collect();
    sql.in_list(db.dialect(), "a.id", ids);
    let rows = db.fetch(sql).await?;
    rows.iter()
        .map(|row| {
            Ok(AppCounts {
                app_id: AppId::from_stored(row.text("app_id")?),
                endpoints: row.int_as("endpoints")?,
                messages: row.int_as("messages")?,
            })
        })
        .collect()
}

pub(crate) async fn endpoint_refs(
    db: &dyn Db,
    endpoints: &[EndpointId],
) -> Result<Vec<EndpointRef>> {
    if endpoints.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Query::new("SELECT e.app_id, e.id, e.url FROM endpoints e WHERE");
    let ids: Vec<String> = endpoints.iter().map(|e| e.as_str().to_owned()).collect();
    sql.in_list(db.dialect(), "e.id", ids);
    db.fetch(sql).await?.iter().map(endpoint_ref).collect()
}

fn endpoint_ref(row: &Row) -> Result<EndpointRef> {
    Ok(EndpointRef {
        app_id: AppId::from_stored(row.text("app_id")?),
        endpoint_id: EndpointId::from_stored(row.text("id")?),
        url: row.text("url")?,
    })
}
