//! Retention: payloads past their retention period, and `hookd prune`'s deletes, each a batch
//! in one transaction so that no writer is held for long. Where nodes share the store, rows
//! another node's batch holds are passed over (`Dialect::skip_locked`).

use hookd_core::{AttemptId, MessageId, Timestamp};

use crate::sql::{Db, sql};
use crate::{Pruned, Result};

/// Empties the payloads of up to `limit` messages whose retention ended by `now`, and fails
/// their deliveries still pending: there is nothing left to send. The expression and the
/// `payload <> ''` term match the partial index `messages_payload_expiry`.
pub(crate) async fn expire_payloads(db: &dyn Db, now: Timestamp, limit: u32) -> Result<u64> {
    let dialect = db.dialect();
    let mut tx = db.begin().await?;
    let select = format!(
        "SELECT id FROM messages
         WHERE payload <> '' AND (created_at + retention_days * 86400000) <= $1
         LIMIT $2{}",
        dialect.skip_locked()
    );
    let ids = tx.fetch(sql!(select, now, limit)).await?;
    if ids.is_empty() {
        return Ok(0);
    }
    let ids: Vec<String> = ids.iter().map(|r| r.text("id")).collect::<Result<_>>()?;
    let mut expire = sql!("UPDATE messages SET payload = '' WHERE");
    expire.in_list(dialect, "id", ids.clone());
    let expired = tx.execute(expire).await?;
    let mut fail =
        sql!("UPDATE deliveries SET status = 2, next_attempt_at = NULL WHERE status = 1 AND");
    fail.in_list(dialect, "msg_id", ids);
    tx.execute(fail).await?;
    tx.commit().await?;
    Ok(expired)
}

/// One batch: up to `limit` messages created before `cutoff` with no delivery still queued or
/// in flight, with their delivery rows; and up to `limit` attempts made before `cutoff`.
pub(crate) async fn prune_before(db: &dyn Db, cutoff: Timestamp, limit: u32) -> Result<Pruned> {
    // Ids sort by creation time, so the primary keys' indexes find the old rows; `created_at`
    // still decides. An id's time can be later than the row's (an attempt's id is made after
    // its request, up to the delivery timeout after `created_at`; a clock stepped back keeps
    // ids at the later time): such rows wait for a later run, none goes early.
    let dialect = db.dialect();
    let mut tx = db.begin().await?;
    let select = format!(
        "SELECT m.id FROM messages m
         WHERE m.id < $1 AND m.created_at < $2
           AND NOT EXISTS (SELECT 1 FROM deliveries d
                           WHERE d.msg_id = m.id AND d.status IN (1, 3))
         ORDER BY m.id LIMIT $3{}",
        dialect.skip_locked()
    );
    let first_id = MessageId::first_at(cutoff.as_millis());
    let ids = tx
        .fetch(sql!(select, first_id.as_str(), cutoff, limit))
        .await?;
    let ids: Vec<String> = ids.iter().map(|r| r.text("id")).collect::<Result<_>>()?;
    let mut pruned = Pruned::default();
    if !ids.is_empty() {
        let mut deliveries = sql!("DELETE FROM deliveries WHERE");
        deliveries.in_list(dialect, "msg_id", ids.clone());
        pruned.deliveries = tx.execute(deliveries).await?;
        let mut messages = sql!("DELETE FROM messages WHERE");
        messages.in_list(dialect, "id", ids);
        pruned.messages = tx.execute(messages).await?;
    }
    let key = dialect.row_key();
    let attempts = format!(
        "DELETE FROM attempts WHERE {key} IN (
             SELECT {key} FROM attempts WHERE id < $1 AND created_at < $2 LIMIT $3)"
    );
    let first_id = AttemptId::first_at(cutoff.as_millis());
    pruned.attempts = tx
        .execute(sql!(attempts, first_id.as_str(), cutoff, limit))
        .await?;
    tx.commit().await?;
    Ok(pruned)
}
