//! The delivery queue's hot path in SQLite, on the writer thread: claim due rows under a
//! lease, and record what attempts came to.
//!
//! A row is pending (status 1) until claimed; a claim makes it sending (3) with a lease. A row
//! whose lease ran out, because the process that held it died, is claimed again as if pending.
//! `next_attempt_at` keeps the due time while a row is leased, so a release is only a status
//! change.
//!
//! Durability: the intake connection commits with `synchronous = FULL`. A claim, and outcomes
//! recorded without a message, commit `light`ly (NORMAL: no fsync of their own); the next FULL
//! commit's fsync, on either of the writer's connections, makes them durable with it (the WAL
//! is one append-only file). So `kill -9` loses nothing; a power cut can lose the last moments
//! of claims and outcomes, whose deliveries are then made again, never lost: delivery stays
//! at-least-once. Messages are always FULL.

use std::sync::LazyLock;

use hookd_core::{AttemptStatus, FailureReason, Timestamp};
use rusqlite::Connection;

use super::rows::MultiRow;
use crate::convert::nul_free;
use crate::{NextStep, Outcome, Result};

/// Runs `f` in a transaction that commits with FULL's fsync.
pub(super) fn transaction<R>(conn: &Connection, f: impl FnOnce() -> Result<R>) -> Result<R> {
    conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
    let result = f().and_then(|value| {
        conn.prepare_cached("COMMIT")?.execute([])?;
        Ok(value)
    });
    if result.is_err() && !conn.is_autocommit() {
        // An error leaves nothing to undo.
        let _ = conn.execute_batch("ROLLBACK");
    }
    result
}

/// Runs `f` in a transaction that commits without an fsync of its own (see the module's docs),
/// and restores FULL after, also if it failed.
pub(super) fn light<R>(conn: &Connection, f: impl FnOnce() -> Result<R>) -> Result<R> {
    conn.prepare_cached("PRAGMA synchronous = NORMAL")?
        .execute([])?;
    let result = transaction(conn, f);
    conn.prepare_cached("PRAGMA synchronous = FULL")?
        .execute([])?;
    result
}

// `LIMIT ?4 + 0`, not `LIMIT ?4`: SQLite re-prepares a statement whose LIMIT is a bare bound
// parameter every time it runs; an expression it does not.

/// The endpoints with pending rows, found with one index seek each (a loose index scan), so
/// the rows of an endpoint passed over are jumped over, not read; and each one's room in the
/// caller's lanes (`?3`, a JSON object by endpoint; `?5` for one with no lane yet). Those with
/// no room are left out.
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

/// The claim: leases, until `?1`, first rows whose lease ran out before `?2` (of endpoints not
/// passed over), then each open endpoint's oldest rows due at `?2`, as many as its room and
/// its share (gathered as JSON, SQLite's stand-in for a lateral join, whose LIMIT cannot name
/// the outer row: so at most a lane's worth or the share, then cut to the room by position),
/// merged oldest first, at most `?4` in all; and returns with each what the worker needs to
/// send it. So a slow endpoint's backlog, however old, never crowds out the others, and no
/// lane is given more than it holds.
const CLAIM: &str = concat!(
    "UPDATE deliveries SET status = 3, lease_until = ?1
     WHERE id IN (
         SELECT id FROM (
             SELECT id FROM deliveries
             WHERE status = 3 AND lease_until < ?2
               AND endpoint_id NOT IN (SELECT key FROM json_each(?3) WHERE value = 0)
             ORDER BY lease_until LIMIT ?4 + 0)
         UNION ALL
         SELECT id FROM (",
    open_endpoints!(),
    "SELECT picked.value ->> 1 AS id FROM open, json_each((
         SELECT json_group_array(json_array(next_attempt_at, id)) FROM (
             SELECT next_attempt_at, id FROM deliveries
             WHERE status = 1 AND endpoint_id = open.endpoint_id AND next_attempt_at <= ?2
             ORDER BY next_attempt_at LIMIT min(?4, ?5, ",
    share!(),
    ")))) AS picked
     WHERE picked.key < open.room
     ORDER BY picked.value ->> 0 LIMIT ?4 + 0)
         LIMIT ?4 + 0)
     RETURNING id, app_id, msg_id, endpoint_id, attempts_made, trigger_type, next_attempt_at,
         (SELECT event_type FROM messages WHERE id = deliveries.msg_id) AS event_type,
         (SELECT payload FROM messages WHERE id = deliveries.msg_id) AS payload,
         (SELECT url FROM endpoints WHERE id = deliveries.endpoint_id) AS url,
         (SELECT secret FROM endpoints WHERE id = deliveries.endpoint_id) AS secret,
         (SELECT retired_secrets FROM endpoints WHERE id = deliveries.endpoint_id)
             AS retired_secrets,
         (SELECT headers FROM endpoints WHERE id = deliveries.endpoint_id) AS headers"
);

/// The earliest due time among the pending rows left that the caller could claim (endpoints
/// passed over left out, or a busy endpoint's backlog would wake the worker at once, for
/// nothing).
const NEXT_DUE: &str = concat!(
    open_endpoints!(),
    "SELECT MIN((SELECT MIN(next_attempt_at) FROM deliveries
                 WHERE status = 1 AND endpoint_id = open.endpoint_id)) AS next_due_at
     FROM open"
);

/// A claimed row as the claim read it; secrets still sealed, headers still JSON.
pub(super) struct Claimed {
    pub id: i64,
    pub app_id: String,
    pub msg_id: String,
    pub endpoint_id: String,
    pub attempts_made: i64,
    pub trigger_type: i64,
    pub next_attempt_at: i64,
    pub event_type: String,
    pub payload: String,
    pub url: String,
    pub secret: String,
    pub retired_secrets: String,
    pub headers: String,
}

