//! Applications in SQLite, and the delete that takes everything an application owns.

use hookd_core::{AppId, Application, Timestamp};
use sqlx::Connection;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use super::column::{conflict_as, map_from_json, map_to_json, nul_free, rate_limit};
use super::writer::Writer;
use crate::window::Window;
use crate::{Page, PageQuery, Result};

/// A SELECT of every application column, followed by `$rest`.
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT id, uid, name, rate_limit, metadata, created_at, updated_at FROM applications ",
            $rest
        )
    };
}

const UID_TAKEN: &str = "application with this uid";

pub(super) async fn insert(writer: &Writer, app: &Application) -> Result<()> {
    sqlx::query(
        "INSERT INTO applications (id, uid, name, rate_limit, metadata, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(app.id.as_str())
    .bind(app.uid.as_deref())
    .bind(nul_free(&app.name))
    .bind(app.rate_limit)
    .bind(map_to_json(&app.metadata))
    .bind(app.created_at.as_millis())
    .bind(app.updated_at.as_millis())
    .execute(&mut *writer.take().await?)
    .await
    .map_err(conflict_as(UID_TAKEN))?;
    Ok(())
}

/// By id if `id_or_uid` parses as an application id and such an application exists, else by uid.
pub(super) async fn get(reader: &SqlitePool, id_or_uid: &str) -> Result<Option<Application>> {
    if AppId::parse(id_or_uid).is_some() {
        let row = sqlx::query(select!("WHERE id = ?"))
            .bind(id_or_uid)
            .fetch_optional(reader)
            .await?;
        if let Some(row) = row {
            return from_row(&row).map(Some);
        }
    }
    let row = sqlx::query(select!("WHERE uid = ?"))
        .bind(id_or_uid)
        .fetch_optional(reader)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub(super) async fn list(reader: &SqlitePool, page: &PageQuery) -> Result<Page<Application>> {
    let window = Window::new(page);
    let mut sql = QueryBuilder::<Sqlite>::new(select!("WHERE 1"));
    window.push(&mut sql, "id");
    let rows = sql.build().fetch_all(reader).await?;
    let apps = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(window.page(apps, |app| app.id.as_str()))
}

pub(super) async fn update(writer: &Writer, app: &Application) -> Result<()> {
    sqlx::query(
        "UPDATE applications SET uid = ?, name = ?, rate_limit = ?, metadata = ?, updated_at = ?
         WHERE id = ?",
    )
    .bind(app.uid.as_deref())
    .bind(nul_free(&app.name))
    .bind(app.rate_limit)
    .bind(map_to_json(&app.metadata))
    .bind(app.updated_at.as_millis())
    .bind(app.id.as_str())
    .execute(&mut *writer.take().await?)
    .await
    .map_err(conflict_as(UID_TAKEN))?;
    Ok(())
}

/// Endpoints and messages go by foreign-key cascade; the tables without foreign keys
/// (deliveries, attempts, tokens) are cleared here, in the same transaction. A delivery goes
/// with its endpoint (`endpoint::delete`), so the application's are its endpoints' (found by
/// `deliveries_by_endpoint`, which no longer leads with `app_id`).
pub(super) async fn delete(writer: &Writer, id: &AppId) -> Result<bool> {
    let mut conn = writer.take().await?;
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    for sql in [
        "DELETE FROM deliveries WHERE endpoint_id IN (SELECT id FROM endpoints WHERE app_id = ?)",
        "DELETE FROM attempts WHERE app_id = ?",
        "DELETE FROM tokens WHERE app_id = ?",
    ] {
        sqlx::query(sql).bind(id.as_str()).execute(&mut *tx).await?;
    }
    let deleted = sqlx::query("DELETE FROM applications WHERE id = ?")
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(deleted > 0)
}

fn from_row(row: &SqliteRow) -> Result<Application> {
    Ok(Application {
        id: AppId::from_stored(row.try_get("id")?),
        uid: row.try_get("uid")?,
        name: row.try_get("name")?,
        rate_limit: rate_limit(row)?,
        metadata: map_from_json(row, "metadata")?,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}
