//! A row read back from either backend: its columns by name, each a `Value`, and getters that
//! turn them into what the domain holds, failing as `Corrupt` when a stored value does not fit.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Value;
use crate::convert::corrupt;
use crate::{Result, StoreError};

#[derive(Clone, Debug)]
pub struct Row {
    names: Arc<[String]>,
    values: Vec<Value>,
}

impl Row {
    /// `values` in the order of `names`, the columns of the statement that read them.
    pub fn new(names: Arc<[String]>, values: Vec<Value>) -> Row {
        debug_assert_eq!(names.len(), values.len());
        Row { names, values }
    }

    fn value(&self, column: &str) -> Result<&Value> {
        let at = self.names.iter().position(|name| name == column);
        at.map(|at| &self.values[at])
            .ok_or_else(|| StoreError::Corrupt(format!("no column {column} in the row")))
    }

    /// Whether the row has a column of this name (statements that return rows of two shapes).
    pub fn has(&self, column: &str) -> bool {
        self.names.iter().any(|name| name == column)
    }

    pub fn opt_int(&self, column: &str) -> Result<Option<i64>> {
        match self.value(column)? {
            Value::Int(v) => Ok(*v),
            Value::Bool(b) => Ok(Some(i64::from(*b))),
            Value::Null => Ok(None),
            other => Err(mismatch(column, "an integer", other)),
        }
    }

    pub fn int(&self, column: &str) -> Result<i64> {
        self.opt_int(column)?.ok_or_else(|| null(column))
    }

    /// An integer that must fit `T` (a count, a status code).
    pub fn int_as<T: TryFrom<i64>>(&self, column: &str) -> Result<T>
    where
        T::Error: std::fmt::Display,
    {
        T::try_from(self.int(column)?).map_err(|e| corrupt(column, e))
    }

    pub fn opt_text(&self, column: &str) -> Result<Option<String>> {
        match self.value(column)? {
            Value::Text(v) => Ok(v.clone()),
            Value::Null => Ok(None),
            other => Err(mismatch(column, "text", other)),
        }
    }

    pub fn text(&self, column: &str) -> Result<String> {
        self.opt_text(column)?.ok_or_else(|| null(column))
    }

    pub fn bool(&self, column: &str) -> Result<bool> {
        match self.value(column)? {
            Value::Bool(b) => Ok(*b),
            Value::Int(Some(i)) => Ok(*i != 0),
            other => Err(mismatch(column, "a flag", other)),
        }
    }

    /// A list of names: PostgreSQL's array, or SQLite's JSON text.
    pub fn list(&self, column: &str) -> Result<Option<Vec<String>>> {
        match self.value(column)? {
            Value::List(v) => Ok(v.clone()),
            Value::Text(Some(json)) => serde_json::from_str(json)
                .map(Some)
                .map_err(|e| corrupt(column, e)),
            Value::Text(None) | Value::Null => Ok(None),
            other => Err(mismatch(column, "a list", other)),
        }
    }

    /// A map stored as JSON text.
    pub fn map(&self, column: &str) -> Result<BTreeMap<String, String>> {
        crate::convert::json_to_map(column, &self.text(column)?)
    }

    pub fn opt_bytes(&self, column: &str) -> Result<Option<Vec<u8>>> {
        match self.value(column)? {
            Value::Bytes(v) => Ok(v.clone()),
            Value::Text(v) => Ok(v.clone().map(String::into_bytes)),
            Value::Null => Ok(None),
            other => Err(mismatch(column, "bytes", other)),
        }
    }
}

fn null(column: &str) -> StoreError {
    StoreError::Corrupt(format!("column {column} is NULL"))
}

/// Names the kind found, never the value: a column may hold a secret.
fn mismatch(column: &str, wanted: &str, found: &Value) -> StoreError {
    let kind = match found {
        Value::Int(_) => "an integer",
        Value::Text(_) => "text",
        Value::Bool(_) => "a flag",
        Value::List(_) | Value::Ints(_) => "a list",
        Value::Bytes(_) => "bytes",
        Value::Null => "NULL",
    };
    StoreError::Corrupt(format!("column {column}: {wanted} expected, {kind} found"))
}
