//! The attempt log: lists by endpoint or by message, with their filters. Attempts are written
//! by each backend's outcome recorder, on the hot path.

use hookd_core::{
    AppId, Attempt, AttemptId, AttemptStatus, EndpointId, FailureReason, MessageId, Timestamp,
    TriggerType,
};

use super::message::{push_message_filter, push_time_filter};
use crate::convert::corrupt;
use crate::sql::{Db, Query, Row, first, sql};
use crate::window::Window;
use crate::{AttemptFilter, Page, PageQuery, Result};

/// A SELECT of every attempt column from `attempts a`, followed by `$rest`.
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT a.id, a.app_id, a.msg_id, a.endpoint_id, a.url, a.status,
                    a.response_status_code, a.response, a.response_duration_ms, a.trigger_type,
                    a.failure_reason, a.created_at
             FROM attempts a ",
            $rest
        )
    };
}

/// Whose attempts to list.
pub(crate) enum Of<'a> {
    Endpoint(&'a EndpointId),
    Message(&'a MessageId),
}

pub(crate) async fn get(
    db: &dyn Db,
    app: &AppId,
    msg: &MessageId,
    id: &str,
) -> Result<Option<Attempt>> {
    let rows = db
        .fetch(sql!(
            select!("WHERE a.app_id = $1 AND a.msg_id = $2 AND a.id = $3"),
            app.as_str(),
            msg.as_str(),
            id
        ))
        .await?;
    first(rows).as_ref().map(from_row).transpose()
}

pub(crate) async fn list(
    db: &dyn Db,
    app: &AppId,
    of: Of<'_>,
    page: &PageQuery,
    filter: &AttemptFilter,
) -> Result<Page<Attempt>> {
    let window = Window::new(page);
    let types = filter.event_types.as_deref().filter(|t| !t.is_empty());
    let mut sql = Query::new(select!(""));
    if types.is_some() || filter.channel.is_some() {
        sql.push(" JOIN messages m ON m.id = a.msg_id");
    }
    sql.push(" WHERE a.app_id = ").bind(app.as_str());
    match of {
        Of::Endpoint(ep) => sql.push(" AND a.endpoint_id = ").bind(ep.as_str()),
        Of::Message(msg) => sql.push(" AND a.msg_id = ").bind(msg.as_str()),
    };
    push_attempt_filter(&mut sql, filter);
    push_message_filter(&mut sql, db.dialect(), types, filter.channel.as_deref());
    push_time_filter(&mut sql, "a.created_at", filter.before, filter.after);
    window.push(&mut sql, "a.id");
    let rows = db.fetch(sql).await?;
    let attempts = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(window.page(attempts, |a| a.id.as_str()))
}

/// Appends the conditions on the attempt `a` itself: status, status code class, endpoint.
fn push_attempt_filter(sql: &mut Query, filter: &AttemptFilter) {
    if let Some(status) = filter.status {
        sql.push(" AND a.status = ").bind(status.code());
    }
    match filter.status_code_class {
        None => {}
        Some(0) => {
            sql.push(" AND a.response_status_code = 0");
        }
        Some(class) => {
            sql.push(" AND a.response_status_code BETWEEN ").bind(class);
            sql.push(" AND ").bind(class.saturating_add(99));
        }
    }
    if let Some(endpoint) = &filter.endpoint_id {
        sql.push(" AND a.endpoint_id = ").bind(endpoint.as_str());
    }
}

fn from_row(row: &Row) -> Result<Attempt> {
    let status = row.int("status")?;
    let failure = row.opt_text("failure_reason")?;
    Ok(Attempt {
        id: AttemptId::from_stored(row.text("id")?),
        app_id: AppId::from_stored(row.text("app_id")?),
        msg_id: MessageId::from_stored(row.text("msg_id")?),
        endpoint_id: EndpointId::from_stored(row.text("endpoint_id")?),
        url: row.text("url")?,
        status: AttemptStatus::from_code(status).ok_or_else(|| corrupt("status", status))?,
        response_status_code: row.int_as("response_status_code")?,
        response: row.text("response")?,
        response_duration_ms: row.int("response_duration_ms")?,
        trigger: TriggerType::from_code(row.int("trigger_type")?),
        failure: failure
            .map(|f| FailureReason::parse(&f).ok_or_else(|| corrupt("failure_reason", f)))
            .transpose()?,
        created_at: Timestamp(row.int("created_at")?),
    })
}

pub(crate) async fn expunge_response(
    db: &dyn Db,
    app: &AppId,
    msg: &MessageId,
    id: &str,
) -> Result<bool> {
    let updated = db
        .execute(sql!(
            "UPDATE attempts SET response = '' WHERE app_id = $1 AND msg_id = $2 AND id = $3",
            app.as_str(),
            msg.as_str(),
            id
        ))
        .await?;
    Ok(updated > 0)
}
