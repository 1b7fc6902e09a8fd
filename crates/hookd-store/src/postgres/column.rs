//! Conversions between domain values and PostgreSQL columns: maps as JSON text, and integers
//! of the narrower SQL types checked on the way back.

use std::collections::BTreeMap;

use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::StoreError;
pub(super) use crate::convert::{corrupt, nul_free};

pub(super) fn map_from_json(
    row: &PgRow,
    column: &str,
) -> Result<BTreeMap<String, String>, StoreError> {
    let text: String = row.try_get(column)?;
    crate::convert::json_to_map(column, &text)
}

/// A `SMALLINT` code as the `i64` the domain's `from_code` takes.
pub(super) fn code(row: &PgRow, column: &str) -> Result<i64, StoreError> {
    Ok(i64::from(row.try_get::<i16, _>(column)?))
}
