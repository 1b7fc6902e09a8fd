//! The delivery queue in PostgreSQL, shared by every node: claim due rows under a lease,
//! record what happened, release.
//!
//! A row stays pending (1) until claimed; a claim makes it sending (3) with a lease. A row
//! whose lease ran out, because its node died, is claimed again as if pending.
//! `next_attempt_at` keeps the due time while a row is leased, so a release is only a status
//! change. Claims run one at a time across the cluster, so that each endpoint's live leases,
//! counted over all nodes, stay within its cap (`claim.rs`); they pass over rows that other
//! transactions hold (`FOR UPDATE SKIP LOCKED`) instead of waiting for them. Recording an
//! outcome ends a lease and so may free room under a cap that other deliveries wait for: it
//! wakes every node then, this one included.

use hookd_core::{
    AppId, Attempt, AttemptStatus, EndpointId, FailureReason, MessageId, Timestamp, TriggerType,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};

use super::claim::Claimer;
use super::column::{code, corrupt, map_from_json, nul_free};
use super::retry::retrying;
use super::wakeup::Channel;
use crate::queue::Due;
use crate::secrets::Secrets;
use crate::{Claim, DeliveryId, DueDelivery, NextStep, Outcome, Result, Sealer};

pub(super) async fn claim_due(
    pool: &PgPool,
    sealer: &Sealer,
    now: Timestamp,
    lease_until: Timestamp,
    limit: u32,
    per_endpoint: u32,
    skip: &[EndpointId],
) -> Result<Claim> {
    let skip: Vec<&str> = skip.iter().map(EndpointId::as_str).collect();
    retrying(|| claim_once(pool, sealer, now, lease_until, limit, per_endpoint, &skip)).await
}

async fn claim_once(
    pool: &PgPool,
    sealer: &Sealer,
    now: Timestamp,
    lease_until: Timestamp,
    limit: u32,
    per_endpoint: u32,
    skip: &[&str],
) -> Result<Claim> {
    let mut tx = pool.begin().await?;
    let mut claimer = Claimer::start(&mut tx, now, lease_until, per_endpoint, skip).await?;
    let claimed = claimer.take(&mut tx, limit).await?;
    let due = if claimed.is_empty() {
        Vec::new()
    } else {
        read_due(&mut tx, sealer, now, &claimed).await?
    };
    let next_due_at = claimer.next_due_at(&mut tx).await?;
    tx.commit().await?;
    Ok(Claim {
        due,
        next_due_at,
        left_due: false,
    })
}

/// Reads what the worker needs for each claimed row, drops the rows whose message or
/// endpoint is gone, and fails those whose payload was removed.
async fn read_due(
    tx: &mut PgConnection,
    sealer: &Sealer,
    now: Timestamp,
    claimed: &[i64],
) -> Result<Vec<DueDelivery>> {
    let rows = sqlx::query(
        "SELECT d.id, d.app_id, d.msg_id, d.endpoint_id, d.attempts_made, d.trigger_type,
                m.event_type, m.payload, e.url, e.secret, e.retired_secrets, e.headers
         FROM deliveries d
         LEFT JOIN messages m ON m.id = d.msg_id
         LEFT JOIN endpoints e ON e.id = d.endpoint_id
         WHERE d.id = ANY($1)
         ORDER BY d.next_attempt_at, d.id",
    )
    .bind(claimed)
    .fetch_all(&mut *tx)
    .await?;
    let mut due = Vec::with_capacity(rows.len());
    let (mut orphans, mut unsendable): (Vec<i64>, Vec<i64>) = (Vec::new(), Vec::new());
    for row in &rows {
        match due_delivery(row, sealer, now)? {
            Due::Send(delivery) => due.push(*delivery),
            Due::Orphan => orphans.push(row.try_get("id")?),
            Due::PayloadRemoved => unsendable.push(row.try_get("id")?),
        }
    }
    for (sql, ids) in [(DROP_ROWS, orphans), (FAIL_ROWS, unsendable)] {
        if !ids.is_empty() {
            sqlx::query(sql).bind(ids).execute(&mut *tx).await?;
        }
    }
    Ok(due)
}

const DROP_ROWS: &str = "DELETE FROM deliveries WHERE id = ANY($1)";
const FAIL_ROWS: &str = "UPDATE deliveries SET status = 2, lease_until = NULL WHERE id = ANY($1)";

