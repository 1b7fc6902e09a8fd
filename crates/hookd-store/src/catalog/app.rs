//! Applications, and the delete that takes everything an application owns.

use hookd_core::{AppId, Application, Timestamp};

use crate::convert::{conflict_as, map_to_json, nul_free};
use crate::sql::{Db, Query, Row, first, sql};
use crate::window::Window;
use crate::{Page, PageQuery, Result};

/// A SELECT of every application column, followed by `$rest`.
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT id, uid, name, rate_limit, metadata, created_at, updated_at
             FROM applications ",
            $rest
        )
    };
}

pub(crate) async fn insert(db: &dyn Db, app: &Application) -> Result<()> {
    db.execute(sql!(
        "INSERT INTO applications (id, uid, name, rate_limit, metadata, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        app.id.as_str(),
        app.uid.as_deref(),
        nul_free(&app.name),
        app.rate_limit.map(i64::from),
        map_to_json(&app.metadata),
        app.created_at,
        app.updated_at,
    ))
    .await
    .map_err(conflict_as("application with this uid"))?;
    Ok(())
}

/// By id first, then by uid.
pub(crate) async fn get(db: &dyn Db, id_or_uid: &str) -> Result<Option<Application>> {
    if AppId::parse(id_or_uid).is_some() {
        let rows = db.fetch(sql!(select!("WHERE id = $1"), id_or_uid)).await?;
        if let Some(row) = first(rows) {
            return from_row(&row).map(Some);
        }
    }
    let rows = db.fetch(sql!(select!("WHERE uid = $1"), id_or_uid)).await?;
    first(rows).as_ref().map(from_row).transpose()
}

pub(crate) async fn list(db: &dyn Db, page: &PageQuery) -> Result<Page<Application>> {
    let window = Window::new(page);
    let mut sql = Query::new(select!("WHERE TRUE"));
    window.push(&mut sql, "id");
    let rows = db.fetch(sql).await?;
    let apps = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(window.page(apps, |a| a.id.as_str()))
}

pub(crate) async fn update(db: &dyn Db, app: &Application) -> Result<()> {
    db.execute(sql!(
        "UPDATE applications SET uid = $1, name = $2, rate_limit = $3, metadata = $4,
                                 updated_at = $5
         WHERE id = $6",
        app.uid.as_deref(),
        nul_free(&app.name),
        app.rate_limit.map(i64::from),
        map_to_json(&app.metadata),
        app.updated_at,
        app.id.as_str(),
    ))
    .await
    .map_err(conflict_as("application with this uid"))?;
    Ok(())
}

/// Deletes the application; its endpoints and messages go with it (foreign keys), the rest
/// (deliveries, attempts, tokens) are cleared here, in the same transaction. A delivery goes
/// with its endpoint, so the application's are its endpoints'.
pub(crate) async fn delete(db: &dyn Db, id: &AppId) -> Result<bool> {
    let mut tx = db.begin().await?;
    for text in [
        "DELETE FROM deliveries WHERE endpoint_id IN (SELECT id FROM endpoints WHERE app_id = $1)",
        "DELETE FROM attempts WHERE app_id = $1",
        "DELETE FROM tokens WHERE app_id = $1",
    ] {
        tx.execute(sql!(text, id.as_str())).await?;
    }
    let deleted = tx
        .execute(sql!("DELETE FROM applications WHERE id = $1", id.as_str()))
        .await?;
    tx.commit().await?;
    Ok(deleted > 0)
}

fn from_row(row: &Row) -> Result<Application> {
    Ok(Application {
        id: AppId::from_stored(row.text("id")?),
        uid: row.opt_text("uid")?,
        name: row.text("name")?,
        rate_limit: rate_limit(row)?,
        metadata: row.map("metadata")?,
        created_at: Timestamp(row.int("created_at")?),
        updated_at: Timestamp(row.int("updated_at")?),
    })
}

/// The `rate_limit` column of an application or endpoint.
pub(crate) fn rate_limit(row: &Row) -> Result<Option<u16>> {
    row.opt_int("rate_limit")?
        .map(|v| u16::try_from(v).map_err(|e| crate::convert::corrupt("rate_limit", e)))
        .transpose()
}
