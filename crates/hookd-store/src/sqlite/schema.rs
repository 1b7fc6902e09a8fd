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
    include_str!("../../migrations/sqlite/0007_lean_indexes.sql"),
    include_str!("../../migrations/sqlite/0008_console_tokens.sql"),
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

#[cfg(test)]
mod tests {
    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::{ConnectOptions, Row};

    use super::MIGRATIONS;
    use crate::sqlite::SqliteStore;
    use crate::{Sealer, SecretKey, Store};
    use hookd_core::AppId;

    const MESSAGE: &str = "INSERT INTO messages (id, app_id, event_type, event_id, channels,
        payload, retention_days, created_at) VALUES (?, 'app_1', 'a.b', ?, NULL, '{}', 90, 1)";

    /// 0007 rebuilds `messages`: a database made before it keeps its messages, their rowids and
    /// the event-id key, which now leaves messages without an event id out.
    #[tokio::test]
    async fn messages_made_before_the_lean_indexes_survive_the_rebuild() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hookd.db");
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .foreign_keys(true);
        let mut old = options.connect().await.unwrap();
        for migration in &MIGRATIONS[..6] {
            sqlx::raw_sql(*migration).execute(&mut old).await.unwrap();
        }
        sqlx::raw_sql(
            "PRAGMA user_version = 6;
             INSERT INTO applications (id, uid, name, rate_limit, metadata, created_at, updated_at)
             VALUES ('app_1', NULL, 'one', NULL, '{}', 1, 1);",
        )
        .execute(&mut old)
        .await
        .unwrap();
        for (id, event_id) in [("msg_1", None), ("msg_2", Some("e1")), ("msg_3", None)] {
            sqlx::query(MESSAGE)
                .bind(id)
                .bind(event_id)
                .execute(&mut old)
                .await
                .unwrap();
        }
        sqlx::query("DELETE FROM messages WHERE id = 'msg_1'")
            .execute(&mut old)
            .await
            .unwrap();
        drop(old);

        let store = SqliteStore::open(&path, Sealer::new(&SecretKey::generate()))
            .await
            .unwrap();
        let app = AppId::from_stored("app_1".into());
        let by_event = store.get_message(&app, "e1").await.unwrap().unwrap();
        assert_eq!(by_event.id.as_str(), "msg_2");
        store.close().await;

        let mut new = options.connect().await.unwrap();
        let version: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&mut new)
            .await
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
        let rows = sqlx::query("SELECT rowid, id FROM messages ORDER BY rowid")
            .fetch_all(&mut new)
            .await
            .unwrap();
        let rows: Vec<(i64, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        assert_eq!(rows, [(2, "msg_2".into()), (3, "msg_3".into())]);
        let again = sqlx::query(MESSAGE)
            .bind("msg_4")
            .bind("e1")
            .execute(&mut new)
            .await;
        assert!(again.is_err(), "the event-id key still holds");
        sqlx::query(MESSAGE)
            .bind("msg_5")
            .bind(None::<&str>)
            .execute(&mut new)
            .await
            .expect("messages without an event id share no key");
        let keyed: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM messages INDEXED BY messages_by_event_id
             WHERE app_id = 'app_1' AND event_id IS NOT NULL",
        )
        .fetch_one(&mut new)
        .await
        .unwrap();
        assert_eq!(keyed, 1);
    }
}
