//! Event types in PostgreSQL: global, keyed and listed by name.

use hookd_core::{EventType, Timestamp};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};

use super::column::{conflict_as, nul_free};
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

pub(super) async fn insert(pool: &PgPool, event_type: &EventType) -> Result<()> {
    sqlx::query(
        "INSERT INTO event_types (name, description, archived, deprecated, feature_flag,
                                  schemas, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&event_type.name)
    .bind(nul_free(&event_type.description))
    .bind(event_type.archived)
    .bind(event_type.deprecated)
    .bind(event_type.feature_flag.as_deref())
    .bind(event_type.schemas.as_deref())
    .bind(event_type.created_at.as_millis())
    .bind(event_type.updated_at.as_millis())
    .execute(pool)
    .await
    .map_err(conflict_as("event type with this name"))?;
    Ok(())
}

pub(super) async fn get(pool: &PgPool, name: &str) -> Result<Option<EventType>> {
    let row = sqlx::query(select!("WHERE name = $1"))
        .bind(name)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub(super) async fn list(
    pool: &PgPool,
    page: &PageQuery,
    filter: &EventTypeFilter,
) -> Result<Page<EventType>> {
    let window = Window::new(page);
    let mut sql = QueryBuilder::<Postgres>::new(select!("WHERE TRUE"));
    if !filter.include_archived {
        sql.push(" AND NOT archived");
    }
    window.push(&mut sql, "name");
    let rows = sql.build().fetch_all(pool).await?;
    let event_types = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(window.page(event_types, |t| t.name.as_str()))
}

pub(super) async fn update(pool: &PgPool, event_type: &EventType) -> Result<bool> {
    let updated = sqlx::query(
        "UPDATE event_types SET description = $1, archived = $2, deprecated = $3,
                                feature_flag = $4, schemas = $5, updated_at = $6
         WHERE name = $7",
    )
    .bind(nul_free(&event_type.description))
    .bind(event_type.archived)
    .bind(event_type.deprecated)
    .bind(event_type.feature_flag.as_deref())
    .bind(event_type.schemas.as_deref())
    .bind(event_type.updated_at.as_millis())
    .bind(&event_type.name)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(updated > 0)
}

pub(super) async fn delete(pool: &PgPool, name: &str) -> Result<bool> {
    let deleted = sqlx::query("DELETE FROM event_types WHERE name = $1")
        .bind(name)
        .execute(pool)
        .await?
        .rows_affected();
    Ok(deleted > 0)
}

pub(super) async fn unknown(pool: &PgPool, names: &[String]) -> Result<Vec<String>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let unknown = sqlx::query_scalar(
        "SELECT n.name FROM UNNEST($1::text[]) WITH ORDINALITY AS n(name, position)
         WHERE NOT EXISTS (SELECT 1 FROM event_types t WHERE t.name = n.name AND NOT t.archived)
         ORDER BY n.position",
    )
    .bind(names)
    .fetch_all(pool)
    .await?;
    Ok(unknown)
}

fn from_row(row: &PgRow) -> Result<EventType> {
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
