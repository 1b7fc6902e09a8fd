//! Pagination: Svix's `limit` / `iterator` / `done` cursor over time-sortable ids.

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Ordering {
    Ascending,
    #[default]
    Descending,
}

/// One page request. `iterator` is the id of the last item of the previous page; items come
/// after it in `order`. A `prev_iterator` walks back: the items before it, still in `order`.
#[derive(Clone, Debug)]
pub struct PageQuery {
    pub limit: u32,
    pub iterator: Option<String>,
    pub prev_iterator: Option<String>,
    pub order: Ordering,
}

impl Default for PageQuery {
    fn default() -> Self {
        PageQuery {
            limit: 50,
            iterator: None,
            prev_iterator: None,
            order: Ordering::Descending,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The id of the last item, to ask for the next page.
    pub iterator: Option<String>,
    /// The id of the first item, to ask for the page before.
    pub prev_iterator: Option<String>,
    /// True when no item follows this page.
    pub done: bool,
}
