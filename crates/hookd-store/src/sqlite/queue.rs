//! The delivery queue in SQLite: claim due rows under a lease, record what happened, release.
//!
//! A row is pending (status 1) until claimed; a claim makes it sending (3) with a lease. A row
//! whose lease ran out, because the process that held it died, is claimed again as if pending.
//! `next_attempt_at` keeps the due time while a row is leased, so a release is only a status
//! change.

use hookd_core::{AppId, AttemptStatus, EndpointId, MessageId, Timestamp, TriggerType};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::attempt;
use super::bound::{Db, Prepared};
use super::column::{corrupt, json_list, map_from_json};
use super::script::run_once;
use super::writer::Writer;
use crate::queue::Due;
use crate::secrets::Secrets;
use crate::{Claim, DeliveryId, DueDelivery, NextStep, Outcome, Result, Sealer, StoreError};

// `LIMIT ?4 + 0`, not `LIMIT ?4`: SQLite re-prepares a statement whose LIMIT is a bare bound
// parameter every time it runs (about 2 % of hookd's CPU under load); an expression it does not.

/// A claim in one statement (one round trip): leases the rows chosen by `$due` (and first any
/// whose lease ran out before `?2`), at most `?4`, until `?1`, and returns with each what the
/// worker needs to send it. `?3` is the JSON object of the caller's lanes' room by endpoint
/// (0: pass it over) and `?5` the room of an endpoint with no lane yet. Followed by the
/// earliest due time among the pending rows left that the caller could claim (endpoints passed
/// over left out, or a busy endpoint's backlog would wake the worker at once, for nothing);
/// `$next` computes it.
macro_rules! claim {
    ($due:expr, $next:expr) => {
        concat!(
            light!(),
            "UPDATE deliveries SET status = 3, lease_until = ?1
             WHERE id IN (
                 SELECT id FROM (
                     SELECT id FROM deliveries
                     WHERE status = 3 AND lease_until < ?2
                       AND endpoint_id NOT IN (SELECT key FROM json_each(?3) WHERE value = 0)
                     ORDER BY lease_until LIMIT ?4 + 0)
                 UNION ALL
                 SELECT id FROM (",
            $due,
            ")
                 LIMIT ?4 + 0)
             RETURNING id, app_id, msg_id, endpoint_id, attempts_made, trigger_type,
                 next_attempt_at,
                 (SELECT event_type FROM messages WHERE id = deliveries.msg_id) AS event_type,
                 (SELECT payload FROM messages WHERE id = deliveries.msg_id) AS payload,
                 (SELECT url FROM endpoints WHERE id = deliveries.endpoint_id) AS url,
                 (SELECT secret FROM endpoints WHERE id = deliveries.endpoint_id) AS secret,
                 (SELECT retired_secrets FROM endpoints WHERE id = deliveries.endpoint_id)
                     AS retired_secrets,
                 (SELECT headers FROM endpoints WHERE id = deliveries.endpoint_id) AS headers;",
            full!(),
            $next
        )
    };
}

/// The endpoints with pending rows, found with one index seek each (a loose index scan), so
/// the rows of an endpoint passed over are jumped over, not read; and each one's room in the
/// caller's lanes. Those with no room are left out.
macro_rules! open_endpoints {
    () => {
        "WITH RECURSIVE busy(endpoint_id) AS (
             SELECT MIN(endpoint_id) FROM deliveries WHERE status = 1
             UNION ALL
             SELECT (SELECT MIN(endpoint_id) FROM deliveries
                     WHERE status = 1 AND endpoint_id > busy.endpoint_id)
             FROM busy WHERE busy.endpoint_id IS NOT NULL),
         open(endpoint_id, room) AS (
             SELECT busy.endpoint_id, coalesce(lane.value, ?5) AS room
             FROM busy LEFT JOIN json_each(?3) AS lane ON lane.key = busy.endpoint_id
             WHERE busy.endpoint_id IS NOT NULL AND room > 0) "
    };
}

