//! Values bound to a query and read back from its rows, in the few kinds hookd stores.
//!
//! Each kind is named by what it is to hookd, not by a column type: a list of names is a
//! PostgreSQL `TEXT[]` but JSON text in SQLite, a flag a `BOOLEAN` or an integer. Each backend
//! binds a value as its schema stores that kind, and reads it back into the same kind, so a
//! query written once runs on both. A typed null (`Int(None)`) keeps PostgreSQL's parameter
//! types exact, so `$1 IS NULL OR created_at < $1` needs no cast.

use std::borrow::Cow;

use hookd_core::Timestamp;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Bool(bool),
    /// A list of names (event types, channels).
    List(Option<Vec<String>>),
    /// A list of integers (row ids), only ever bound.
    Ints(Vec<i64>),
    Bytes(Option<Vec<u8>>),
    /// A NULL read back from a column SQLite does not type.
    Null,
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(Some(v))
    }
}

impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Value {
        Value::Int(v)
    }
}

impl From<i16> for Value {
    fn from(v: i16) -> Value {
        Value::Int(Some(v.into()))
    }
}

impl From<u32> for Value {
    fn from(v: u32) -> Value {
        Value::Int(Some(v.into()))
    }
}

impl From<Timestamp> for Value {
    fn from(v: Timestamp) -> Value {
        Value::Int(Some(v.as_millis()))
    }
}

impl From<Option<Timestamp>> for Value {
    fn from(v: Option<Timestamp>) -> Value {
        Value::Int(v.map(Timestamp::as_millis))
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(Some(v))
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(Some(v.to_owned()))
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(Some(v.clone()))
    }
}

impl From<Cow<'_, str>> for Value {
    fn from(v: Cow<'_, str>) -> Value {
        Value::Text(Some(v.into_owned()))
    }
}

impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Value {
        Value::Text(v.map(str::to_owned))
    }
}

impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Value {
        Value::Text(v)
    }
}

impl From<&[String]> for Value {
    fn from(v: &[String]) -> Value {
        Value::List(Some(v.to_vec()))
    }
}

impl From<Vec<String>> for Value {
    fn from(v: Vec<String>) -> Value {
        Value::List(Some(v))
    }
}

impl From<Option<&[String]>> for Value {
    fn from(v: Option<&[String]>) -> Value {
        Value::List(v.map(<[String]>::to_vec))
    }
}

impl From<Vec<i64>> for Value {
    fn from(v: Vec<i64>) -> Value {
        Value::Ints(v)
    }
}

impl From<Option<&[u8]>> for Value {
    fn from(v: Option<&[u8]>) -> Value {
        Value::Bytes(v.map(<[u8]>::to_vec))
    }
}
