//! Pagination in SQL: the cursor condition, order and limit that every list shares, for either
//! backend.
//!
//! Ids sort by creation time as strings (byte order: PostgreSQL id columns are `COLLATE "C"`),
//! so a page is a range of ids. Walking back from a `prev_iterator` queries the opposite
//! direction and reverses the rows.

use crate::sql::Query;
use crate::{Ordering, Page, PageQuery};

/// The range one page request scans.
pub(crate) struct Window<'q> {
    query: &'q PageQuery,
    cursor: Option<&'q str>,
    /// The order rows come out of SQL, the reverse of `query.order` when walking back.
    scan: Ordering,
    back: bool,
}

impl<'q> Window<'q> {
    pub(crate) fn new(query: &'q PageQuery) -> Window<'q> {
        match &query.prev_iterator {
            Some(prev) => Window {
                query,
                cursor: Some(prev),
                scan: reverse(query.order),
                back: true,
            },
            None => Window {
                query,
                cursor: query.iterator.as_deref(),
                scan: query.order,
                back: false,
            },
        }
    }

    /// Appends ` AND id >/< cursor ORDER BY id LIMIT n` to a query whose WHERE is open;
    /// `id` names the column, with its table alias if the query joins.
    pub(crate) fn push(&self, sql: &mut Query, id: &str) {
        let (op, dir) = match self.scan {
            Ordering::Ascending => (">", "ASC"),
            Ordering::Descending => ("<", "DESC"),
        };
        if let Some(cursor) = self.cursor {
            sql.push(&format!(" AND {id} {op} ")).bind(cursor);
        }
        // One row more than asked for tells whether another page follows.
        sql.push(&format!(" ORDER BY {id} {dir} LIMIT "))
            .bind(i64::from(self.query.limit) + 1);
    }

    /// Turns the fetched rows into the page, in the requested order.
    pub(crate) fn page<T>(&self, mut rows: Vec<T>, id: impl Fn(&T) -> &str) -> Page<T> {
        let limit = usize::try_from(self.query.limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        if self.back {
            rows.reverse();
        }
        Page {
            iterator: rows.last().map(|row| id(row).to_owned()),
            prev_iterator: rows.first().map(|row| id(row).to_owned()),
            // Walking back, the page we came from still follows.
            done: !self.back && !more,
            items: rows,
        }
    }
}

fn reverse(order: Ordering) -> Ordering {
    match order {
        Ordering::Ascending => Ordering::Descending,
        Ordering::Descending => Ordering::Ascending,
    }
}