/// The most rows a claim takes from one endpoint: an even share of its limit among the open
/// endpoints with rows due at `?2`, and one more. Without it a claim over a hundred endpoints
/// would gather and sort a lane's worth of each (6,400 rows) to take 256. An endpoint given its
/// share may have more due: `Claim::left_due`.
macro_rules! share {
    () => {
        "(SELECT ?4 / max(count(*), 1) + 1 FROM open
          WHERE EXISTS (SELECT 1 FROM deliveries
                        WHERE status = 1 AND endpoint_id = open.endpoint_id
                          AND next_attempt_at <= ?2))"
    };
}

/// The claim: each open endpoint's oldest rows due at `?2`, as many as its room and its share
/// (gathered as JSON, SQLite's stand-in for a lateral join, whose LIMIT cannot name the outer
/// row: so at most a lane's worth or the share, then cut to the room by position), merged
/// oldest first. So a slow endpoint's backlog, however old, never crowds out the others, and
/// no lane is given more than it holds.
const CLAIM: &str = claim!(
    concat!(
        open_endpoints!(),
        "SELECT picked.value ->> 1 AS id FROM open, json_each((
             SELECT json_group_array(json_array(next_attempt_at, id)) FROM (
                 SELECT next_attempt_at, id FROM deliveries
                 WHERE status = 1 AND endpoint_id = open.endpoint_id AND next_attempt_at <= ?2
                 ORDER BY next_attempt_at LIMIT min(?4, ?5, ",
        share!(),
        ")))) AS picked
         WHERE picked.key < open.room
         ORDER BY picked.value ->> 0 LIMIT ?4 + 0"
    ),
    concat!(
        open_endpoints!(),
        "SELECT MIN((SELECT MIN(next_attempt_at) FROM deliveries
                     WHERE status = 1 AND endpoint_id = open.endpoint_id)) AS next_due_at
         FROM open"
    )
);

pub(super) async fn claim_due(
    writer: &Writer,
    sealer: &Sealer,
    now: Timestamp,
    lease_until: Timestamp,
    limit: u32,
    lane_cap: u32,
    lanes: &[(EndpointId, u32)],
) -> Result<Claim> {
    let lanes: serde_json::Map<String, serde_json::Value> = lanes
        .iter()
        .map(|(id, room)| (id.as_str().to_owned(), (*room).into()))
        .collect();
    let query = sqlx::query(CLAIM)
        .bind(lease_until.as_millis())
        .bind(now.as_millis())
        .bind(serde_json::Value::Object(lanes).to_string())
        .bind(i64::from(limit))
        .bind(i64::from(lane_cap));
    let rows = run_once(writer, query).await?;
    let (last, claimed) = rows
        .split_last()
        .ok_or_else(|| StoreError::Corrupt("a claim returned no next due time".into()))?;
    let next_due_at: Option<i64> = last.try_get("next_due_at")?;
    let due = sendable(writer, sealer, now, claimed).await?;
    Ok(Claim {
        due,
        next_due_at: next_due_at.map(Timestamp),
        left_due: next_due_at.is_some_and(|at| at <= now.as_millis()),
    })
}

