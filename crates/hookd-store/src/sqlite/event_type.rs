//! Event types in SQLite: global, keyed and listed by name.

use hookd_core::{EventType, Timestamp};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use super::column::{conflict_as, json_list, nul_free};
use super::writer::Writer;
use crate::window::Window;
use crate::{EventTypeFilter, Page, PageQuery, Result};

/// A SELECT of every event type column, followed by `$rest`.
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT name, description, archived, deprecated, feature_flag, schemas, created_at,
                    updated_at
             FROM event_types ",
            $rest
        )
    };
}

pub(super) async fn insert(writer: &Writer, event_type: &EventType) -> Result<()> {
    sqlx::query(
        "INSERT INTO event_types (name, description, archived, deprecated, feature_flag,
                                  schemas, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&event_type.name)
    .bind(nul_free(&event_type.description))
    .bind(event_type.archived)
    .bind(event_type.deprecated)
    .bind(event_type.feature_flag.as_deref())
    .bind(event_type.schemas.as_deref())
    .bind(event_type.created_at.as_millis())
    .bind(event_type.updated_at.as_millis())
    .execute(&mut *writer.take().await?)
    .await
    .map_err(conflict_as("event type with this name"))?;
    Ok(())
}

pub(super) async fn get(reader: &SqlitePool, name: &str) -> Result<Option<EventType>> {
    let row = sqlx::query(select!("WHERE name = ?"))
        .bind(name)
        .fetch_optional(reader)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub(super) async fn list(
    reader: &SqlitePool,
    page: &PageQuery,
    filter: &EventTypeFilter,
) -> Result<Page<EventType>> {
    let window = Window::new(page);
    let mut sql = QueryBuilder::<Sqlite>::new(select!("WHERE 1"));
    if !filter.include_archived {
        sql.push(" AND archived = 0");
    }
    window.push(&mut sql, "name");
    let rows = sql.build().fetch_all(reader).await?;
    let event_types = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(window.page(event_types, |t| t.name.as_str()))
}

pub(super) async fn update(writer: &Writer, event_type: &EventType) -> Result<bool> {
    let updated = sqlx::query(
        "UPDATE event_types SET description = ?, archived = ?, deprecated = ?, feature_flag = ?,
                                schemas = ?, updated_at = ?
         WHERE name = ?",
    )
    .bind(nul_free(&event_type.description))
    .bind(event_type.archived)
    .bind(event_type.deprecated)
    .bind(event_type.feature_flag.as_deref())
    .bind(event_type.schemas.as_deref())
    .bind(event_type.updated_at.as_millis())
    .bind(&event_type.name)
    .execute(&mut *writer.take().await?)
    .await?
    .rows_affected();
    Ok(updated > 0)
}

pub(super) async fn delete(writer: &Writer, name: &str) -> Result<bool> {
    let deleted = sqlx::query("DELETE FROM event_types WHERE name = ?")
        .bind(name)
        .execute(&mut *writer.take().await?)
        .await?
        .rows_affected();
    Ok(deleted > 0)
}

pub(super) async fn unknown(reader: &SqlitePool, names: &[String]) -> Result<Vec<String>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let unknown = sqlx::query_scalar(
        "SELECT value FROM json_each(?)
         WHERE value NOT IN (SELECT name FROM event_types WHERE archived = 0)
         ORDER BY key",
    )
    .bind(json_list(names.iter().map(String::as_str)))
    .fetch_all(reader)
    .await?;
    Ok(unknown)
}

fn from_row(row: &SqliteRow) -> Result<EventType> {
    Ok(EventType {
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        archived: row.try_get("archived")?,
        deprecated: row.try_get("deprecated")?,
        feature_flag: row.try_get("feature_flag")?,
        schemas: row.try_get("schemas")?,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}
