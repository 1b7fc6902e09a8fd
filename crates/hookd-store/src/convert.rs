//! Conversions every backend shares: maps as JSON text, free text without NUL characters,
//! removed payloads as '', unique-key errors as `Conflict`, and the error for a stored value
//! that does not parse.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::StoreError;

pub(crate) fn map_to_json(map: &BTreeMap<String, String>) -> String {
    serde_json::to_string(map).expect("a map of strings always serializes")
}

pub(crate) fn json_to_map(
    column: &str,
    text: &str,
) -> Result<BTreeMap<String, String>, StoreError> {
    serde_json::from_str(text).map_err(|e| corrupt(column, e))
}

/// Free text (names, descriptions, response bodies) with each NUL replaced by U+FFFD.
/// PostgreSQL's `text` cannot hold NUL, and a receiver's response must never make an attempt
/// unrecordable; both backends store the same thing, so they answer the same.
pub(crate) fn nul_free(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Names what a unique-key violation (`Conflict`, as each backend reports it) is about; any
/// other error is left as it is.
pub(crate) fn conflict_as(what: &'static str) -> impl FnOnce(StoreError) -> StoreError {
    move |error| match error {
        StoreError::Conflict(_) => StoreError::Conflict(what),
        other => other,
    }
}

/// Names what a write referred to that is gone (`NotFound`, a foreign key as each backend
/// reports it); any other error is left as it is.
pub(crate) fn missing_as(what: &'static str) -> impl FnOnce(StoreError) -> StoreError {
    move |error| match error {
        StoreError::NotFound(_) => StoreError::NotFound(what),
        other => other,
    }
}

pub(crate) fn corrupt(column: &str, cause: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("column {column}: {cause}"))
}

/// A message's payload as stored: '' once removed, which no JSON object can be.
pub(crate) fn payload_to_column(payload: Option<&str>) -> &str {
    payload.unwrap_or_default()
}

pub(crate) fn payload_from_column(stored: String) -> Option<String> {
    (!stored.is_empty()).then_some(stored)
}
