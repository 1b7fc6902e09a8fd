//! The request edge: extractors whose rejections are hookd's own error bodies (`Json`, `Path`,
//! `QueryParams`), the list glue every resource shares (page parameters in, `ListResponse`
//! out), and the name rules body fields share.
//!
//! axum's own extractors answer a bad body with plain text; SDKs expect the Svix 422 list
//! with a `loc` naming the field, so every handler takes these instead.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hookd_api::{JsonError, JsonErrorKind, ListResponse, ValidationErrorItem};
use hookd_core::{Timestamp, name};
use hookd_store::{Ordering, Page, PageQuery};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::ApiError;
use crate::state::AppState;

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 250;

/// A JSON body in, a JSON body out. As an extractor it needs `Content-Type: application/json`,
/// answers 413 past `max_payload_bytes`, and 422 at `["body", <field>]` for a body that does
/// not fit the wire type.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        if !has_json_content_type(req.headers()) {
            return Err(ApiError::BadRequest(
                "expected a JSON body with 'Content-Type: application/json'".into(),
            ));
        }
        let limit = state.config.max_payload_bytes;
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            // The body limit layer in `api::router` makes this rejection carry 413.
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge(limit)
            } else {
                ApiError::BadRequest(rejection.body_text())
            }
        })?;
        hookd_api::from_json_slice(&bytes)
            .map(Json)
            .map_err(body_error)
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn has_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mime = value.split(';').next().unwrap_or_default().trim();
    mime.eq_ignore_ascii_case("application/json") || mime.to_ascii_lowercase().ends_with("+json")
}

fn body_error(e: JsonError) -> ApiError {
    let kind = match e.kind {
        JsonErrorKind::Syntax => "value_error.jsondecode",
        JsonErrorKind::Missing => "value_error.missing",
        JsonErrorKind::Type => "type_error",
    };
    let loc = std::iter::once("body".to_owned()).chain(e.path).collect();
    ApiError::Validation(vec![ValidationErrorItem {
        loc,
        msg: e.message,
        r#type: kind.into(),
    }])
}

/// Path parameters, with a JSON error body when they do not decode (bad percent-encoding).
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))
    }
}

/// The raw query string as pairs, read by the typed accessors below. Not `axum::Query`:
/// `event_types` repeats (`event_types=a&event_types=b`), and the Python SDK joins it with
/// commas instead, so lists are read by hand. An empty value counts as absent.
pub struct QueryParams(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let raw = parts.uri.query().unwrap_or_default();
        Ok(QueryParams(
            url::form_urlencoded::parse(raw.as_bytes())
                .into_owned()
                .collect(),
        ))
    }
}

fn query_error(key: &str, msg: impl Into<String>) -> ApiError {
    ApiError::invalid(&["query", key], msg)
}

impl QueryParams {
    fn values<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// The last value given for `key`.
    pub fn get<'a>(&'a self, key: &'a str) -> Option<&'a str> {
        self.values(key).last()
    }

