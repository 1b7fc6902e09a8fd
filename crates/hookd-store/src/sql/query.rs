//! A query for either backend: SQL text with `$1`-style parameters, and its values.
//!
//! Queries are written once in PostgreSQL's placeholder style; SQLite reads `$1` as a named
//! parameter numbered by first appearance, so its backend turns each into `?1` (`sqlite_text`).
//! The few places where the two dialects differ in syntax are methods here that ask the
//! dialect (`in_list`, `list_contains`, `for_update`), so a caller never branches on it.

use std::borrow::Cow;

use super::{Dialect, Value};

#[derive(Clone, Debug)]
pub struct Query {
    pub(crate) text: Cow<'static, str>,
    pub(crate) args: Vec<Value>,
}

/// A query of static text and its arguments, in order: `sql!("... $1 ... $2", a, b)`.
macro_rules! sql {
    ($text:expr $(, $arg:expr)* $(,)?) => {
        $crate::sql::Query::new($text)$(.arg($arg))*
    };
}

pub(crate) use sql;

impl Query {
    pub fn new(text: impl Into<Cow<'static, str>>) -> Query {
        Query {
            text: text.into(),
            args: Vec::new(),
        }
    }

    /// Adds the value of the next parameter the text already names.
    pub fn arg(mut self, value: impl Into<Value>) -> Query {
        self.args.push(value.into());
        self
    }

    /// Appends SQL text.
    pub fn push(&mut self, text: &str) -> &mut Query {
        self.text.to_mut().push_str(text);
        self
    }

    /// Appends a new parameter (`$n`) bound to `value`.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Query {
        self.args.push(value.into());
        let n = self.args.len();
        self.text.to_mut().push_str(&format!("${n}"));
        self
    }

    /// Appends `column IN <list>` for a list bound as one parameter (an array or JSON text),
    /// so the text stays the same for any number of items.
    pub fn in_list(
        &mut self,
        dialect: Dialect,
        column: &str,
        list: impl Into<Value>,
    ) -> &mut Query {
        let list = list.into();
        self.push(&format!(" {column} "));
        match dialect {
            Dialect::Postgres => self.push("= ANY(").bind(list).push(")"),
            Dialect::Sqlite => self
                .push("IN (SELECT value FROM json_each(")
                .bind(list)
                .push("))"),
        }
    }

    /// Appends a condition that the list column `column` holds `item`.
    pub fn list_contains(&mut self, dialect: Dialect, column: &str, item: &str) -> &mut Query {
        match dialect {
            Dialect::Postgres => self.push(" ").bind(item).push(&format!(" = ANY({column})")),
            Dialect::Sqlite => self
                .push(&format!(
                    " EXISTS (SELECT 1 FROM json_each({column}) WHERE value = "
                ))
                .bind(item)
                .push(")"),
        }
    }
}

impl Dialect {
    /// `FOR UPDATE` where rows can be locked; SQLite's one writer needs none.
    pub fn for_update(self) -> &'static str {
        match self {
            Dialect::Postgres => " FOR UPDATE",
            Dialect::Sqlite => "",
        }
    }

    /// `FOR UPDATE SKIP LOCKED`, for background batches that let other nodes' run on.
    pub fn skip_locked(self) -> &'static str {
        match self {
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        }
    }

    /// The hidden column that names a row in a table without a single-column key.
    pub fn row_key(self) -> &'static str {
        match self {
            Dialect::Postgres => "ctid",
            Dialect::Sqlite => "rowid",
        }
    }
}

/// `text` with each `$n` as SQLite's `?n`. Only a `$` before a digit is a parameter; hookd's
/// queries hold no such text in a string literal.
pub(crate) fn sqlite_text(text: &str) -> Cow<'_, str> {
    if !text.contains('$') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_become_sqlite_s_numbered_ones_and_nothing_else_changes() {
        assert_eq!(
            sqlite_text("SELECT $1, $12 FROM t WHERE a = '$' AND b = $2"),
            "SELECT ?1, ?12 FROM t WHERE a = '$' AND b = ?2"
        );
        assert!(matches!(sqlite_text("SELECT 1"), Cow::Borrowed(_)));
    }

    #[test]
    fn bound_values_are_numbered_after_the_ones_the_text_names() {
        let mut q = sql!("SELECT * FROM t WHERE a = $1", 7i64);
        q.push(" AND b = ").bind("x");
        q.push(" AND")
            .in_list(Dialect::Sqlite, "c", vec!["y".to_owned()]);
        assert_eq!(
            q.text,
            "SELECT * FROM t WHERE a = $1 AND b = $2 AND c IN (SELECT value FROM json_each($3))"
        );
        assert_eq!(q.args.len(), 3);
    }
}
