//! Which rows a PostgreSQL claim takes: leases that ran out, then due rows, oldest first, and
//! for no endpoint more than its cap leaves room for, counting every node's live leases.
//!
//! A claim first takes a transaction-scoped advisory lock, so claims run one at a time across
//! the cluster and no two see the same free room. While it holds the lock a claim waits for
//! nothing else: it skips rows other transactions hold (`SKIP LOCKED`) and is a few short
//! statements, so another node waits for it briefly.
//!
//! Due rows are found one of two ways. Walking the due index in time order is cheapest while
//! the endpoints it must pass over (skipped by the caller, or at their cap) have few pending
//! rows; but a slow endpoint's backlog can hold a million, and the walk would read them all on
//! every claim. Then the claim goes endpoint by endpoint: a loose index scan lists each endpoint
//! with pending rows and its earliest due time, one seek per endpoint, and the claim takes the
//! oldest rows of those with room.

use std::collections::HashMap;

use hookd_core::Timestamp;
use sqlx::PgConnection;

use crate::Result;

/// The first key of the claim's advisory lock, "clai" in ASCII. The second is the schema's
/// hash: two installations in one database do not wait for each other.
const LOCK_SPACE: i32 = 0x636c_6169;

/// The most pending rows of passed-over endpoints that a claim walks past in time order; with
/// more, it seeks endpoint by endpoint. A seek costs about what walking 50 to 100 rows does, so
/// seeking loses only where thousands of endpoints have pending rows at once (5,000: about
/// 30 ms a statement, against 10 to 20 ms to walk past a 100,000-row backlog), and it never
/// grows with a backlog's length.
const WALK_BUDGET: i64 = 4_096;

/// Every node's live leases, counted per endpoint.
const LIVE_LEASES: &str = "
    SELECT endpoint_id, count(*) FROM deliveries
    WHERE status = 3 AND lease_until >= $1
    GROUP BY endpoint_id";

/// Counts the pending rows of the endpoints in `$1`, up to `$2`.
const PENDING_OF: &str = "
    SELECT count(*) FROM (
        SELECT 1 FROM deliveries WHERE status = 1 AND endpoint_id = ANY($1) LIMIT $2) p";

// The statements that take rows share their parameters: $1 the new lease's end, $2 now, $3
// the endpoints to pass over, $4 how many rows at most, $5 and $6 the live leases (endpoint,
// count) of the endpoints that have any, $7 the cap per endpoint.

/// The live leases as a table, from $5 and $6.
macro_rules! leased {
    () => {
        "leased(endpoint_id, n) AS (SELECT * FROM UNNEST($5::text[], $6::bigint[]))"
    };
}

/// Keeps from `walked` (id, endpoint_id, at) the rows within their endpoint's room.
macro_rules! within_room {
    () => {
        "picked AS (
            SELECT w.id FROM (
                SELECT id, endpoint_id,
                       row_number() OVER (PARTITION BY endpoint_id ORDER BY at, id) AS place
                FROM walked) w
            LEFT JOIN leased l USING (endpoint_id)
            WHERE w.place <= $7 - COALESCE(l.n, 0))"
    };
}

/// Each endpoint with pending rows and its earliest due time: one index seek per endpoint.
macro_rules! heads {
    () => {
        "heads(endpoint_id, next_attempt_at) AS (
            (SELECT endpoint_id, next_attempt_at FROM deliveries
             WHERE status = 1 ORDER BY endpoint_id, next_attempt_at LIMIT 1)
            UNION ALL
            SELECT after.endpoint_id, after.next_attempt_at FROM heads,
            LATERAL (SELECT endpoint_id, next_attempt_at FROM deliveries
                     WHERE status = 1 AND endpoint_id > heads.endpoint_id
                     ORDER BY endpoint_id, next_attempt_at LIMIT 1) after)"
    };
}