fn due_delivery(row: &PgRow, sealer: &Sealer, now: Timestamp) -> Result<Due> {
    let event_type: Option<String> = row.try_get("event_type")?;
    let url: Option<String> = row.try_get("url")?;
    let (Some(event_type), Some(url)) = (event_type, url) else {
        return Ok(Due::Orphan);
    };
    let payload: String = row.try_get("payload")?;
    if payload.is_empty() {
        return Ok(Due::PayloadRemoved);
    }
    let endpoint_id: String = row.try_get("endpoint_id")?;
    let secrets = Secrets::open(
        sealer,
        &endpoint_id,
        row.try_get("secret")?,
        row.try_get("retired_secrets")?,
    )?;
    let attempts_made: i32 = row.try_get("attempts_made")?;
    Ok(Due::Send(Box::new(DueDelivery {
        id: DeliveryId(row.try_get("id")?),
        app_id: AppId::from_stored(row.try_get("app_id")?),
        msg_id: MessageId::from_stored(row.try_get("msg_id")?),
        endpoint_id: EndpointId::from_stored(endpoint_id),
        event_type,
        payload,
        url,
        secrets: secrets.valid_at(now),
        headers: map_from_json(row, "headers")?,
        attempts_made: u32::try_from(attempts_made).map_err(|e| corrupt("attempts_made", e))?,
        trigger: TriggerType::from_code(code(row, "trigger_type")?),
    })))
}

pub(super) async fn record_outcomes(
    pool: &PgPool,
    channel: &Channel,
    outcomes: &[Outcome],
) -> Result<()> {
    retrying(|| record_once(pool, channel, outcomes)).await
}

/// Two statements whatever the batch size: the attempts, then the queue rows.
async fn record_once(pool: &PgPool, channel: &Channel, outcomes: &[Outcome]) -> Result<()> {
    let mut ids = Vec::with_capacity(outcomes.len());
    let mut statuses = Vec::with_capacity(outcomes.len());
    let mut next_attempts = Vec::with_capacity(outcomes.len());
    for outcome in outcomes {
        let (status, next_attempt_at) = match outcome.next {
            NextStep::Delivered => (AttemptStatus::Success, None),
            NextStep::RetryAt(at) => (AttemptStatus::Pending, Some(at.as_millis())),
            NextStep::Exhausted => (AttemptStatus::Fail, None),
        };
        ids.push(outcome.delivery.0);
        statuses.push(status.code());
        next_attempts.push(next_attempt_at);
    }
    let retries = next_attempts.iter().any(Option::is_some);
    let attempts: Vec<_> = outcomes.iter().map(|o| &o.attempt).collect();
    let mut tx = pool.begin().await?;
    insert_attempts(&mut tx, &attempts).await?;
    // A row deleted meanwhile (its endpoint went) updates nothing; the attempt is logged. The
    // check reads the rows as they were before the update: other deliveries of these endpoints,
    // one index seek per endpoint.
    let others_wait: bool = sqlx::query_scalar(
        "WITH moved AS (
             UPDATE deliveries d SET status = u.status, next_attempt_at = u.next_attempt_at,
                                     lease_until = NULL, attempts_made = d.attempts_made + 1
             FROM UNNEST($1::bigint[], $2::smallint[], $3::bigint[])
                  AS u(id, status, next_attempt_at)
             WHERE d.id = u.id
             RETURNING d.endpoint_id)
         SELECT EXISTS (
             SELECT 1 FROM (SELECT DISTINCT endpoint_id FROM moved) m,
             LATERAL (SELECT 1 FROM deliveries
                      WHERE status = 1 AND endpoint_id = m.endpoint_id LIMIT 1) pending)",
    )
    .bind(ids)
    .bind(statuses)
    .bind(next_attempts)
    .fetch_one(&mut *tx)
    .await?;
    if others_wait {
        // The leases just ended may be the room under an endpoint's cap that its pending
        // deliveries wait for, on any node: this one's dispatcher is woken too.
        channel.notify_every_node(&mut tx).await?;
    } else if retries {
        // Another node may be asleep until a later due time than these retries.
        channel.notify(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Logs every attempt in one statement: one array per column, unnested into rows.
async fn insert_attempts(tx: &mut PgConnection, attempts: &[&Attempt]) -> Result<()> {
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