/// What the worker needs for each claimed row, oldest due first; drops the rows whose message
/// or endpoint is gone, and fails those whose payload was removed.
async fn sendable(
    writer: &Writer,
    sealer: &Sealer,
    now: Timestamp,
    claimed: &[SqliteRow],
) -> Result<Vec<DueDelivery>> {
    let mut due = Vec::with_capacity(claimed.len());
    let (mut orphans, mut unsendable) = (Vec::new(), Vec::new());
    for row in claimed {
        match due_delivery(row, sealer, now)? {
            Due::Send(delivery) => {
                let at: i64 = row.try_get("next_attempt_at")?;
                due.push((at, *delivery));
            }
            Due::Orphan => orphans.push(row.try_get::<i64, _>("id")?),
            Due::PayloadRemoved => unsendable.push(row.try_get::<i64, _>("id")?),
        }
    }
    for (sql, ids) in [(DROP_ROWS, orphans), (FAIL_ROWS, unsendable)] {
        if !ids.is_empty() {
            sqlx::query(sql)
                .bind(json_list(ids))
                .execute(&mut *writer.take().await?)
                .await?;
        }
    }
    due.sort_by_key(|(at, delivery)| (*at, delivery.id));
    Ok(due.into_iter().map(|(_, delivery)| delivery).collect())
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

/// Logs the attempts (the JSON array parameter `$attempts`, made by `attempt::rows`), then
/// moves the deliveries on (`$moves`: `[id, status, next_attempt_at]` each), whatever the
/// batch's size. An attempt that finishes after its application was deleted is not logged; a
/// delivery row deleted meanwhile (its endpoint went) updates nothing. Inside a transaction.
macro_rules! record {
    ($attempts:literal, $moves:literal) => {
        concat!(
            "INSERT INTO attempts (id, app_id, msg_id, endpoint_id, url, status,
                                   response_status_code, response, response_duration_ms,
                                   trigger_type, failure_reason, created_at)
             SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5,
                    value->>6, value->>7, value->>8, value->>9, value->>10, value->>11
             FROM jsonb_each(",
            $attempts,
            ") WHERE EXISTS (SELECT 1 FROM applications WHERE id = value->>1);
             UPDATE deliveries SET status = moved.value->>1, next_attempt_at = moved.value->>2,
                                   lease_until = NULL, attempts_made = attempts_made + 1
             FROM jsonb_each(",
            $moves,
            ") AS moved
             WHERE deliveries.id = moved.value->>0;"
        )
    };
}

/// Records the attempts' outcomes in a transaction of their own, through the prepared
/// statements (`bound`), committed without an fsync of its own (see `script`'s docs). No
/// script runs: sqlx's connection has no transaction open.
pub(super) async fn record_outcomes(writer: &Writer, outcomes: &[Outcome]) -> Result<()> {
    writer
        .take_all()
        .await?
        .with_own(|db, prepared| prepared.light(db, || record_bound(db, prepared, outcomes)))
}

/// The two parameters of `record!` for `outcomes`.
pub(super) fn outcome_params(outcomes: &[Outcome]) -> (String, String) {
    let moves: Vec<_> = outcomes.iter().map(moved).collect();
    (
        attempt::rows(outcomes.iter().map(|o| &o.attempt)),
        serde_json::to_string(&moves).expect("numbers always serialize"),
    )
}

/// What `record!` writes, through the prepared statements (`bound`), in the open transaction.
pub(super) fn record_bound(db: Db, prepared: &Prepared, outcomes: &[Outcome]) -> Result<()> {
    attempt::insert_bound(db, prepared, outcomes.iter().map(|o| &o.attempt))?;
    prepared.moves.run(db, outcomes, |b, outcome| {
        let (delivery, status, next_attempt_at) = moved(outcome);
        b.int(delivery);
        b.int(i64::from(status));
        b.opt_int(next_attempt_at);
    })
}

/// An outcome's delivery: its id, its new status, and when it is tried next.
fn moved(outcome: &Outcome) -> (i64, i16, Option<i64>) {
    let (status, next_attempt_at) = match outcome.next {
        NextStep::Delivered => (AttemptStatus::Success, None),
        NextStep::RetryAt(at) => (AttemptStatus::Pending, Some(at.as_millis())),
        NextStep::Exhausted => (AttemptStatus::Fail, None),
    };
    (outcome.delivery.0, status.code(), next_attempt_at)
}

pub(super) async fn release(writer: &Writer, ids: &[DeliveryId]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let ids = json_list(ids.iter().map(|id| id.0));
    sqlx::query(
        "UPDATE deliveries SET status = 1, lease_until = NULL
         WHERE status = 3 AND id IN (SELECT value FROM json_each(?))",
    )
    .bind(ids)
    .execute(&mut *writer.take().await?)
    .await?;
    Ok(())
}

pub(super) async fn release_all(writer: &Writer) -> Result<()> {
    sqlx::query("UPDATE deliveries SET status = 1, lease_until = NULL WHERE status = 3")
        .execute(&mut *writer.take().await?)
        .await?;
    Ok(())
}
