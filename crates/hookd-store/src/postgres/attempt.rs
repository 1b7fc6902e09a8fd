//! The attempt log in PostgreSQL: lists by endpoint or by message, with their filters, and the
//! batched insert the commit loop's outcome transactions use.

use hookd_core::{
    AppId, Attempt, AttemptId, AttemptStatus, EndpointId, FailureReason, MessageId, Timestamp,
    TriggerType,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row};

use super::column::{code, corrupt, nul_free};
use super::message::{push_message_filter, push_time_filter};
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

/// Logs every attempt in one statement: one array per column, unnested into rows.
pub(super) async fn insert_all(tx: &mut PgConnection, attempts: &[&Attempt]) -> Result<()> {
    let column = |f: fn(&Attempt) -> String| attempts.iter().map(|a| f(a)).collect::<Vec<_>>();
    let ids = column(|a| a.id.as_str().to_owned());
    let apps = column(|a| a.app_id.as_str().to_owned());
    let msgs = column(|a| a.msg_id.as_str().to_owned());
    let endpoints = column(|a| a.endpoint_id.as_str().to_owned());
    let urls = column(|a| a.url.clone());
    let responses = column(|a| nul_free(&a.response).into_owned());
    let statuses: Vec<i16> = attempts.iter().map(|a| a.status.code()).collect();
    let codes: Vec<i16> = attempts.iter().map(|a| a.response_status_code).collect();
    let durations: Vec<i64> = attempts.iter().map(|a| a.response_duration_ms).collect();
    let triggers: Vec<i16> = attempts.iter().map(|a| a.trigger.code()).collect();
    let failures: Vec<Option<&str>> = attempts
        .iter()
        .map(|a| a.failure.map(FailureReason::as_str))
        .collect();
    let created: Vec<i64> = attempts.iter().map(|a| a.created_at.as_millis()).collect();
    // An attempt that finishes after its application was deleted is not logged.
    sqlx::query(
        "INSERT INTO attempts (id, app_id, msg_id, endpoint_id, url, status,
                               response_status_code, response, response_duration_ms,
                               trigger_type, failure_reason, created_at)
         SELECT u.* FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                                $6::smallint[], $7::smallint[], $8::text[], $9::bigint[],
                                $10::smallint[], $11::text[], $12::bigint[])
                      AS u(id, app_id, msg_id, endpoint_id, url, status, response_status_code,
                           response, response_duration_ms, trigger_type, failure_reason,
                           created_at)
         WHERE EXISTS (SELECT 1 FROM applications WHERE id = u.app_id)",
    )
    .bind(ids)
    .bind(apps)
    .bind(msgs)
    .bind(endpoints)
    .bind(urls)
    .bind(statuses)
    .bind(codes)
    .bind(responses)
    .bind(durations)
    .bind(triggers)
    .bind(failures)
    .bind(created)
    .execute(tx)
    .await?;
    Ok(())
}

pub(super) async fn get(
    pool: &PgPool,
    app: &AppId,
    msg: &MessageId,
    id: &str,
) -> Result<Option<Attempt>> {
    let row = sqlx::query(select!(
        "WHERE a.app_id = $1 AND a.msg_id = $2 AND a.id = $3"
    ))
    .bind(app.as_str())
    .bind(msg.as_str())
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub(super) async fn list(
    pool: &PgPool,
    app: &AppId,
    of: Of<'_>,
    page: &PageQuery,
    filter: &AttemptFilter,
) -> Result<Page<Attempt>> {
    let window = Window::new(page);
    let types = filter.event_types.as_deref().filter(|t| !t.is_empty());
    let mut sql = QueryBuilder::<Postgres>::new(select!(""));
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
    let rows = sql.build().fetch_all(pool).await?;
    let attempts = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(window.page(attempts, |a| a.id.as_str()))
}

/// Appends the conditions on the attempt `a` itself: status, status code class, endpoint.
fn push_attempt_filter(sql: &mut QueryBuilder<Postgres>, filter: &AttemptFilter) {
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

fn from_row(row: &PgRow) -> Result<Attempt> {
    let status = code(row, "status")?;
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
        trigger: TriggerType::from_code(code(row, "trigger_type")?),
        failure: failure
            .map(|f| FailureReason::parse(&f).ok_or_else(|| corrupt("failure_reason", f)))
            .transpose()?,
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

pub(super) async fn expunge_response(
    pool: &PgPool,
    app: &AppId,
    msg: &MessageId,
    id: &str,
) -> Result<bool> {
    let updated = sqlx::query(
        "UPDATE attempts SET response = '' WHERE app_id = $1 AND msg_id = $2 AND id = $3",
    )
    .bind(app.as_str())
    .bind(msg.as_str())
    .bind(id)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(updated > 0)
}
