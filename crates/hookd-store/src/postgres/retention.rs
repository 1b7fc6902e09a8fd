//! Retention in PostgreSQL: payloads past their retention period, `hookd prune`'s deletes,
//! each a batch in one transaction, and the lock that lets one node at a time run the sweep.

use hookd_core::Timestamp;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, PgPool};

use crate::retention::SWEEP_TRY_LOCK;
use crate::{Pruned, Result, SweepLock};

/// Takes the sweep's advisory lock on a connection of its own, which the lock keeps until it
/// is released; `None` while another session (another node's sweep) holds it.
pub(super) async fn lock_sweep(connect: &PgConnectOptions) -> Result<Option<SweepLock>> {
    let mut connection = PgConnection::connect_with(connect).await?;
    let locked: bool = sqlx::query_scalar(SWEEP_TRY_LOCK)
        .fetch_one(&mut connection)
        .await?;
    if !locked {
        let _ = connection.close().await;
        return Ok(None);
    }
    Ok(Some(SweepLock::postgres(connection)))
}

/// Empties the payloads of up to `limit` messages whose retention ended by `now`, and fails
/// their deliveries still pending: there is nothing left to send. The expression and the
/// `payload <> ''` term match the partial index `messages_payload_expiry`.
pub(super) async fn expire_payloads(pool: &PgPool, now: Timestamp, limit: u32) -> Result<u64> {
    let mut tx = pool.begin().await?;
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM messages
         WHERE payload <> '' AND (created_at + retention_days * 86400000) <= $1
         LIMIT $2
         FOR UPDATE SKIP LOCKED",
    )
    .bind(now.as_millis())
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    let expired = sqlx::query("UPDATE messages SET payload = '' WHERE id = ANY($1)")
        .bind(&ids)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    sqlx::query(
        "UPDATE deliveries SET status = 2, next_attempt_at = NULL
         WHERE status = 1 AND msg_id = ANY($1)",
    )
    .bind(&ids)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(expired)
}

/// One batch: up to `limit` messages created before `cutoff` with no delivery still queued or
/// in flight, with their delivery rows; and up to `limit` attempts made before `cutoff`.
pub(super) async fn prune_before(pool: &PgPool, cutoff: Timestamp, limit: u32) -> Result<Pruned> {
    let mut tx = pool.begin().await?;
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT m.id FROM messages m
         WHERE m.created_at < $1
           AND NOT EXISTS (SELECT 1 FROM deliveries d
                           WHERE d.msg_id = m.id AND d.status IN (1, 3))
         ORDER BY m.created_at LIMIT $2
         FOR UPDATE SKIP LOCKED",
    )
    .bind(cutoff.as_millis())
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?;
    let mut pruned = Pruned::default();
    for (sql, count) in [
        (
            "DELETE FROM deliveries WHERE msg_id = ANY($1)",
            &mut pruned.deliveries,
        ),
        (
            "DELETE FROM messages WHERE id = ANY($1)",
            &mut pruned.messages,
        ),
    ] {
        *count = sqlx::query(sql)
            .bind(&ids)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    pruned.attempts = sqlx::query(
        "DELETE FROM attempts WHERE ctid IN (
             SELECT ctid FROM attempts WHERE created_at < $1 LIMIT $2)",
    )
    .bind(cutoff.as_millis())
    .bind(i64::from(limit))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(pruned)
}
