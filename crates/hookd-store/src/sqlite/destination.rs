//! How deliveries stand in SQLite, read from the queue: the endpoints a message was queued
//! for, the messages queued for an endpoint, and an endpoint's counts. Each (message,
//! endpoint) pair counts once, by its newest row.

use hookd_core::{AppId, AttemptStatus, EndpointId, MessageId, Timestamp};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use super::column::corrupt;
use super::message::{push_message_filter, push_time_filter};
use super::{endpoint, message};
use crate::window::Window;
use crate::{
    DeliveryState, Destination, EndpointStats, Page, PageQuery, QueuedMessage, QueuedMessageFilter,
    Result, Sealer,
};

/// True for the newest queue row `d` of its (message, endpoint) pair.
const NEWEST: &str = " AND d.id = (SELECT MAX(x.id) FROM deliveries x
                                   WHERE x.msg_id = d.msg_id AND x.endpoint_id = d.endpoint_id)";

pub(super) async fn list_destinations(
    reader: &SqlitePool,
    sealer: &Sealer,
    app: &AppId,
    msg: &MessageId,
    page: &PageQuery,
) -> Result<Page<Destination>> {
    let window = Window::new(page);
    let mut sql = QueryBuilder::<Sqlite>::new(
        "SELECT e.id, e.app_id, e.uid, e.url, e.description, e.disabled, e.event_types,
                e.channels, e.rate_limit, e.metadata, e.secret, e.headers, e.created_at,
                e.updated_at, d.status AS delivery_status, d.next_attempt_at
         FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
         WHERE d.app_id = ",
    );
    sql.push_bind(app.as_str().to_owned())
        .push(" AND d.msg_id = ")
        .push_bind(msg.as_str().to_owned())
        .push(NEWEST);
    window.push(&mut sql, "e.id");
    let rows = sql.build().fetch_all(reader).await?;
    let destinations = rows
        .iter()
        .map(|row| {
            Ok(Destination {
                endpoint: endpoint::from_row(row, sealer)?,
                state: state(row)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(window.page(destinations, |d| d.endpoint.id.as_str()))
}

pub(super) async fn list_queued_messages(
    reader: &SqlitePool,
    app: &AppId,
    endpoint: &EndpointId,
    page: &PageQuery,
    filter: &QueuedMessageFilter,
) -> Result<Page<QueuedMessage>> {
    let window = Window::new(page);
    let mut sql = QueryBuilder::<Sqlite>::new(
        "SELECT m.id, m.app_id, m.event_type, m.event_id, m.channels, m.payload,
                m.retention_days, m.created_at, d.status AS delivery_status, d.next_attempt_at
         FROM deliveries d JOIN messages m ON m.id = d.msg_id
         WHERE d.app_id = ",
    );
    sql.push_bind(app.as_str().to_owned())
        .push(" AND d.endpoint_id = ")
        .push_bind(endpoint.as_str().to_owned())
        .push(NEWEST);
    if let Some(status) = filter.status {
        sql.push(" AND d.status = ").push_bind(status.code());
    }
    let m = &filter.message;
    push_message_filter(&mut sql, m.event_types.as_deref(), m.channel.as_deref());
    push_time_filter(&mut sql, "m.created_at", m.before, m.after);
    window.push(&mut sql, "m.id");
    let rows = sql.build().fetch_all(reader).await?;
    let messages = rows
        .iter()
        .map(|row| {
            Ok(QueuedMessage {
                message: message::from_row(row)?,
                state: state(row)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(window.page(messages, |q| q.message.id.as_str()))
}

pub(super) async fn endpoint_stats(
    reader: &SqlitePool,
    app: &AppId,
    endpoint: &EndpointId,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
) -> Result<EndpointStats> {
    let sql = format!(
        "SELECT d.status, COUNT(*) AS n FROM deliveries d JOIN messages m ON m.id = d.msg_id
         WHERE d.app_id = ?1 AND d.endpoint_id = ?2
           AND (?3 IS NULL OR m.created_at >= ?3) AND (?4 IS NULL OR m.created_at < ?4)
           {NEWEST}
         GROUP BY d.status"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(app.as_str())
        .bind(endpoint.as_str())
        .bind(since.map(Timestamp::as_millis))
        .bind(until.map(Timestamp::as_millis))
        .fetch_all(reader)
        .await?;
    let mut stats = EndpointStats::default();
    for row in &rows {
        let status: i64 = row.try_get("status")?;
        let count = u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or_default();
        stats.add(
            AttemptStatus::from_code(status).ok_or_else(|| corrupt("status", status))?,
            count,
        );
    }
    Ok(stats)
}

fn state(row: &SqliteRow) -> Result<DeliveryState> {
    let status: i64 = row.try_get("delivery_status")?;
    let status = AttemptStatus::from_code(status).ok_or_else(|| corrupt("status", status))?;
    let next: Option<i64> = row.try_get("next_attempt_at")?;
    Ok(DeliveryState {
        status,
        next_attempt: next
            .filter(|_| status == AttemptStatus::Pending)
            .map(Timestamp),
    })
}
