//! Idempotency keys in SQLite: claim, complete, release, and the sweep of expired ones.

use hookd_core::Timestamp;
use sqlx::Connection;
use sqlx::Row;

use super::writer::Writer;
use crate::{IdempotencyClaim, IdempotencyKey, Result, StoredResponse};

/// Inserts the key as this request's, or takes over a row that expired: a finished response
/// past its 12 hours, or a request whose node died mid-way. Returns a row only if it did.
const CLAIM: &str = "
    INSERT INTO idempotency_keys (token_hash, request, key, state, status, body, expires_at)
    VALUES (?1, ?2, ?3, 'in_progress', NULL, NULL, ?4)
    ON CONFLICT (token_hash, request, key) DO UPDATE
        SET state = 'in_progress', status = NULL, body = NULL, expires_at = excluded.expires_at
        WHERE idempotency_keys.expires_at <= ?5
    RETURNING 1";

pub(super) async fn claim(
    writer: &Writer,
    key: &IdempotencyKey,
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<IdempotencyClaim> {
    let mut conn = writer.take().await?;
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let taken = sqlx::query(CLAIM)
        .bind(&key.token_hash)
        .bind(&key.request)
        .bind(&key.key)
        .bind(lease_until.as_millis())
        .bind(now.as_millis())
        .fetch_optional(&mut *tx)
        .await?;
    let claim = match taken {
        Some(_) => IdempotencyClaim::Started,
        None => {
            let row = sqlx::query(
                "SELECT state, status, body FROM idempotency_keys
                 WHERE token_hash = ? AND request = ? AND key = ?",
            )
            .bind(&key.token_hash)
            .bind(&key.request)
            .bind(&key.key)
            .fetch_one(&mut *tx)
            .await?;
            IdempotencyClaim::held(
                row.try_get("state")?,
                row.try_get("status")?,
                row.try_get("body")?,
            )?
        }
    };
    tx.commit().await?;
    Ok(claim)
}

pub(super) async fn complete(
    writer: &Writer,
    key: &IdempotencyKey,
    response: &StoredResponse,
    expires_at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "UPDATE idempotency_keys SET state = 'done', status = ?, body = ?, expires_at = ?
         WHERE token_hash = ? AND request = ? AND key = ? AND state = 'in_progress'",
    )
    .bind(i64::from(response.status))
    .bind(&response.body)
    .bind(expires_at.as_millis())
    .bind(&key.token_hash)
    .bind(&key.request)
    .bind(&key.key)
    .execute(&mut *writer.take().await?)
    .await?;
    Ok(())
}

pub(super) async fn release(writer: &Writer, key: &IdempotencyKey) -> Result<()> {
    sqlx::query(
        "DELETE FROM idempotency_keys
         WHERE token_hash = ? AND request = ? AND key = ? AND state = 'in_progress'",
    )
    .bind(&key.token_hash)
    .bind(&key.request)
    .bind(&key.key)
    .execute(&mut *writer.take().await?)
    .await?;
    Ok(())
}

/// Deletes up to `limit` keys that expired by `now`, and as many expired tokens.
pub(super) async fn delete_expired(writer: &Writer, now: Timestamp, limit: u32) -> Result<u64> {
    let mut deleted = 0;
    for sql in [
        "DELETE FROM idempotency_keys WHERE rowid IN (
             SELECT rowid FROM idempotency_keys WHERE expires_at <= ?1 LIMIT ?2)",
        "DELETE FROM tokens WHERE rowid IN (
             SELECT rowid FROM tokens WHERE expires_at <= ?1 LIMIT ?2)",
    ] {
        deleted += sqlx::query(sql)
            .bind(now.as_millis())
            .bind(i64::from(limit))
            .execute(&mut *writer.take().await?)
            .await?
            .rows_affected();
    }
    Ok(deleted)
}
