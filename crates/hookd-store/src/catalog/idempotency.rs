//! Idempotency keys: claim, complete, release, and the sweep of expired ones.
//!
//! Two nodes claiming the same key at once both insert: the second waits for the first's
//! commit, then meets the conflict and finds the row in progress.

use hookd_core::Timestamp;

use crate::sql::{Db, first, sql};
use crate::{IdempotencyClaim, IdempotencyKey, Result, StoreError, StoredResponse};

/// Inserts the key as this request's, or takes over a row that expired: a finished response
/// past its 12 hours, or a request whose node died mid-way. Returns a row only if it did.
const CLAIM: &str = "
    INSERT INTO idempotency_keys (token_hash, request, key, state, status, body, expires_at,
                                  request_digest)
    VALUES ($1, $2, $3, 'in_progress', NULL, NULL, $4, $6)
    ON CONFLICT (token_hash, request, key) DO UPDATE
        SET state = 'in_progress', status = NULL, body = NULL, expires_at = excluded.expires_at,
            request_digest = excluded.request_digest
        WHERE idempotency_keys.expires_at <= $5
    RETURNING 1 AS taken";

pub(crate) async fn claim(
    db: &dyn Db,
    key: &IdempotencyKey,
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<IdempotencyClaim> {
    let mut tx = db.begin().await?;
    let taken = tx
        .fetch(sql!(
            CLAIM,
            &key.token_hash,
            &key.request,
            &key.key,
            lease_until,
            now,
            &key.digest
        ))
        .await?;
    let claim = if taken.is_empty() {
        let rows = tx
            .fetch(sql!(
                "SELECT state, request_digest, status, body FROM idempotency_keys
                 WHERE token_hash = $1 AND request = $2 AND key = $3",
                &key.token_hash,
                &key.request,
                &key.key
            ))
            .await?;
        let row = first(rows).ok_or_else(|| {
            StoreError::Corrupt("an idempotency key neither taken nor held".into())
        })?;
        IdempotencyClaim::held(
            key,
            row.opt_text("request_digest")?,
            row.text("state")?,
            row.opt_int("status")?,
            row.opt_bytes("body")?,
        )?
    } else {
        IdempotencyClaim::Started
    };
    tx.commit().await?;
    Ok(claim)
}

pub(crate) async fn complete(
    db: &dyn Db,
    key: &IdempotencyKey,
    response: &StoredResponse,
    expires_at: Timestamp,
) -> Result<()> {
    db.execute(sql!(
        "UPDATE idempotency_keys SET state = 'done', status = $1, body = $2, expires_at = $3
             WHERE token_hash = $4 AND request = $5 AND key = $6 AND state = 'in_progress'",
        i64::from(response.status),
        Some(response.body.as_slice()),
        expires_at,
        &key.token_hash,
        &key.request,
        &key.key,
    ))
    .await?;
    Ok(())
}

pub(crate) async fn release(db: &dyn Db, key: &IdempotencyKey) -> Result<()> {
    db.execute(sql!(
        "DELETE FROM idempotency_keys
         WHERE token_hash = $1 AND request = $2 AND key = $3 AND state = 'in_progress'",
        &key.token_hash,
        &key.request,
        &key.key,
    ))
    .await?;
    Ok(())
}

/// Deletes up to `limit` keys that expired by `now`, and as many expired tokens.
pub(crate) async fn delete_expired(db: &dyn Db, now: Timestamp, limit: u32) -> Result<u64> {
    let key = db.dialect().row_key();
    let mut deleted = 0;
    for table in ["idempotency_keys", "tokens"] {
        let text = format!(
            "DELETE FROM {table} WHERE {key} IN (
                 SELECT {key} FROM {table} WHERE expires_at <= $1 LIMIT $2)"
        );
        deleted += db.execute(sql!(text, now, limit)).await?;
    }
    Ok(deleted)
}