    pub fn flag(&self, key: &str, default: bool) -> Result<bool, ApiError> {
        match self.get(key).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(default),
            Some("true" | "1") => Ok(true),
            Some("false" | "0") => Ok(false),
            Some(_) => Err(query_error(key, "must be true or false")),
        }
    }

    pub fn integer(&self, key: &str) -> Result<Option<i64>, ApiError> {
        self.get(key)
            .map(|v| {
                v.parse()
                    .map_err(|_| query_error(key, "must be an integer"))
            })
            .transpose()
    }

    /// An RFC 3339 time. A `+` offset that arrived unencoded reads as a space; put it back.
    pub fn time(&self, key: &str) -> Result<Option<Timestamp>, ApiError> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        hookd_api::timestamp::parse_millis(&value.replace(' ', "+"))
            .map(|ms| Some(Timestamp::from_millis(ms)))
            .ok_or_else(|| query_error(key, "must be an RFC 3339 date-time"))
    }

    /// One name (a channel, say), checked by the shared name rules.
    pub fn name(&self, key: &str, max_len: usize) -> Result<Option<String>, ApiError> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        name::check(value, max_len).map_err(|e| query_error(key, e.to_string()))?;
        Ok(Some(value.to_owned()))
    }

    /// A list of names, repeated or comma-separated; `None` when not given.
    pub fn names(&self, key: &str, max_len: usize) -> Result<Option<Vec<String>>, ApiError> {
        let mut names: Vec<String> = Vec::new();
        for name in self
            .values(key)
            .flat_map(|v| v.split(','))
            .filter(|n| !n.is_empty())
        {
            name::check(name, max_len).map_err(|e| query_error(key, e.to_string()))?;
            if !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        }
        Ok((!names.is_empty()).then_some(names))
    }

    /// `limit`, `iterator` and `order`. `is_id` says whether an iterator names an item of the
    /// listed kind; a `-` in front walks back from it (Svix's `prevIterator`).
    pub fn page(
        &self,
        default_order: Ordering,
        is_id: impl Fn(&str) -> bool,
    ) -> Result<PageQuery, ApiError> {
        let limit = match self.get("limit") {
            None => DEFAULT_LIMIT,
            Some(v) => match v.parse::<u64>() {
                Ok(n) if (1..=u64::from(MAX_LIMIT)).contains(&n) => n as u32,
                Ok(_) => return Err(query_error("limit", "must be between 1 and 250")),
                Err(_) => return Err(query_error("limit", "must be a positive integer")),
            },
        };
        let order = match self.get("order") {
            None => default_order,
            Some("ascending") => Ordering::Ascending,
            Some("descending") => Ordering::Descending,
            Some(_) => return Err(query_error("order", "must be ascending or descending")),
        };
        let (mut iterator, mut prev_iterator) = (None, None);
        if let Some(v) = self.get("iterator") {
            let (id, slot) = match v.strip_prefix('-') {
                Some(id) => (id, &mut prev_iterator),
                None => (v, &mut iterator),
            };
            if !is_id(id) {
                return Err(query_error(
                    "iterator",
                    "is not an iterator this list returned",
                ));
            }
            *slot = Some(id.to_owned());
        }
        Ok(PageQuery {
            limit,
            iterator,
            prev_iterator,
            order,
        })
    }
}

/// A store page as the wire list; `prevIterator` gets the `-` that marks walking back.
pub fn list_out<T, U>(
    page: Page<T>,
    out: impl FnMut(T) -> Result<U, ApiError>,
) -> Result<ListResponse<U>, ApiError> {
    Ok(ListResponse {
        data: page.items.into_iter().map(out).collect::<Result<_, _>>()?,
        iterator: page.iterator,
        prev_iterator: page.prev_iterator.map(|id| format!("-{id}")),
        done: page.done,
    })
}

/// A name field of a body (uid, event type, channel, event id), 422 at `loc` when it breaks
/// the shared rules.
pub fn check_name(loc: &[&str], value: &str, max_len: usize) -> Result<(), ApiError> {
    name::check(value, max_len).map_err(|e| ApiError::invalid(loc, e.to_string()))
}

/// A list of names holding 1 to `max_items` items; duplicates are dropped, as Svix treats
/// these lists as sets.
pub fn check_name_list(
    loc: &[&str],
    values: Vec<String>,
    max_len: usize,
    max_items: usize,
) -> Result<Vec<String>, ApiError> {
    let mut names: Vec<String> = Vec::with_capacity(values.len());
    for value in values {
        check_name(loc, &value, max_len)?;
        if !names.contains(&value) {
            names.push(value);
        }
    }
    if names.is_empty() {
        return Err(ApiError::invalid(
            loc,
            "must not be empty (omit it for no filter)",
        ));
    }
    if names.len() > max_items {
        return Err(ApiError::invalid(
            loc,
            format!("must hold at most {max_items} items"),
        ));
    }
    Ok(names)
}