/// What a claim found: the rows to send, and the due time of the next one left.
pub(super) struct ClaimRead {
    pub rows: Vec<Claimed>,
    pub next_due_at: Option<i64>,
}

/// The claim's parameters.
pub(super) struct ClaimArgs {
    pub now: Timestamp,
    pub lease_until: Timestamp,
    pub limit: u32,
    pub lane_cap: u32,
    /// The room of each endpoint the caller's lanes hold, as a JSON object.
    pub lanes: String,
}

/// Claims, in one light transaction; drops rows whose message or endpoint is gone, and fails
/// those whose payload was removed.
pub(super) fn claim(conn: &Connection, args: &ClaimArgs) -> Result<ClaimRead> {
    light(conn, || {
        let mut stmt = conn.prepare_cached(CLAIM)?;
        let (lease_until, now) = (args.lease_until.as_millis(), args.now.as_millis());
        let (limit, lane_cap) = (i64::from(args.limit), i64::from(args.lane_cap));
        let params = rusqlite::params![lease_until, now, args.lanes, limit, lane_cap];
        let mut rows = Vec::new();
        let (mut orphans, mut unsendable) = (Vec::new(), Vec::new());
        let mut read = stmt.query(params)?;
        while let Some(row) = read.next()? {
            let id: i64 = row.get("id")?;
            let event_type: Option<String> = row.get("event_type")?;
            let url: Option<String> = row.get("url")?;
            let (Some(event_type), Some(url)) = (event_type, url) else {
                orphans.push(id);
                continue;
            };
            let payload: String = row.get("payload")?;
            if payload.is_empty() {
                unsendable.push(id);
                continue;
            }
            rows.push(Claimed {
                id,
                app_id: row.get("app_id")?,
                msg_id: row.get("msg_id")?,
                endpoint_id: row.get("endpoint_id")?,
                attempts_made: row.get("attempts_made")?,
                trigger_type: row.get("trigger_type")?,
                next_attempt_at: row.get("next_attempt_at")?,
                event_type,
                payload,
                url,
                secret: row.get("secret")?,
                retired_secrets: row.get("retired_secrets")?,
                headers: row.get("headers")?,
            });
        }
        drop(read);
        // `NEXT_DUE` names only `?3` and `?5` of the claim's parameters; all five are bound.
        let next_due_at: Option<i64> = conn
            .prepare_cached(NEXT_DUE)?
            .query_row(params, |row| row.get(0))?;
        for (sql, ids) in [(DROP_ROWS, orphans), (FAIL_ROWS, unsendable)] {
            if !ids.is_empty() {
                let ids = serde_json::to_string(&ids).expect("numbers always serialize");
                conn.prepare_cached(sql)?.execute([ids])?;
            }
        }
        Ok(ClaimRead { rows, next_due_at })
    })
}

const DROP_ROWS: &str = "DELETE FROM deliveries WHERE id IN (SELECT value FROM json_each(?1))";
const FAIL_ROWS: &str = "UPDATE deliveries SET status = 2, lease_until = NULL
                         WHERE id IN (SELECT value FROM json_each(?1))";

/// The attempt's twelve columns, in `attempts`' order; those of an application that is gone
/// are left out: an attempt that finishes after its application was deleted is not logged.
static ATTEMPTS: LazyLock<MultiRow> = LazyLock::new(|| {
    MultiRow::new(12, |values| {
        format!(
            "INSERT OR FAIL INTO attempts (id, app_id, msg_id, endpoint_id, url, status,
                                           response_status_code, response,
                                           response_duration_ms, trigger_type,
                                           failure_reason, created_at)
             SELECT * FROM (VALUES {values})
             WHERE EXISTS (SELECT 1 FROM applications WHERE id = column2)"
        )
    })
});

/// Delivery id, its new status, its next attempt. A row deleted meanwhile (its endpoint went)
/// updates nothing.
static MOVES: LazyLock<MultiRow> = LazyLock::new(|| {
    MultiRow::new(3, |values| {
        format!(
            "UPDATE OR FAIL deliveries SET status = moved.column2,
                                           next_attempt_at = moved.column3,
                                           lease_until = NULL,
                                           attempts_made = attempts_made + 1
             FROM (VALUES {values}) AS moved
             WHERE deliveries.id = moved.column1"
        )
    })
});

/// Logs the attempts and moves their deliveries on, in the open transaction.
pub(super) fn record(conn: &Connection, outcomes: &[Outcome]) -> Result<()> {
    ATTEMPTS.run(conn, outcomes, |b, outcome| {
        let a = &outcome.attempt;
        b.bind(a.id.as_str())?;
        b.bind(a.app_id.as_str())?;
        b.bind(a.msg_id.as_str())?;
        b.bind(a.endpoint_id.as_str())?;
        b.bind(&a.url)?;
        b.bind(a.status.code())?;
        b.bind(a.response_status_code)?;
        b.bind(nul_free(&a.response).as_ref())?;
        b.bind(a.response_duration_ms)?;
        b.bind(a.trigger.code())?;
        b.bind(a.failure.map(FailureReason::as_str))?;
        b.bind(a.created_at.as_millis())
    })?;
    MOVES.run(conn, outcomes, |b, outcome| {
        let (status, next_attempt_at) = match outcome.next {
            NextStep::Delivered => (AttemptStatus::Success, None),
            NextStep::RetryAt(at) => (AttemptStatus::Pending, Some(at.as_millis())),
            NextStep::Exhausted => (AttemptStatus::Fail, None),
        };
        b.bind(outcome.delivery.0)?;
        b.bind(status.code())?;
        b.bind(next_attempt_at)
    })
}
