//! Decoding a JSON body with the path to the field that broke, so a 422 can say which field.

use serde::de::DeserializeOwned;

/// What went wrong, to pick the validation error's `type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonErrorKind {
    /// Not JSON at all, or cut short.
    Syntax,
    /// A required field is missing.
    Missing,
    /// A value of the wrong type or out of its type's range.
    Type,
}

/// A body that did not decode into the wire type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    /// Keys and array indices from the root down to the bad value; for a missing field, the
    /// path ends with the field's name.
    pub path: Vec<String>,
    /// serde's message, without its line and column.
    pub message: String,
    pub kind: JsonErrorKind,
}

pub fn from_json_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(convert)?;
    // Trailing characters after the value are a syntax error too.
    de.end().map_err(|e| convert_plain(Vec::new(), e))?;
    Ok(value)
}

fn convert(e: serde_path_to_error::Error<serde_json::Error>) -> JsonError {
    let path = e
        .path()
        .iter()
        .filter_map(|segment| match segment {
            serde_path_to_error::Segment::Map { key } => Some(key.clone()),
            serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
            serde_path_to_error::Segment::Enum { variant } => Some(variant.clone()),
            serde_path_to_error::Segment::Unknown => None,
        })
        .collect();
    convert_plain(path, e.into_inner())
}

fn convert_plain(mut path: Vec<String>, e: serde_json::Error) -> JsonError {
    let full = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    let message = full.strip_suffix(&position).unwrap_or(&full).to_owned();
    let kind = if e.is_data() {
        JsonErrorKind::Type
    } else {
        JsonErrorKind::Syntax
    };
    // serde reports a missing field at the struct holding it; point at the field itself.
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        path.push(field.to_owned());
        return JsonError {
            path,
            message,
            kind: JsonErrorKind::Missing,
        };
    }
    JsonError {
        path,
        message,
        kind,
    }
}
