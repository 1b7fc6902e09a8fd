//! The message log filtered by how its deliveries stand, in SQLite: the messages with at least
//! one endpoint whose delivery (its newest row, after any resend) has the status asked for.

use hookd_core::{AppId, AttemptStatus, Message};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use super::message::{from_row, push_message_filter, push_time_filter};
use crate::window::Window;
use crate::{MessageFilter, Page, PageQuery, Result};

pub(super) async fn list(
    reader: &SqlitePool,
    app: &AppId,
    page: &PageQuery,
    filter: &MessageFilter,
    status: AttemptStatus,
) -> Result<Page<Message>> {
    let window = Window::new(page);
    let mut sql = QueryBuilder::<Sqlite>::new(
        "SELECT m.id, m.app_id, m.event_type, m.event_id, m.channels, m.payload,
                m.retention_days, m.created_at
         FROM messages m WHERE m.app_id = ",
    );
    sql.push_bind(app.as_str().to_owned())
        .push(" AND EXISTS (SELECT 1 FROM deliveries d WHERE d.msg_id = m.id AND d.status = ")
        .push_bind(status.code())
        .push(
            " AND d.id = (SELECT MAX(x.id) FROM deliveries x
                          WHERE x.msg_id = d.msg_id AND x.endpoint_id = d.endpoint_id))",
        );
    let types = filter.event_types.as_deref();
    push_message_filter(&mut sql, types, filter.channel.as_deref());
    push_time_filter(&mut sql, "m.created_at", filter.before, filter.after);
    window.push(&mut sql, "m.id");
    let rows = sql.build().fetch_all(reader).await?;
    let messages = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(window.page(messages, |m| m.id.as_str()))
}
