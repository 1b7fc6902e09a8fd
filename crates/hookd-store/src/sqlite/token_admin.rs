//! Admin tokens as the console manages them in SQLite: made with a name, listed by hash.

use hookd_core::{AppId, Timestamp};
use sqlx::{Row, SqlitePool};

use super::writer::Writer;
use crate::{Result, TokenRecord, TokenSummary};

/// The most tokens `list_admin` returns: a console lists a handful, not a table.
const LIST_CAP: i64 = 1000;

pub(super) async fn insert_named(writer: &Writer, record: &TokenRecord, name: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO tokens (hash, app_id, created_at, expires_at, read_only, name)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(&record.hash)
    .bind(record.scope.app().map(AppId::as_str))
    .bind(record.created_at.as_millis())
    .bind(record.expires_at.map(Timestamp::as_millis))
    .bind(record.scope.is_read_only())
    .bind(name)
    .execute(&mut *writer.take().await?)
    .await
    .map_err(super::column::conflict_as("token"))?;
    Ok(())
}

/// Oldest first, so the first token an install made leads the list.
pub(super) async fn list_admin(reader: &SqlitePool) -> Result<Vec<TokenSummary>> {
    let rows = sqlx::query(
        "SELECT hash, name, created_at FROM tokens WHERE app_id IS NULL
         ORDER BY created_at, hash LIMIT ?",
    )
    .bind(LIST_CAP)
    .fetch_all(reader)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(TokenSummary {
                hash: row.try_get("hash")?,
                name: row.try_get("name")?,
                created_at: Timestamp(row.try_get("created_at")?),
            })
        })
        .collect()
}
