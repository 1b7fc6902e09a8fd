//! Multi-row statements: a batch's rows bound as the values of one `VALUES` list, in chunks
//! of 32, 8 and 1 rows, so a batch runs as a few statements that stay prepared. Multi-row, not
//! one statement per row: a statement that inserts many rows keeps its B-tree cursors on the
//! last leaf between them, where one run per row seeks every B-tree from its root again.

use rusqlite::{CachedStatement, Connection, ToSql};

use crate::Result;

/// Chunk sizes, largest first; the last must be 1.
const CHUNKS: [usize; 3] = [32, 8, 1];

/// One statement text per chunk size, each taking that many rows of `columns` values.
pub(super) struct MultiRow {
    columns: usize,
    texts: [String; 3],
}

/// Binds one row's values, in order.
pub(super) struct Binder<'s, 'c> {
    stmt: &'s mut CachedStatement<'c>,
    at: usize,
}

impl Binder<'_, '_> {
    pub(super) fn bind(&mut self, value: impl ToSql) -> rusqlite::Result<()> {
        self.at += 1;
        self.stmt.raw_bind_parameter(self.at, value)
    }
}

impl MultiRow {
    /// `sql` makes the statement from its `VALUES` list.
    pub(super) fn new(columns: usize, sql: impl Fn(&str) -> String) -> MultiRow {
        MultiRow {
            columns,
            texts: CHUNKS.map(|rows| sql(&values(rows, columns))),
        }
    }

    /// Runs the statement over every row of `rows`, `bind` binding each row's values.
    pub(super) fn run<T>(
        &self,
        conn: &Connection,
        rows: &[T],
        bind: impl Fn(&mut Binder, &T) -> rusqlite::Result<()>,
    ) -> Result<()> {
        let mut rest = rows;
        for (text, size) in self.texts.iter().zip(CHUNKS) {
            if rest.len() < size {
                continue;
            }
            let mut stmt = conn.prepare_cached(text)?;
            while rest.len() >= size {
                let (chunk, tail) = rest.split_at(size);
                let mut binder = Binder {
                    stmt: &mut stmt,
                    at: 0,
                };
                for row in chunk {
                    bind(&mut binder, row)?;
                }
                debug_assert_eq!(binder.at, size * self.columns);
                stmt.raw_execute()?;
                rest = tail;
            }
        }
        Ok(())
    }
}

/// `(?1,?2,?3),(?4,?5,?6)` for two rows of three.
fn values(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|row| {
            let params: Vec<String> = (1..=columns)
                .map(|column| format!("?{}", row * columns + column))
                .collect();
            format!("({})", params.join(","))
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_goes_in_whatever_the_chunks() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (a INTEGER, b TEXT)")
            .unwrap();
        let insert = MultiRow::new(2, |values| format!("INSERT INTO t (a, b) VALUES {values}"));
        let rows: Vec<(i64, String)> = (0..45).map(|i| (i, format!("r{i}"))).collect();
        insert
            .run(&conn, &rows, |b, (a, text)| {
                b.bind(a)?;
                b.bind(text)
            })
            .unwrap();
        let (count, sum): (i64, i64) = conn
            .query_row("SELECT COUNT(*), SUM(a) FROM t", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((count, sum), (45, (0..45).sum()));
    }
}