/// Leases the pending rows in `picked` that no other transaction holds. Ids as arrays, not
/// joins: a generic plan guesses `picked` large and would join by reading the whole table.
macro_rules! lease_picked {
    () => {
        "UPDATE deliveries SET status = 3, lease_until = $1
         WHERE id = ANY(ARRAY(
             SELECT id FROM deliveries WHERE id = ANY(ARRAY(SELECT id FROM picked)) AND status = 1
             FOR UPDATE SKIP LOCKED))
         RETURNING id, endpoint_id"
    };
}

/// Re-leases rows whose lease ran out before $2, the oldest lease first.
const TAKE_EXPIRED: &str = concat!(
    "WITH ",
    leased!(),
    ",
    walked AS (
        SELECT id, endpoint_id, lease_until AS at FROM deliveries
        WHERE status = 3 AND lease_until < $2 AND endpoint_id <> ALL($3)
        ORDER BY lease_until LIMIT $4),
    ",
    within_room!(),
    "
    UPDATE deliveries SET lease_until = $1
    WHERE id = ANY(ARRAY(
        SELECT id FROM deliveries
        WHERE id = ANY(ARRAY(SELECT id FROM picked)) AND status = 3 AND lease_until < $2
        FOR UPDATE SKIP LOCKED))
    RETURNING id, endpoint_id"
);

/// Leases rows due at $2 by walking the due index in time order: a range scan of the partial
/// index that passes over the endpoints in $3.
const TAKE_DUE_IN_ORDER: &str = concat!(
    "WITH ",
    leased!(),
    ",
    walked AS (
        SELECT id, endpoint_id, next_attempt_at AS at FROM deliveries
        WHERE status = 1 AND next_attempt_at <= $2 AND endpoint_id <> ALL($3)
        ORDER BY next_attempt_at LIMIT $4),
    ",
    within_room!(),
    lease_picked!()
);

/// Leases rows due at $2 endpoint by endpoint: the endpoints not in $3 whose earliest row is
/// due, oldest first, each giving its oldest rows up to its room.
const TAKE_DUE_BY_ENDPOINT: &str = concat!(
    "WITH RECURSIVE ",
    heads!(),
    ", ",
    leased!(),
    ",
    open AS (
        SELECT h.endpoint_id, $7 - COALESCE(l.n, 0) AS room FROM heads h
        LEFT JOIN leased l USING (endpoint_id)
        WHERE h.next_attempt_at <= $2 AND h.endpoint_id <> ALL($3)
        ORDER BY h.next_attempt_at LIMIT $4),
    picked AS (
        SELECT due.id FROM open o,
        LATERAL (SELECT id, next_attempt_at FROM deliveries
                 WHERE status = 1 AND endpoint_id = o.endpoint_id
                 ORDER BY next_attempt_at LIMIT LEAST(o.room, $4)) due
        WHERE due.next_attempt_at <= $2
        ORDER BY due.next_attempt_at, due.id LIMIT $4)
    ",
    lease_picked!()
);

/// The earliest due time among pending rows of endpoints not in $1, walking in time order.
const NEXT_IN_ORDER: &str = "
    SELECT next_attempt_at FROM deliveries
    WHERE status = 1 AND endpoint_id <> ALL($1)
    ORDER BY next_attempt_at LIMIT 1";

/// The same, endpoint by endpoint.
const NEXT_BY_ENDPOINT: &str = concat!(
    "WITH RECURSIVE ",
    heads!(),
    "
    SELECT min(next_attempt_at) FROM heads WHERE endpoint_id <> ALL($1)"
);

/// One claim in progress, inside its transaction: what it may take, and every node's live
/// leases per endpoint, its own included.
pub(super) struct Claimer<'a> {
    now: Timestamp,
    lease_until: Timestamp,
    cap: i64,
    skip: &'a [&'a str],
    leased: HashMap<String, i64>,
}

