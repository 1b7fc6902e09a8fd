//! Schema migrations: SQL files embedded in the binary, applied in order, recorded in
//! `schema_migrations`.
//!
//! Nodes that start together all try to migrate: a transaction-scoped advisory lock, keyed by
//! the schema, lets one apply the files while the others wait and then find nothing to do.
//! PostgreSQL's DDL is transactional, so a migration that fails leaves nothing half done. A new
//! migration is one more file in `migrations/postgres/` and one more entry below; never edit a
//! file that has shipped.

use sqlx::PgPool;

use crate::{Result, StoreError};

const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/postgres/0001_init.sql"),
    include_str!("../../migrations/postgres/0002_redelivery_and_secrets.sql"),
    include_str!("../../migrations/postgres/0003_event_types_idempotency_retention.sql"),
    include_str!("../../migrations/postgres/0004_claim_by_endpoint.sql"),
    include_str!("../../migrations/postgres/0005_console_tokens.sql"),
    include_str!("../../migrations/postgres/0006_idempotency_digest.sql"),
];

/// The first key of the advisory lock: "hook" in ASCII. The second is the schema's hash.
const LOCK_SPACE: i32 = 0x686f_6f6b;

/// What a migration run found and left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Migrated {
    pub from: usize,
    pub to: usize,
}

/// Applies the migrations the schema lacks, all in one transaction.
pub(super) async fn migrate(pool: &PgPool) -> Result<Migrated> {
    let mut tx = pool.begin().await.map_err(migrate_failed)?;
    // A long migration must not be cut off by the statement timeout meant for queries.
    sqlx::query("SET LOCAL statement_timeout = 0")
        .execute(&mut *tx)
        .await
        .map_err(migrate_failed)?;
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))")
        .bind(LOCK_SPACE)
        .execute(&mut *tx)
        .await
        .map_err(migrate_failed)?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version INTEGER PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .execute(&mut *tx)
    .await
    .map_err(migrate_failed)?;
    let applied: i32 =
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            .fetch_one(&mut *tx)
            .await
            .map_err(migrate_failed)?;
    let applied = crate::migrations::applied(applied.into(), MIGRATIONS.len())?;
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
        sqlx::raw_sql(*migration)
            .execute(&mut *tx)
            .await
            .map_err(migrate_failed)?;
        let version = i32::try_from(index + 1).expect("fewer than 2^31 migrations");
        sqlx::query("INSERT INTO schema_migrations (version) VALUES ($1)")
            .bind(version)
            .execute(&mut *tx)
            .await
            .map_err(migrate_failed)?;
    }
    tx.commit().await.map_err(migrate_failed)?;
    let migrated = Migrated {
        from: applied,
        to: MIGRATIONS.len(),
    };
    if migrated.from != migrated.to {
        tracing::info!(
            from = migrated.from,
            to = migrated.to,
            "migrated the PostgreSQL schema"
        );
    }
    Ok(migrated)
}

fn migrate_failed(e: sqlx::Error) -> StoreError {
    StoreError::Migrate(Box::new(e.into()))
}
