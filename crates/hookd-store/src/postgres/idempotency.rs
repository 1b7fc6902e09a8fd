//! Idempotency keys in PostgreSQL, shared by every node: claim, complete, release, and the
//! sweep of expired ones.
//!
//! Two nodes claiming the same key at once both insert: the second waits for the first's
//! commit, then meets the conflict and finds the row in progress.

use hookd_core::Timestamp;
use sqlx::{PgPool, Row};

use crate::{IdempotencyClaim, IdempotencyKey, Result, StoredResponse};

/// Inserts the key as this request's, or takes over a row that expired: a finished response
/// past its 12 hours, or a request whose node died mid-way. Returns a row only if it did.
const CLAIM: &str = "
    INSERT INTO idempotency_keys (token_hash, request, key, state, status, body, expires_at)
    VALUES ($1, $2, $3, 'in_progress', NULL, NULL, $4)
    ON CONFLICT (token_hash, request, key) DO UPDATE
        SET state = 'in_progress', status = NULL, body = NULL, expires_at = excluded.expires_at
        WHERE idempotency_keys.expires_at <= $5
    RETURNING 1";

pub(super) async fn claim(
    pool: &PgPool,
    key: &IdempotencyKey,
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<IdempotencyClaim> {
    let mut tx = pool.begin().await?;
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
                 WHERE token_hash = $1 AND request = $2 AND key = $3",
            )
            .bind(&key.token_hash)
            .bind(&key.request)
            .bind(&key.key)
            .fetch_one(&mut *tx)
            .await?;
            let status: Option<i16> = row.try_get("status")?;
            IdempotencyClaim::held(
                row.try_get("state")?,
                status.map(i64::from),
                row.try_get("body")?,
            )?
        }
    };
    tx.commit().await?;
    Ok(claim)
}

pub(super) async fn complete(
    pool: &PgPool,
    key: &IdempotencyKey,
    response: &StoredResponse,
    expires_at: Timestamp,
) -> Result<()> {
    let status = i16::try_from(response.status).unwrap_or(i16::MAX);
    sqlx::query(
        "UPDATE idempotency_keys SET state = 'done', status = $1, body = $2, expires_at = $3
         WHERE token_hash = $4 AND request = $5 AND key = $6 AND state = 'in_progress'",
    )
    .bind(status)
    .bind(&response.body)
    .bind(expires_at.as_millis())
    .bind(&key.token_hash)
    .bind(&key.request)
    .bind(&key.key)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn release(pool: &PgPool, key: &IdempotencyKey) -> Result<()> {
    sqlx::query(
        "DELETE FROM idempotency_keys
         WHERE token_hash = $1 AND request = $2 AND key = $3 AND state = 'in_progress'",
    )
    .bind(&key.token_hash)
    .bind(&key.request)
    .bind(&key.key)
    .execute(pool)
    .await?;
    Ok(())
}

/// Deletes up to `limit` keys that expired by `now`, and as many expired tokens.
pub(super) async fn delete_expired(pool: &PgPool, now: Timestamp, limit: u32) -> Result<u64> {
    let mut deleted = 0;
    for sql in [
        "DELETE FROM idempotency_keys WHERE ctid IN (
             SELECT ctid FROM idempotency_keys WHERE expires_at <= $1 LIMIT $2)",
        "DELETE FROM tokens WHERE ctid IN (
             SELECT ctid FROM tokens WHERE expires_at <= $1 LIMIT $2)",
    ] {
        deleted += sqlx::query(sql)
            .bind(now.as_millis())
            .bind(i64::from(limit))
            .execute(pool)
            .await?
            .rows_affected();
    }
    Ok(deleted)
}
