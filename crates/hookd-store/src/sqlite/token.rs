//! API tokens in SQLite: hashes and the scope each one grants.

use hookd_core::{AppId, Timestamp};
use sqlx::{Row, SqlitePool};

use super::writer::Writer;
use crate::{Result, StoreError, TokenRecord, TokenScope};

pub(super) async fn insert(writer: &Writer, record: &TokenRecord) -> Result<()> {
    let app_id = record.scope.app().map(AppId::as_str);
    sqlx::query(
        "INSERT INTO tokens (hash, app_id, created_at, expires_at, read_only) VALUES (?, ?, ?, ?, ?)",
    )
        .bind(&record.hash)
        .bind(app_id)
        .bind(record.created_at.as_millis())
        .bind(record.expires_at.map(Timestamp::as_millis))
    .bind(record.scope.is_read_only())
        .execute(&mut *writer.take().await?)
        .await
        .map_err(super::column::conflict_as("token"))?;
    Ok(())
}

pub(super) async fn find(reader: &SqlitePool, hash: &str) -> Result<Option<TokenRecord>> {
    let row = sqlx::query(
        "SELECT hash, app_id, created_at, expires_at, read_only FROM tokens WHERE hash = ?",
    )
    .bind(hash)
    .fetch_optional(reader)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let scope = TokenScope::from_columns(row.try_get("app_id")?, row.try_get("read_only")?);
    Ok(Some(TokenRecord {
        hash: row.try_get("hash")?,
        scope,
        created_at: Timestamp(row.try_get("created_at")?),
        expires_at: row.try_get::<Option<i64>, _>("expires_at")?.map(Timestamp),
    }))
}

pub(super) async fn count(reader: &SqlitePool) -> Result<u64> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tokens")
        .fetch_one(reader)
        .await?;
    u64::try_from(count).map_err(|e| StoreError::Corrupt(format!("token count: {e}")))
}

pub(super) async fn delete(writer: &Writer, hash: &str) -> Result<bool> {
    let deleted = sqlx::query("DELETE FROM tokens WHERE hash = ?")
        .bind(hash)
        .execute(&mut *writer.take().await?)
        .await?
        .rows_affected();
    Ok(deleted > 0)
}
