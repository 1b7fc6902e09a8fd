//! API tokens as stored: only a hash of the token, and what it may reach.

use hookd_core::{AppId, Timestamp};

/// What a token may reach. Admin tokens reach everything; app tokens one application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenScope {
    Admin,
    Application(AppId),
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

impl TokenRecord {
    /// Whether the token still works at `now`.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.expires_at.is_none_or(|at| now < at)
    }
}
