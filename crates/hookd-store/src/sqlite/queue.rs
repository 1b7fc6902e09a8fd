//! The delivery queue in SQLite: claim due rows under a lease, record what happened, release.
//!
//! A row is pending (status 1) until claimed; a claim makes it sending (3) with a lease. A row
//! whose lease ran out, because the process that held it died, is claimed again as if pending.
//! `next_attempt_at` keeps the due time while a row is leased, so a release is only a status
//! change.

use hookd_core::{AppId, AttemptStatus, EndpointId, MessageId, Timestamp, TriggerType};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqlitePool};

use super::attempt;
use super::column::{corrupt, json_list, map_from_json};
use crate::queue::Due;
use crate::secrets::Secrets;
use crate::{Claim, DeliveryId, DueDelivery, NextStep, Outcome, Result, Sealer};

// `LIMIT ?4 + 0`, not `LIMIT ?4`: SQLite re-prepares a statement whose LIMIT is a bare bound
// parameter every time it runs (about 2 % of hookd's CPU under load); an expression it does not.

/// Re-leases rows whose lease ran out before `?2`.
const CLAIM_EXPIRED: &str = "
    UPDATE deliveries SET lease_until = ?1
    WHERE id IN (
        SELECT id FROM deliveries
        WHERE status = 3 AND lease_until < ?2
          AND endpoint_id NOT IN (SELECT value FROM json_each(?3))
        ORDER BY lease_until LIMIT ?4 + 0)
    RETURNING id";

/// Leases pending rows due at `?2`, oldest first: a range scan of the partial index.
const CLAIM_DUE: &str = "
    UPDATE deliveries SET status = 3, lease_until = ?1
    WHERE id IN (
        SELECT id FROM deliveries
        WHERE status = 1 AND next_attempt_at <= ?2
          AND endpoint_id NOT IN (SELECT value FROM json_each(?3))
        ORDER BY next_attempt_at LIMIT ?4 + 0)
    RETURNING id";

pub(super) async fn claim_due(
    writer: &SqlitePool,
    sealer: &Sealer,
    now: Timestamp,
    lease_until: Timestamp,
    limit: u32,
    skip: &[EndpointId],
) -> Result<Claim> {
    let skip = json_list(skip.iter().map(EndpointId::as_str));
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    let mut claimed = Vec::new();
    for sql in [CLAIM_EXPIRED, CLAIM_DUE] {
        let room = i64::from(limit) - i64::try_from(claimed.len()).unwrap_or(i64::MAX);
        if room <= 0 {
            break;
        }
        let ids: Vec<i64> = sqlx::query_scalar(sql)
            .bind(lease_until.as_millis())
            .bind(now.as_millis())
            .bind(&skip)
            .bind(room)
            .fetch_all(&mut *tx)
            .await?;
        claimed.extend(ids);
    }
    let due = if claimed.is_empty() {
        Vec::new()
    } else {
        read_due(&mut tx, sealer, now, &claimed).await?
    };
    let next_due_at = next_due_at(&mut tx, &skip).await?;
    tx.commit().await?;
    Ok(Claim { due, next_due_at })
}

