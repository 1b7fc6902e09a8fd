//! Endpoint: a receiver's URL registered under an application, with its filters and secret.

use std::collections::BTreeMap;
use std::fmt;

use crate::{AppId, EndpointId, Timestamp};

/// The prefix of an ed25519 signing secret; its deliveries carry `v1a` signatures.
pub const ED25519_SECRET_PREFIX: &str = "whsk_";

#[derive(Clone, PartialEq)]
pub struct Endpoint {
    pub id: EndpointId,
    pub app_id: AppId,
    pub uid: Option<String>,
    pub url: String,
    pub description: String,
    pub disabled: bool,
    pub event_types: Option<Vec<String>>,
    pub channels: Option<Vec<String>>,
    pub rate_limit: Option<u16>,
    pub metadata: BTreeMap<String, String>,
    /// The current signing secret: `whsec_...` (HMAC, `v1`) or `whsk_...` (ed25519, `v1a`).
    /// Never printed: see the `Debug` impl. Secrets a rotation retired are the store's affair.
    pub secret: String,
    /// Extra headers sent with every delivery.
    pub headers: BTreeMap<String, String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("id", &self.id)
            .field("app_id", &self.app_id)
            .field("uid", &self.uid)
            .field("url", &self.url)
            .field("disabled", &self.disabled)
            .field("event_types", &self.event_types)
            .field("channels", &self.channels)
            .field("secret", &"**redacted**")
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// How an endpoint's deliveries are signed, as its secret says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureType {
    /// `v1`: HMAC-SHA256 with a shared `whsec_` secret.
    Hmac,
    /// `v1a`: ed25519 with a `whsk_` signing key; receivers hold the `whpk_` public key.
    Ed25519,
}

impl SignatureType {
    /// The type a stored secret signs with.
    pub fn of(secret: &str) -> SignatureType {
        if secret.starts_with(ED25519_SECRET_PREFIX) {
            SignatureType::Ed25519
        } else {
            SignatureType::Hmac
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_prefix_says_the_signature_type() {
        assert_eq!(SignatureType::of("whsk_AAAA"), SignatureType::Ed25519);
        assert_eq!(SignatureType::of("whsec_AAAA"), SignatureType::Hmac);
        assert_eq!(SignatureType::of("AAAA"), SignatureType::Hmac);
    }
}
