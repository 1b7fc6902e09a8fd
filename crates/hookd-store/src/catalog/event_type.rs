//! Event types: global, keyed and listed by name.

use std::collections::HashSet;

use hookd_core::{EventType, Timestamp};

use crate::convert::{conflict_as, nul_free};
use crate::sql::{Db, Query, Row, first, sql};
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

pub(crate) async fn insert(db: &dyn Db, event_type: &EventType) -> Result<()> {
    db.execute(sql!(
        "INSERT INTO event_types (name, description, archived, deprecated, feature_flag,
                                  schemas, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &event_type.name,
        nul_free(&event_type.description),
        event_type.archived,
        event_type.deprecated,
        event_type.feature_flag.as_deref(),
        event_type.schemas.as_deref(),
        event_type.created_at,
        event_type.updated_at,
    ))
    .await
    .map_err(conflict_as("event type with this name"))?;
    Ok(())
}

pub(crate) async fn get(db: &dyn Db, name: &str) -> Result<Option<EventType>> {
    let rows = db.fetch(sql!(select!("WHERE name = $1"), name)).await?;
    first(rows).as_ref().map(from_row).transpose()
}

pub(crate) async fn list(
    db: &dyn Db,
    page: &PageQuery,
    filter: &EventTypeFilter,
) -> Result<Page<EventType>> {
    let window = Window::new(page);
    let mut sql = Query::new(select!("WHERE TRUE"));
    if !filter.include_archived {
        sql.push(" AND NOT archived");
    }
    window.push(&mut sql, "name");
    let rows = db.fetch(sql).await?;
    let event_types = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(window.page(event_types, |t| t.name.as_str()))
}

pub(crate) async fn update(db: &dyn Db, event_type: &EventType) -> Result<bool> {
    let updated = db
        .execute(sql!(
            "UPDATE event_types SET description = $1, archived = $2, deprecated = $3,
                                    feature_flag = $4, schemas = $5, updated_at = $6
             WHERE name = $7",
            nul_free(&event_type.description),
            event_type.archived,
            event_type.deprecated,
            event_type.feature_flag.as_deref(),
            event_type.schemas.as_deref(),
            event_type.updated_at,
            &event_type.name,
        ))
        .await?;
    Ok(updated > 0)
}

pub(crate) async fn delete(db: &dyn Db, name: &str) -> Result<bool> {
    let deleted = db
        .execute(sql!("DELETE FROM event_types WHERE name = $1", name))
        .await?;
    Ok(deleted > 0)
}

/// The names of `names`, in their order, that are no live (unarchived) event type.
pub(crate) async fn unknown(db: &dyn Db, names: &[String]) -> Result<Vec<String>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Query::new("SELECT name FROM event_types WHERE NOT archived AND");
    sql.in_list(db.dialect(), "name", names.to_vec());
    let live = db.fetch(sql).await?;
    let live: HashSet<String> = live
        .iter()
        .map(|row| row.text("name"))
        .collect::<Result<_>>()?;
    Ok(names
        .iter()
        .filter(|n| !live.contains(*n))
        .cloned()
        .collect())
}

fn from_row(row: &Row) -> Result<EventType> {
    Ok(EventType {
        name: row.text("name")?,
        description: row.text("description")?,
        archived: row.bool("archived")?,
        deprecated: row.bool("deprecated")?,
        feature_flag: row.opt_text("feature_flag")?,
        schemas: row.opt_text("schemas")?,
        created_at: Timestamp(row.int("created_at")?),
        updated_at: Timestamp(row.int("updated_at")?),
    })
}