/// Reads what the worker needs for each claimed row, drops the rows whose message or
/// endpoint is gone, and fails those whose payload was removed.
async fn read_due(
    tx: &mut SqliteConnection,
    sealer: &Sealer,
    now: Timestamp,
    claimed: &[i64],
) -> Result<Vec<DueDelivery>> {
    let claimed = json_list(claimed.iter().copied());
    let rows = sqlx::query(
        "SELECT d.id, d.app_id, d.msg_id, d.endpoint_id, d.attempts_made, d.trigger_type,
                m.event_type, m.payload, e.url, e.secret, e.retired_secrets, e.headers
         FROM deliveries d
         LEFT JOIN messages m ON m.id = d.msg_id
         LEFT JOIN endpoints e ON e.id = d.endpoint_id
         WHERE d.id IN (SELECT value FROM json_each(?))
         ORDER BY d.next_attempt_at, d.id",
    )
    .bind(&claimed)
    .fetch_all(&mut *tx)
    .await?;
    let mut due = Vec::with_capacity(rows.len());
    let (mut orphans, mut unsendable) = (Vec::new(), Vec::new());
    for row in &rows {
        match due_delivery(row, sealer, now)? {
            Due::Send(delivery) => due.push(*delivery),
            Due::Orphan => orphans.push(row.try_get::<i64, _>("id")?),
            Due::PayloadRemoved => unsendable.push(row.try_get::<i64, _>("id")?),
        }
    }
    for (sql, ids) in [(DROP_ROWS, orphans), (FAIL_ROWS, unsendable)] {
        if !ids.is_empty() {
            sqlx::query(sql)
                .bind(json_list(ids))
                .execute(&mut *tx)
                .await?;
        }
    }
    Ok(due)
}

const DROP_ROWS: &str = "DELETE FROM deliveries WHERE id IN (SELECT value FROM json_each(?))";
const FAIL_ROWS: &str = "UPDATE deliveries SET status = 2, lease_until = NULL
                         WHERE id IN (SELECT value FROM json_each(?))";

fn due_delivery(row: &SqliteRow, sealer: &Sealer, now: Timestamp) -> Result<Due> {
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
    let attempts_made: i64 = row.try_get("attempts_made")?;
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
        trigger: TriggerType::from_code(row.try_get("trigger_type")?),
    })))
}

/// The earliest due time among pending rows the caller could claim: skipped endpoints' rows
/// are left out, or a busy endpoint's backlog would wake the worker at once, for nothing.
async fn next_due_at(tx: &mut SqliteConnection, skip: &str) -> Result<Option<Timestamp>> {
    let next: Option<i64> = sqlx::query_scalar(
        "SELECT next_attempt_at FROM deliveries
         WHERE status = 1 AND endpoint_id NOT IN (SELECT value FROM json_each(?))
         ORDER BY next_attempt_at LIMIT 1",
    )
    .bind(skip)
    .fetch_optional(&mut *tx)
    .await?;
    Ok(next.map(Timestamp))
}

/// Two statements for the whole batch, whatever its size: the attempts, then the deliveries.
pub(super) async fn record_outcomes(writer: &SqlitePool, outcomes: &[Outcome]) -> Result<()> {
    let moves: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|outcome| {
            let (status, next_attempt_at) = match outcome.next {
                NextStep::Delivered => (AttemptStatus::Success, None),
                NextStep::RetryAt(at) => (AttemptStatus::Pending, Some(at.as_millis())),
                NextStep::Exhausted => (AttemptStatus::Fail, None),
            };
            serde_json::json!([outcome.delivery.0, status.code(), next_attempt_at])
        })
        .collect();
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    attempt::insert_many(&mut tx, outcomes.iter().map(|o| &o.attempt)).await?;
    // A row deleted meanwhile (its endpoint went) updates nothing; the attempt is logged.
    sqlx::query(
        "UPDATE deliveries SET status = moved.value->>1, next_attempt_at = moved.value->>2,
                               lease_until = NULL, attempts_made = attempts_made + 1
         FROM json_each(?) AS moved
         WHERE deliveries.id = moved.value->>0",
    )
    .bind(serde_json::Value::Array(moves).to_string())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn release(writer: &SqlitePool, ids: &[DeliveryId]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let ids = json_list(ids.iter().map(|id| id.0));
    sqlx::query(
        "UPDATE deliveries SET status = 1, lease_until = NULL
         WHERE status = 3 AND id IN (SELECT value FROM json_each(?))",
    )
    .bind(ids)
    .execute(writer)
    .await?;
    Ok(())
}

pub(super) async fn release_all(writer: &SqlitePool) -> Result<()> {
    sqlx::query("UPDATE deliveries SET status = 1, lease_until = NULL WHERE status = 3")
        .execute(writer)
        .await?;
    Ok(())
}