impl<'a> Claimer<'a> {
    /// Waits until no other claim runs, then counts the live leases.
    pub(super) async fn start(
        tx: &mut PgConnection,
        now: Timestamp,
        lease_until: Timestamp,
        per_endpoint: u32,
        skip: &'a [&'a str],
    ) -> Result<Claimer<'a>> {
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))")
            .bind(LOCK_SPACE)
            .execute(&mut *tx)
            .await?;
        let leased: Vec<(String, i64)> = sqlx::query_as(LIVE_LEASES)
            .bind(now.as_millis())
            .fetch_all(&mut *tx)
            .await?;
        Ok(Claimer {
            now,
            lease_until,
            cap: i64::from(per_endpoint),
            skip,
            leased: leased.into_iter().collect(),
        })
    }

    /// Leases up to `limit` rows: first those whose lease ran out, then due ones. Returns
    /// their ids.
    pub(super) async fn take(&mut self, tx: &mut PgConnection, limit: u32) -> Result<Vec<i64>> {
        let mut taken = self.run(tx, TAKE_EXPIRED, i64::from(limit)).await?;
        let room = i64::from(limit) - i64::try_from(taken.len()).unwrap_or(i64::MAX);
        if room > 0 {
            let sql = if self.walk_is_short(tx).await? {
                TAKE_DUE_IN_ORDER
            } else {
                TAKE_DUE_BY_ENDPOINT
            };
            taken.extend(self.run(tx, sql, room).await?);
        }
        Ok(taken)
    }

    /// When the earliest pending row this claimer could take next falls due: rows of endpoints
    /// it skips or that are at their cap are left out, or an endpoint's backlog would wake
    /// the worker at once, for nothing.
    pub(super) async fn next_due_at(&self, tx: &mut PgConnection) -> Result<Option<Timestamp>> {
        let sql = if self.walk_is_short(tx).await? {
            NEXT_IN_ORDER
        } else {
            NEXT_BY_ENDPOINT
        };
        let next: Option<Option<i64>> = sqlx::query_scalar(sql)
            .bind(self.passed_over())
            .fetch_optional(&mut *tx)
            .await?;
        Ok(next.flatten().map(Timestamp))
    }

    /// Runs one of the `TAKE_*` statements and counts what it leased.
    async fn run(
        &mut self,
        tx: &mut PgConnection,
        sql: &'static str,
        limit: i64,
    ) -> Result<Vec<i64>> {
        let (ids, counts): (Vec<&str>, Vec<i64>) =
            self.leased.iter().map(|(id, n)| (id.as_str(), *n)).unzip();
        let rows: Vec<(i64, String)> = sqlx::query_as(sql)
            .bind(self.lease_until.as_millis())
            .bind(self.now.as_millis())
            .bind(self.passed_over())
            .bind(limit)
            .bind(ids)
            .bind(counts)
            .bind(self.cap)
            .fetch_all(&mut *tx)
            .await?;
        let mut taken = Vec::with_capacity(rows.len());
        for (id, endpoint) in rows {
            *self.leased.entry(endpoint).or_default() += 1;
            taken.push(id);
        }
        Ok(taken)
    }

    /// The endpoints to pass over: those the caller skips and those at their cap.
    fn passed_over(&self) -> Vec<&str> {
        let full = self
            .leased
            .iter()
            .filter(|(_, n)| **n >= self.cap)
            .map(|(id, _)| id.as_str());
        self.skip.iter().copied().chain(full).collect()
    }

    /// Whether walking in time order passes few enough rows of passed-over endpoints.
    async fn walk_is_short(&self, tx: &mut PgConnection) -> Result<bool> {
        let passed_over = self.passed_over();
        if passed_over.is_empty() {
            return Ok(true);
        }
        let pending: i64 = sqlx::query_scalar(PENDING_OF)
            .bind(passed_over)
            .bind(WALK_BUDGET)
            .fetch_one(&mut *tx)
            .await?;
        Ok(pending < WALK_BUDGET)
    }
}
