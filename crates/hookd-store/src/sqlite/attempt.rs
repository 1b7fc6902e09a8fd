//! The attempt log in SQLite: lists by endpoint or by message, with their filters.

use hookd_core::{
    AppId, Attempt, AttemptId, AttemptStatus, EndpointId, FailureReason, MessageId, Timestamp,
    TriggerType,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use super::bound::{Db, Prepared};
use super::column::{corrupt, nul_free};
use super::message::{push_message_filter, push_time_filter};
use super::writer::Writer;
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
pub(super) enum Of<'a> {
    Endpoint(&'a EndpointId),
    Message(&'a MessageId),
}

/// A batch of attempts as one JSON array, for the attempt insert in `queue::RECORD_OUTCOMES`:
/// the batch travels as one value, so the cost does not grow by a statement (and a trip to
/// sqlx's connection thread) per attempt.
pub(super) fn rows<'a>(attempts: impl Iterator<Item = &'a Attempt>) -> String {
    // Tuples serialize as JSON arrays with no `serde_json::Value` built in between.
    let rows: Vec<_> = attempts.map(columns).collect();
    serde_json::to_string(&rows).expect("rows of strings and numbers always serialize")
}

/// An attempt's columns, in the order of the `attempts` table.
type Columns<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    i64,
    i64,
    std::borrow::Cow<'a, str>,
    i64,
    i64,
    Option<&'static str>,
    i64,
);

fn columns(a: &Attempt) -> Columns<'_> {
    (
        a.id.as_str(),
        a.app_id.as_str(),
        a.msg_id.as_str(),
        a.endpoint_id.as_str(),
        &a.url,
        i64::from(a.status.code()),
        i64::from(a.response_status_code),
        nul_free(&a.response),
        a.response_duration_ms,
        i64::from(a.trigger.code()),
        a.failure.map(FailureReason::as_str),
        a.created_at.as_millis(),
    )
}

/// Inserts `attempts` through the prepared statements (`bound`); as `rows` in
/// `queue::RECORD_OUTCOMES`, those of an application that is gone are left out.
pub(super) fn insert_bound<'a>(
    db: Db,
    prepared: &Prepared,
    attempts: impl Iterator<Item = &'a Attempt>,
) -> Result<()> {
    let rows: Vec<_> = attempts.map(columns).collect();
    prepared.attempts.run(db, &rows, |b, row| {
        b.text(row.0);
        b.text(row.1);
        b.text(row.2);
        b.text(row.3);
        b.text(row.4);
        b.int(row.5);
        b.int(row.6);
        b.text(&row.7);
        b.int(row.8);
        b.int(row.9);
        b.opt_text(row.10);
        b.int(row.11);
    })
}

pub(super) async fn get(
    reader: &SqlitePool,
    app: &AppId,
    msg: &MessageId,
    id: &str,
) -> Result<Option<Attempt>> {
    let row = sqlx::query(select!("WHERE a.app_id = ? AND a.msg_id = ? AND a.id = ?"))
        .bind(app.as_str())
        .bind(msg.as_str())
        .bind(id)
        .fetch_optional(reader)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub(super) async fn list(
    reader: &SqlitePool,
    app: &AppId,
    of: Of<'_>,
    page: &PageQuery,
    filter: &AttemptFilter,
) -> Result<Page<Attempt>> {
    let window = Window::new(page);
    let types = filter.event_types.as_deref().filter(|t| !t.is_empty());
    let mut sql = QueryBuilder::<Sqlite>::new(select!(""));
    if types.is_some() || filter.channel.is_some() {
        sql.push(" JOIN messages m ON m.id = a.msg_id");
    }
    sql.push(" WHERE a.app_id = ")
        .push_bind(app.as_str().to_owned());
    match of {
        Of::Endpoint(ep) => sql
            .push(" AND a.endpoint_id = ")
            .push_bind(ep.as_str().to_owned()),
        Of::Message(msg) => sql
            .push(" AND a.msg_id = ")
            .push_bind(msg.as_str().to_owned()),
    };
    push_attempt_filter(&mut sql, filter);
    push_message_filter(&mut sql, types, filter.channel.as_deref());
    push_time_filter(&mut sql, "a.created_at", filter.before, filter.after);
    window.push(&mut sql, "a.id");
    let rows = sql.build().fetch_all(reader).await?;
    let attempts = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(window.page(attempts, |a| a.id.as_str()))
}

/// Appends the conditions on the attempt `a` itself: status, status code class, endpoint.
fn push_attempt_filter(sql: &mut QueryBuilder<Sqlite>, filter: &AttemptFilter) {
    if let Some(status) = filter.status {
        sql.push(" AND a.status = ").push_bind(status.code());
    }
    match filter.status_code_class {
        None => {}
        Some(0) => {
            sql.push(" AND a.response_status_code = 0");
        }
        Some(class) => {
            sql.push(" AND a.response_status_code BETWEEN ")
                .push_bind(class);
            sql.push(" AND ").push_bind(class.saturating_add(99));
        }
    }
    if let Some(endpoint) = &filter.endpoint_id {
        sql.push(" AND a.endpoint_id = ")
            .push_bind(endpoint.as_str().to_owned());
    }
}

fn from_row(row: &SqliteRow) -> Result<Attempt> {
    let status: i64 = row.try_get("status")?;
    let failure: Option<String> = row.try_get("failure_reason")?;
    Ok(Attempt {
        id: AttemptId::from_stored(row.try_get("id")?),
        app_id: AppId::from_stored(row.try_get("app_id")?),
        msg_id: MessageId::from_stored(row.try_get("msg_id")?),
        endpoint_id: EndpointId::from_stored(row.try_get("endpoint_id")?),
        url: row.try_get("url")?,
        status: AttemptStatus::from_code(status).ok_or_else(|| corrupt("status", status))?,
        response_status_code: row.try_get("response_status_code")?,
        response: row.try_get("response")?,
        response_duration_ms: row.try_get("response_duration_ms")?,
        trigger: TriggerType::from_code(row.try_get("trigger_type")?),
        failure: failure
            .map(|f| FailureReason::parse(&f).ok_or_else(|| corrupt("failure_reason", f)))
            .transpose()?,
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

pub(super) async fn expunge_response(
    writer: &Writer,
    app: &AppId,
    msg: &MessageId,
    id: &str,
) -> Result<bool> {
    let updated =
        sqlx::query("UPDATE attempts SET response = '' WHERE app_id = ? AND msg_id = ? AND id = ?")
            .bind(app.as_str())
            .bind(msg.as_str())
            .bind(id)
            .execute(&mut *writer.take().await?)
            .await?
            .rows_affected();
    Ok(updated > 0)
}
