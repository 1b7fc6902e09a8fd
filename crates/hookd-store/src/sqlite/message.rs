//! Messages in SQLite: lookups and the filtered list. Storing them is `fanout.rs`.

use hookd_core::{AppId, Message, MessageId, Timestamp};
use sqlx::Connection;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use super::column::{json_list, list_from_json};
use super::writer::Writer;
use crate::window::Window;
use crate::{MessageFilter, Page, PageQuery, Result};

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
pub(super) async fn get(
    reader: &SqlitePool,
    app: &AppId,
    id_or_event_id: &str,
) -> Result<Option<Message>> {
    if MessageId::parse(id_or_event_id).is_some() {
        let row = sqlx::query(select!("WHERE m.app_id = ? AND m.id = ?"))
            .bind(app.as_str())
            .bind(id_or_event_id)
            .fetch_optional(reader)
            .await?;
        if let Some(row) = row {
            return from_row(&row).map(Some);
        }
    }
    let row = sqlx::query(select!("WHERE m.app_id = ? AND m.event_id = ?"))
        .bind(app.as_str())
        .bind(id_or_event_id)
        .fetch_optional(reader)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub(super) async fn list(
    reader: &SqlitePool,
    app: &AppId,
    page: &PageQuery,
    filter: &MessageFilter,
) -> Result<Page<Message>> {
    let window = Window::new(page);
    let mut sql = QueryBuilder::<Sqlite>::new(select!("WHERE m.app_id = "));
    sql.push_bind(app.as_str().to_owned());
    let types = filter.event_types.as_deref();
    push_message_filter(&mut sql, types, filter.channel.as_deref());
    push_time_filter(&mut sql, "m.created_at", filter.before, filter.after);
    window.push(&mut sql, "m.id");
    let rows = sql.build().fetch_all(reader).await?;
    let messages = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(window.page(messages, |m| m.id.as_str()))
}

/// Appends the conditions on the message `m`: its event type is one of `event_types` (an
/// empty list, like none, allows all) and `channel` is among its channels.
pub(super) fn push_message_filter(
    sql: &mut QueryBuilder<Sqlite>,
    event_types: Option<&[String]>,
    channel: Option<&str>,
) {
    if let Some(types) = event_types.filter(|t| !t.is_empty()) {
        sql.push(" AND m.event_type IN (SELECT value FROM json_each(")
            .push_bind(json_list(types.iter().map(String::as_str)))
            .push("))");
    }
    if let Some(channel) = channel {
        sql.push(" AND EXISTS (SELECT 1 FROM json_each(m.channels) WHERE value = ")
            .push_bind(channel.to_owned())
            .push(")");
    }
}

/// Appends `before` and `after` bounds, both exclusive, on the timestamp column `column`.
pub(super) fn push_time_filter(
    sql: &mut QueryBuilder<Sqlite>,
    column: &str,
    before: Option<Timestamp>,
    after: Option<Timestamp>,
) {
    if let Some(before) = before {
        sql.push(format_args!(" AND {column} < "))
            .push_bind(before.as_millis());
    }
    if let Some(after) = after {
        sql.push(format_args!(" AND {column} > "))
            .push_bind(after.as_millis());
    }
}

pub(super) fn from_row(row: &SqliteRow) -> Result<Message> {
    Ok(Message {
        id: MessageId::from_stored(row.try_get("id")?),
        app_id: AppId::from_stored(row.try_get("app_id")?),
        event_type: row.try_get("event_type")?,
        event_id: row.try_get("event_id")?,
        channels: list_from_json(row, "channels")?,
        payload: crate::convert::payload_from_column(row.try_get("payload")?),
        retention_days: row.try_get("retention_days")?,
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

/// Empties the payload and fails the message's pending deliveries, in one transaction.
pub(super) async fn expunge_payload(writer: &Writer, app: &AppId, msg: &MessageId) -> Result<bool> {
    let mut conn = writer.take().await?;
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let found = sqlx::query("UPDATE messages SET payload = '' WHERE app_id = ? AND id = ?")
        .bind(app.as_str())
        .bind(msg.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if found > 0 {
        sqlx::query(
            "UPDATE deliveries SET status = 2, next_attempt_at = NULL
             WHERE msg_id = ? AND status = 1",
        )
        .bind(msg.as_str())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(found > 0)
}
