//! Conversions between domain values and SQLite columns: JSON text for lists and maps, and
//! integers checked on the way back.

use std::collections::BTreeMap;

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::StoreError;
pub(super) use crate::convert::{conflict_as, corrupt, map_to_json, nul_free};

pub(super) fn list_to_json(list: Option<&[String]>) -> Option<String> {
    list.map(|items| serde_json::to_string(items).expect("a list of strings always serializes"))
}

pub(super) fn map_from_json(
    row: &SqliteRow,
    column: &str,
) -> Result<BTreeMap<String, String>, StoreError> {
    let text: String = row.try_get(column)?;
    crate::convert::json_to_map(column, &text)
}

pub(super) fn list_from_json(
    row: &SqliteRow,
    column: &str,
) -> Result<Option<Vec<String>>, StoreError> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| serde_json::from_str(&t).map_err(|e| corrupt(column, e)))
        .transpose()
}

pub(super) fn rate_limit(row: &SqliteRow) -> Result<Option<u16>, StoreError> {
    let value: Option<i64> = row.try_get("rate_limit")?;
    value
        .map(|v| u16::try_from(v).map_err(|e| corrupt("rate_limit", e)))
        .transpose()
}

/// A JSON array, bound as one parameter and read in SQL with `json_each`, so that the SQL text
/// (and so the prepared statement) is the same for any number of items.
pub(super) fn json_list<T: Into<serde_json::Value>>(items: impl IntoIterator<Item = T>) -> String {
    serde_json::Value::Array(items.into_iter().map(Into::into).collect()).to_string()
}
