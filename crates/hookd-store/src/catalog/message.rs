//! Messages: lookups, the filtered list, and removing a payload. Storing a batch of them is
//! the intake's, per backend; storing one for a single endpoint (an example) is here.

use hookd_core::{AppId, AttemptStatus, EndpointId, Message, MessageId, Timestamp, TriggerType};

use crate::convert::{conflict_as, missing_as, payload_from_column, payload_to_column};
use crate::sql::{Db, Dialect, Query, Row, first, sql};
use crate::window::Window;
use crate::{Inserted, MessageFilter, Page, PageQuery, Result};

/// A SELECT of every message column from `messages m`, followed by `$rest`.
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT m.id, m.app_id, m.event_type, m.event_id, m.channels, m.payload,
                    m.retention_days, m.created_at
             FROM messages m ",
            $rest
        )
    };
}

/// By id if `id_or_event_id` parses as a message id and the app has such a message, else by
/// event id.
pub(crate) async fn get(db: &dyn Db, app: &AppId, id_or_event_id: &str) -> Result<Option<Message>> {
    if MessageId::parse(id_or_event_id).is_some() {
        let by_id = sql!(
            select!("WHERE m.app_id = $1 AND m.id = $2"),
            app.as_str(),
            id_or_event_id
        );
        if let Some(row) = first(db.fetch(by_id).await?) {
            return from_row(&row).map(Some);
        }
    }
    let by_event_id = sql!(
        select!("WHERE m.app_id = $1 AND m.event_id = $2"),
        app.as_str(),
        id_or_event_id
    );
    first(db.fetch(by_event_id).await?)
        .as_ref()
        .map(from_row)
        .transpose()
}

/// With `status`, only messages with an endpoint whose delivery (its newest row, after any
/// resend) stands so.
pub(crate) async fn list(
    db: &dyn Db,
    app: &AppId,
    page: &PageQuery,
    filter: &MessageFilter,
    status: Option<AttemptStatus>,
) -> Result<Page<Message>> {
    let window = Window::new(page);
    let mut sql = Query::new(select!("WHERE m.app_id = "));
    sql.bind(app.as_str());
    if let Some(status) = status {
        sql.push(" AND EXISTS (SELECT 1 FROM deliveries d WHERE d.msg_id = m.id AND d.status = ")
            .bind(status.code())
            .push(
                " AND d.id = (SELECT MAX(x.id) FROM deliveries x
                              WHERE x.msg_id = d.msg_id AND x.endpoint_id = d.endpoint_id))",
            );
    }
    let types = filter.event_types.as_deref();
    push_message_filter(&mut sql, db.dialect(), types, filter.channel.as_deref());
    push_time_filter(&mut sql, "m.created_at", filter.before, filter.after);
    window.push(&mut sql, "m.id");
    let rows = db.fetch(sql).await?;
    let messages = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(window.page(messages, |m| m.id.as_str()))
}

/// Appends the conditions on the message `m`: its event type is one of `event_types` (an
/// empty list, like none, allows all) and `channel` is among its channels.
pub(crate) fn push_message_filter(
    sql: &mut Query,
    dialect: Dialect,
    event_types: Option<&[String]>,
    channel: Option<&str>,
) {
    if let Some(types) = event_types.filter(|t| !t.is_empty()) {
        sql.push(" AND")
            .in_list(dialect, "m.event_type", types.to_vec());
    }
    if let Some(channel) = channel {
        sql.push(" AND")
            .list_contains(dialect, "m.channels", channel);
    }
}

/// Appends `before` and `after` bounds, both exclusive, on the timestamp column `column`.
pub(crate) fn push_time_filter(
    sql: &mut Query,
    column: &str,
    before: Option<Timestamp>,
    after: Option<Timestamp>,
) {
    if let Some(before) = before {
        sql.push(&format!(" AND {column} < ")).bind(before);
    }
    if let Some(after) = after {
        sql.push(&format!(" AND {column} > ")).bind(after);
    }
}

pub(crate) fn from_row(row: &Row) -> Result<Message> {
    Ok(Message {
        id: MessageId::from_stored(row.text("id")?),
        app_id: AppId::from_stored(row.text("app_id")?),
        event_type: row.text("event_type")?,
        event_id: row.opt_text("event_id")?,
        channels: row.list("channels")?,
        payload: payload_from_column(row.text("payload")?),
        retention_days: row.int("retention_days")?,
        created_at: Timestamp(row.int("created_at")?),
    })
}

/// Empties the payload and fails the message's pending deliveries, in one transaction.
pub(crate) async fn expunge_payload(db: &dyn Db, app: &AppId, msg: &MessageId) -> Result<bool> {
    let mut tx = db.begin().await?;
    let found = tx
        .execute(sql!(
            "UPDATE messages SET payload = '' WHERE app_id = $1 AND id = $2",
            app.as_str(),
            msg.as_str()
        ))
        .await?;
    if found > 0 {
        tx.execute(sql!(
            "UPDATE deliveries SET status = 2, next_attempt_at = NULL
             WHERE msg_id = $1 AND status = 1",
            msg.as_str()
        ))
        .await?;
    }
    tx.commit().await?;
    Ok(found > 0)
}

/// Stores the message and queues its one delivery, to `endpoint`, in one transaction.
pub(crate) async fn insert_for_endpoint(
    db: &dyn Db,
    message: &Message,
    endpoint: &EndpointId,
) -> Result<Inserted> {
    let mut tx = db.begin().await?;
    tx.execute(sql!(
        "INSERT INTO messages (id, app_id, event_type, event_id, channels, payload,
                               retention_days, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        message.id.as_str(),
        message.app_id.as_str(),
        &message.event_type,
        message.event_id.as_deref(),
        message.channels.as_deref(),
        payload_to_column(message.payload.as_deref()),
        message.retention_days,
        message.created_at,
    ))
    .await
    .map_err(conflict_as("message with this eventId"))
    .map_err(missing_as("application"))?;
    tx.execute(sql!(
        "INSERT INTO deliveries (app_id, msg_id, endpoint_id, status, attempts_made,
                                 next_attempt_at, lease_until, trigger_type)
         VALUES ($1, $2, $3, 1, 0, $4, NULL, $5)",
        message.app_id.as_str(),
        message.id.as_str(),
        endpoint.as_str(),
        message.created_at,
        TriggerType::Scheduled.code(),
    ))
    .await
    .map_err(missing_as("endpoint"))?;
    tx.notify_queued().await?;
    tx.commit().await?;
    Ok(Inserted {
        msg_id: message.id.clone(),
        deliveries: 1,
    })
}
