//! Schema migrations: SQL files embedded in the binary, applied in order at open.
//!
//! The schema version is SQLite's `PRAGMA user_version`: the number of migrations applied. A
//! new migration is one more file in `migrations/sqlite/` and one more entry below; never edit
//! a file that has shipped.

use sqlx::AssertSqlSafe;
use sqlx::Connection;

use super::writer::Writer;
use crate::{Result, StoreError};

const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_init.sql"),
    include_str!("../../migrations/sqlite/0002_redelivery_and_secrets.sql"),
    include_str!("../../migrations/sqlite/0003_event_types_idempotency_retention.sql"),
    include_str!("../../migrations/sqlite/0004_due_by_endpoint.sql"),
    include_str!("../../migrations/sqlite/0005_subscribers_version.sql"),
    include_str!("../../migrations/sqlite/0006_prune_by_id.sql"),
];

/// Applies the migrations the database lacks, all in one transaction.
pub(super) async fn migrate(writer: &Writer) -> Result<()> {
    let mut conn = writer.take().await?;
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let applied: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(&mut *tx)
        .await?;
    let applied = usize::try_from(applied)
        .map_err(|_| StoreError::Corrupt(format!("negative schema version {applied}")))?;
    if applied > MIGRATIONS.len() {
        return Err(StoreError::Corrupt(format!(
            "schema version {applied} is newer than this hookd knows ({})",
            MIGRATIONS.len()
        )));
    }
    if applied == MIGRATIONS.len() {
        return Ok(());
    }
    for migration in &MIGRATIONS[applied..] {
        sqlx::raw_sql(*migration)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::Migrate)?;
    }
    // PRAGMA takes no bound parameters; the value is a number this code computed.
    let set_version = format!("PRAGMA user_version = {}", MIGRATIONS.len());
    sqlx::query(AssertSqlSafe(set_version))
        .execute(&mut *tx)
        .await
        .map_err(StoreError::Migrate)?;
    tx.commit().await.map_err(StoreError::Migrate)?;
    tracing::info!(
        from = applied,
        to = MIGRATIONS.len(),
        "migrated the SQLite schema"
    );
    Ok(())
}
