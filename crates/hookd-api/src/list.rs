//! `ListResponse<T>`: one page of a list, with the cursors to walk on in either direction.

use serde::{Deserialize, Serialize};

/// `iterator` and `prevIterator` are always present (`null` when there is none): SDKs read
/// them as required keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListResponse<T> {
    pub data: Vec<T>,
    /// Pass as `iterator` to get the page after this one.
    #[serde(default)]
    pub iterator: Option<String>,
    /// Pass as `iterator` to get the page before this one (it starts with `-`).
    #[serde(default)]
    pub prev_iterator: Option<String>,
    /// True when no item follows this page.
    pub done: bool,
}
