//! API tokens: hashes and the scope each one grants.

use hookd_core::{AppId, Timestamp};

use crate::convert::conflict_as;
use crate::sql::{Db, first, sql};
use crate::{Result, StoreError, TokenRecord, TokenScope, TokenSummary};

/// Stores the token; `name` is what the operator called an admin token (the console's).
pub(crate) async fn insert(db: &dyn Db, record: &TokenRecord, name: Option<&str>) -> Result<()> {
    db.execute(sql!(
        "INSERT INTO tokens (hash, app_id, created_at, expires_at, read_only, name)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &record.hash,
        record.scope.app().map(AppId::as_str),
        record.created_at,
        record.expires_at,
        record.scope.is_read_only(),
        name,
    ))
    .await
    .map_err(conflict_as("token"))?;
    Ok(())
}

pub(crate) async fn find(db: &dyn Db, hash: &str) -> Result<Option<TokenRecord>> {
    let rows = db
        .fetch(sql!(
            "SELECT hash, app_id, created_at, expires_at, read_only FROM tokens WHERE hash = $1",
            hash
        ))
        .await?;
    let Some(row) = first(rows) else {
        return Ok(None);
    };
    let scope = TokenScope::from_columns(row.opt_text("app_id")?, row.bool("read_only")?);
    Ok(Some(TokenRecord {
        hash: row.text("hash")?,
        scope,
        created_at: Timestamp(row.int("created_at")?),
        expires_at: row.opt_int("expires_at")?.map(Timestamp),
    }))
}

pub(crate) async fn count(db: &dyn Db) -> Result<u64> {
    let rows = db.fetch(sql!("SELECT COUNT(*) AS n FROM tokens")).await?;
    let row = first(rows).ok_or_else(|| StoreError::Corrupt("COUNT(*) gave no row".into()))?;
    row.int_as("n")
}

pub(crate) async fn delete(db: &dyn Db, hash: &str) -> Result<bool> {
    let deleted = db
        .execute(sql!("DELETE FROM tokens WHERE hash = $1", hash))
        .await?;
    Ok(deleted > 0)
}

/// The most tokens `list_admin` returns: a console lists a handful, not a table.
const LIST_CAP: u32 = 1000;

/// Every admin token, oldest first, so the first token an install made leads the list.
pub(crate) async fn list_admin(db: &dyn Db) -> Result<Vec<TokenSummary>> {
    let rows = db
        .fetch(sql!(
            "SELECT hash, name, created_at FROM tokens WHERE app_id IS NULL
             ORDER BY created_at, hash LIMIT $1",
            LIST_CAP
        ))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(TokenSummary {
                hash: row.text("hash")?,
                name: row.opt_text("name")?,
                created_at: Timestamp(row.int("created_at")?),
            })
        })
        .collect()
}
