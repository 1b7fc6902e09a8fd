//! API tokens: hashes and the scope each one grants.

use hookd_core::{AppId, Timestamp};

use crate::convert::conflict_as;
use crate::sql::{Db, first, sql};
use crate::{Result, StoreError, TokenRecord, TokenScope};

pub(crate) async fn insert(db: &dyn Db, record: &TokenRecord) -> Result<()> {
    let app_id = match &record.scope {
        TokenScope::Admin => None,
        TokenScope::Application(app) => Some(app.as_str()),
    };
    db.execute(sql!(
        "INSERT INTO tokens (hash, app_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        &record.hash,
        app_id,
        record.created_at,
        record.expires_at,
    ))
    .await
    .map_err(conflict_as("token"))?;
    Ok(())
}

pub(crate) async fn find(db: &dyn Db, hash: &str) -> Result<Option<TokenRecord>> {
    let rows = db
        .fetch(sql!(
            "SELECT hash, app_id, created_at, expires_at FROM tokens WHERE hash = $1",
            hash
        ))
        .await?;
    let Some(row) = first(rows) else {
        return Ok(None);
    };
    let scope = match row.opt_text("app_id")? {
        None => TokenScope::Admin,
        Some(app) => TokenScope::Application(AppId::from_stored(app)),
    };
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
