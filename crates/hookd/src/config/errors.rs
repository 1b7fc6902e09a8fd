//! Config errors as an operator reads them: the option, where its value came from, and what is
//! wrong, in words rather than figment's (which names Rust types and source lines).

use figment::error::Kind;

use super::origin;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("config file {path} does not exist")]
    Missing { path: String },
    #[error("invalid config: {0}")]
    Parse(String),
    #[error("invalid config: {field} ({origin}): {problem}")]
    Invalid {
        field: &'static str,
        origin: String,
        problem: String,
    },
}

/// Every error figment found, one a line.
pub(super) fn describe(errors: figment::Error) -> String {
    errors
        .into_iter()
        .map(|error| {
            // An unknown option names itself in the problem.
            let key = match error.kind {
                Kind::UnknownField(..) => String::new(),
                _ => error.path.join("."),
            };
            let source = error
                .metadata
                .as_ref()
                .map(|metadata| origin(metadata, error.path.first().map_or("", |k| k)));
            let problem = problem(&error.kind);
            match (key.is_empty(), source) {
                (false, Some(source)) => format!("{key} ({source}): {problem}"),
                (false, None) => format!("{key}: {problem}"),
                (true, Some(source)) => format!("{source}: {problem}"),
                (true, None) => problem,
            }
        })
        .collect::<Vec<_>>()
        .join("\ninvalid config: ")
}

fn problem(kind: &Kind) -> String {
    match kind {
        Kind::UnknownField(field, _) => {
            format!("`{field}` is not an option (`hookd config default` lists them)")
        }
        Kind::UnknownVariant(value, expected) => {
            format!("{value:?} is not one of {}", expected.join(", "))
        }
        Kind::InvalidType(found, expected) => {
            format!("found {found}, expected {}", plain(&expected.to_string()))
        }
        other => other.to_string(),
    }
}

/// Serde's names for what a number option wants are Rust types; say them in words.
fn plain(expected: &str) -> &str {
    match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number, 0 or more",
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number",
        "f32" | "f64" => "a number",
        other => other,
    }
}
