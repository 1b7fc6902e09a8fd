//! API tokens as stored: only a hash of the token, and what it may reach.

use hookd_core::{AppId, Timestamp};

/// What a token may reach. Admin tokens reach everything; app tokens one application, and a
/// read-only one (a portal the provider opened for viewing) may only read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenScope {
    Admin,
    Application(AppId),
    ApplicationReadOnly(AppId),
}

impl TokenScope {
    /// The one application an app token reaches; `None` for an admin token.
    pub fn app(&self) -> Option<&AppId> {
        match self {
            TokenScope::Admin => None,
            TokenScope::Application(app) | TokenScope::ApplicationReadOnly(app) => Some(app),
        }
    }

    pub fn is_read_only(&self) -> bool {
        matches!(self, TokenScope::ApplicationReadOnly(_))
    }

    /// The scope stored as its two columns, `app_id` (`None`: admin) and `read_only`.
    pub(crate) fn from_columns(app_id: Option<String>, read_only: bool) -> TokenScope {
        match app_id.map(AppId::from_stored) {
            None => TokenScope::Admin,
            Some(app) if read_only => TokenScope::ApplicationReadOnly(app),
            Some(app) => TokenScope::Application(app),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRecord {
    /// Hex SHA-256 of the token; the token itself is never stored.
    pub hash: String,
    pub scope: TokenScope,
    pub created_at: Timestamp,
    /// When the token stops working (app-portal tokens); `None`: never.
    pub expires_at: Option<Timestamp>,
}

/// An admin token as the console lists it: never the token, only its hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenSummary {
    pub hash: String,
    /// What the operator called it; tokens made by `hookd token create` have none.
    pub name: Option<String>,
    pub created_at: Timestamp,
}

impl TokenRecord {
    /// Whether the token still works at `now`.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.expires_at.is_none_or(|at| now < at)
    }
}
