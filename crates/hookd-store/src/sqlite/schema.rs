//! Schema migrations: SQL files embedded in the binary, applied in order at open.
//!
//! The schema version is SQLite's `PRAGMA user_version`: the number of migrations applied. A
//! new migration is one more file in `migrations/sqlite/` and one more entry below; never edit
//! a file that has shipped.

use rusqlite::Connection;

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
    include_str!("../../migrations/sqlite/0009_idempotency_digest.sql"),
];

/// Applies the migrations the database lacks, all in one transaction.
pub(super) fn migrate(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let applied: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let applied = crate::migrations::applied(applied, MIGRATIONS.len())?;
    if applied == MIGRATIONS.len() {
        return Ok(());
    }
    let failed = |e: rusqlite::Error| StoreError::Migrate(Box::new(e.into()));
    for migration in &MIGRATIONS[applied..] {
        tx.execute_batch(migration).map_err(failed)?;
    }
    // PRAGMA takes no bound parameters; the value is a number this code computed.
    tx.execute_batch(&format!("PRAGMA user_version = {}", MIGRATIONS.len()))
        .map_err(failed)?;
    tx.commit().map_err(failed)?;
    tracing::info!(
        from = applied,
        to = MIGRATIONS.len(),
        "migrated the SQLite schema"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use rusqlite::{Connection, params};

    use super::MIGRATIONS;
    use crate::sqlite::SqliteStore;
    use crate::{Catalog, Sealer, SecretKey};
    use hookd_core::AppId;

    const MESSAGE: &str = "INSERT INTO messages (id, app_id, event_type, event_id, channels,
        payload, retention_days, created_at) VALUES (?, 'app_1', 'a.b', ?, NULL, '{}', 90, 1)";

    /// 0007 rebuilds `messages`: a database made before it keeps its messages, their rowids and
    /// the event-id key, which now leaves messages without an event id out.
    #[tokio::test]
    async fn messages_made_before_the_lean_indexes_survive_the_rebuild() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hookd.db");
        let old = Connection::open(&path).unwrap();
        old.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        for migration in &MIGRATIONS[..6] {
            old.execute_batch(migration).unwrap();
        }
        old.execute_batch(
            "PRAGMA user_version = 6;
             INSERT INTO applications (id, uid, name, rate_limit, metadata, created_at, updated_at)
             VALUES ('app_1', NULL, 'one', NULL, '{}', 1, 1);",
        )
        .unwrap();
        for (id, event_id) in [("msg_1", None), ("msg_2", Some("e1")), ("msg_3", None)] {
            old.execute(MESSAGE, params![id, event_id]).unwrap();
        }
        old.execute("DELETE FROM messages WHERE id = 'msg_1'", [])
            .unwrap();
        drop(old);

        let store = SqliteStore::open(&path, Sealer::new(&SecretKey::generate()))
            .await
            .unwrap();
        let app = AppId::from_stored("app_1".into());
        let by_event = store.get_message(&app, "e1").await.unwrap().unwrap();
        assert_eq!(by_event.id.as_str(), "msg_2");
        store.close().await;

        let new = Connection::open(&path).unwrap();
        let version: i64 = new
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
        let mut stmt = new
            .prepare("SELECT rowid, id FROM messages ORDER BY rowid")
            .unwrap();
        let rows: Vec<(i64, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(rows, [(2, "msg_2".into()), (3, "msg_3".into())]);
        let again = new.execute(MESSAGE, params!["msg_4", "e1"]);
        assert!(again.is_err(), "the event-id key still holds");
        new.execute(MESSAGE, params!["msg_5", None::<&str>])
            .expect("messages without an event id share no key");
        let keyed: i64 = new
            .query_row(
                "SELECT COUNT(*) FROM messages INDEXED BY messages_by_event_id
                 WHERE app_id = 'app_1' AND event_id IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(keyed, 1);
    }
}
