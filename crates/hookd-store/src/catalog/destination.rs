//! How deliveries stand, read from the queue: the endpoints a message was queued for, the
//! messages queued for an endpoint, and an endpoint's counts. Each (message, endpoint) pair
//! counts once, by its newest row.

use hookd_core::{AppId, AttemptStatus, EndpointId, MessageId, Timestamp};

use super::message::{push_message_filter, push_time_filter};
use super::{endpoint, message};
use crate::convert::corrupt;
use crate::sql::{Db, Query, Row, sql};
use crate::window::Window;
use crate::{
    DeliveryState, Destination, EndpointStats, Page, PageQuery, QueuedMessage, QueuedMessageFilter,
    Result, Sealer,
};

/// True for the newest queue row `d` of its (message, endpoint) pair.
macro_rules! newest {
    () => {
        " AND d.id = (SELECT MAX(x.id) FROM deliveries x
                      WHERE x.msg_id = d.msg_id AND x.endpoint_id = d.endpoint_id)"
    };
}

pub(crate) async fn list_destinations(
    db: &dyn Db,
    sealer: &Sealer,
    app: &AppId,
    msg: &MessageId,
    page: &PageQuery,
) -> Result<Page<Destination>> {
    let window = Window::new(page);
    let mut sql = Query::new(
        "SELECT e.id, e.app_id, e.uid, e.url, e.description, e.disabled, e.event_types,
                e.channels, e.rate_limit, e.metadata, e.secret, e.headers, e.created_at,
                e.updated_at, d.status AS delivery_status, d.next_attempt_at
         FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
         WHERE d.app_id = ",
    );
    sql.bind(app.as_str())
        .push(" AND d.msg_id = ")
        .bind(msg.as_str())
        .push(newest!());
    window.push(&mut sql, "e.id");
    let rows = db.fetch(sql).await?;
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

pub(crate) async fn list_queued_messages(
    db: &dyn Db,
    app: &AppId,
    endpoint: &EndpointId,
    page: &PageQuery,
    filter: &QueuedMessageFilter,
) -> Result<Page<QueuedMessage>> {
    let window = Window::new(page);
    let mut sql = Query::new(
        "SELECT m.id, m.app_id, m.event_type, m.event_id, m.channels, m.payload,
                m.retention_days, m.created_at, d.status AS delivery_status, d.next_attempt_at
         FROM deliveries d JOIN messages m ON m.id = d.msg_id
         WHERE d.app_id = ",
    );
    sql.bind(app.as_str())
        .push(" AND d.endpoint_id = ")
        .bind(endpoint.as_str())
        .push(newest!());
    if let Some(status) = filter.status {
        sql.push(" AND d.status = ").bind(status.code());
    }
    let m = &filter.message;
    let dialect = db.dialect();
    push_message_filter(
        &mut sql,
        dialect,
        m.event_types.as_deref(),
        m.channel.as_deref(),
    );
    push_time_filter(&mut sql, "m.created_at", m.before, m.after);
    window.push(&mut sql, "m.id");
    let rows = db.fetch(sql).await?;
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

pub(crate) async fn endpoint_stats(
    db: &dyn Db,
    (app, endpoint): (&AppId, &EndpointId),
    since: Option<Timestamp>,
    until: Option<Timestamp>,
) -> Result<EndpointStats> {
    let rows = db
        .fetch(sql!(
            concat!(
                "SELECT d.status, COUNT(*) AS n FROM deliveries d JOIN messages m ON m.id = d.msg_id
                 WHERE d.app_id = $1 AND d.endpoint_id = $2
                   AND ($3 IS NULL OR m.created_at >= $3) AND ($4 IS NULL OR m.created_at < $4)",
                newest!(),
                " GROUP BY d.status"
            ),
            app.as_str(),
            endpoint.as_str(),
            since,
            until,
        ))
        .await?;
    let mut stats = EndpointStats::default();
    for row in &rows {
        let status = row.int("status")?;
        stats.add(
            AttemptStatus::from_code(status).ok_or_else(|| corrupt("status", status))?,
            row.int_as("n")?,
        );
    }
    Ok(stats)
}

fn state(row: &Row) -> Result<DeliveryState> {
    let status = row.int("delivery_status")?;
    let status = AttemptStatus::from_code(status).ok_or_else(|| corrupt("status", status))?;
    Ok(DeliveryState {
        status,
        next_attempt: row
            .opt_int("next_attempt_at")?
            .filter(|_| status == AttemptStatus::Pending)
            .map(Timestamp),
    })
}
