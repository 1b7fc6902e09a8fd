//! Retention in SQLite: payloads past their retention period, and `hookd prune`'s deletes,
//! each a batch in one transaction so that the single writer is never held for long.

use hookd_core::{AttemptId, MessageId, Timestamp};
use sqlx::Connection;

use super::column::json_list;
use super::writer::Writer;
use crate::{Pruned, Result};

/// Empties the payloads of up to `limit` messages whose retention ended by `now`, and fails
/// their deliveries still pending: there is nothing left to send. The expression and the
/// `payload <> ''` term match the partial index `messages_payload_expiry`.
pub(super) async fn expire_payloads(writer: &Writer, now: Timestamp, limit: u32) -> Result<u64> {
    let mut conn = writer.take().await?;
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM messages
         WHERE payload <> '' AND created_at + retention_days * 86400000 <= ?
         LIMIT ?",
    )
    .bind(now.as_millis())
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    let ids = json_list(ids);
    let expired = sqlx::query(
        "UPDATE messages SET payload = '' WHERE id IN (SELECT value FROM json_each(?))",
    )
    .bind(&ids)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    fail_pending(&mut tx, &ids).await?;
    tx.commit().await?;
    Ok(expired)
}

async fn fail_pending(tx: &mut sqlx::SqliteConnection, msg_ids: &str) -> Result<()> {
    sqlx::query(
        "UPDATE deliveries SET status = 2, next_attempt_at = NULL
         WHERE status = 1 AND msg_id IN (SELECT value FROM json_each(?))",
    )
    .bind(msg_ids)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// One batch: up to `limit` messages created before `cutoff` with no delivery still queued or
/// in flight, with their delivery rows; and up to `limit` attempts made before `cutoff`.
pub(super) async fn prune_before(writer: &Writer, cutoff: Timestamp, limit: u32) -> Result<Pruned> {
    // Ids sort by creation time, so the primary keys' indexes find the old rows; `created_at`
    // still decides. An id's time can be later than the row's (an attempt's id is made after
    // its request, up to the delivery timeout after `created_at`; a clock stepped back keeps
    // ids at the later time): such rows wait for a later run, none goes early.
    let mut conn = writer.take().await?;
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT m.id FROM messages m
         WHERE m.id < ?1 AND m.created_at < ?2
           AND NOT EXISTS (SELECT 1 FROM deliveries d
                           WHERE d.msg_id = m.id AND d.status IN (1, 3))
         ORDER BY m.id LIMIT ?3",
    )
    .bind(MessageId::first_at(cutoff.as_millis()).as_str())
    .bind(cutoff.as_millis())
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?;
    let ids = json_list(ids);
    let mut pruned = Pruned::default();
    for (sql, count) in [
        (
            "DELETE FROM deliveries WHERE msg_id IN (SELECT value FROM json_each(?))",
            &mut pruned.deliveries,
        ),
        (
            "DELETE FROM messages WHERE id IN (SELECT value FROM json_each(?))",
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
        "DELETE FROM attempts WHERE rowid IN (
             SELECT rowid FROM attempts WHERE id < ?1 AND created_at < ?2 LIMIT ?3)",
    )
    .bind(AttemptId::first_at(cutoff.as_millis()).as_str())
    .bind(cutoff.as_millis())
    .bind(i64::from(limit))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(pruned)
}
