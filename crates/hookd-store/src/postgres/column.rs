//! Conversions between domain values and PostgreSQL columns: maps as JSON text, and integers
//! of the narrower SQL types checked on the way back.

use std::collections::BTreeMap;

use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::StoreError;
pub(super) use crate::convert::{conflict_as, corrupt, map_to_json, nul_free};

pub(super) fn map_from_json(
    row: &PgRow,
    column: &str,
) -> Result<BTreeMap<String, String>, StoreError> {
    let text: String = row.try_get(column)?;
    crate::convert::json_to_map(column, &text)
}

pub(super) fn rate_limit_to_sql(limit: Option<u16>) -> Option<i32> {
    limit.map(i32::from)
}

pub(super) fn rate_limit(row: &PgRow) -> Result<Option<u16>, StoreError> {
    let value: Option<i32> = row.try_get("rate_limit")?;
    value
        .map(|v| u16::try_from(v).map_err(|e| corrupt("rate_limit", e)))
        .transpose()
}

/// A `SMALLINT` code as the `i64` the domain's `from_code` takes.
pub(super) fn code(row: &PgRow, column: &str) -> Result<i64, StoreError> {
    Ok(i64::from(row.try_get::<i16, _>(column)?))
}
