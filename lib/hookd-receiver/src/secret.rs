//! `Secret`: the HMAC key an endpoint's signatures are made with.

use std::fmt;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// The prefix Standard Webhooks and Svix put in front of a base64-encoded secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// Standard base64 that also accepts a secret whose padding was trimmed off when it was pasted.
pub(crate) const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The key bytes an endpoint's `v1` signatures are computed with.
///
/// Written as `whsec_<base64>`; the HMAC key is the decoded bytes, not the text.
/// `Debug` never prints the key.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    key: Vec<u8>,
}

/// Why a secret's text was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    #[error("secret is empty")]
    Empty,
    #[error("secret is not valid base64 (expected `whsec_<base64>` or bare base64)")]
    InvalidBase64(#[source] base64::DecodeError),
}

impl Secret {
    /// Reads `whsec_<base64>` or bare base64.
    pub fn parse(s: &str) -> Result<Secret, SecretError> {
        let encoded = s.strip_prefix(SECRET_PREFIX).unwrap_or(s);
        let key = LENIENT_BASE64
            .decode(encoded)
            .map_err(SecretError::InvalidBase64)?;
        if key.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(Secret { key })
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Secret {
        Secret { key: bytes }
    }

    /// The form to show an endpoint's owner: `whsec_` and padded standard base64.
    pub fn to_whsec(&self) -> String {
        format!(
            "{SECRET_PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(&self.key)
        )
    }

    pub(crate) fn key(&self) -> &[u8] {
        &self.key
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(**redacted**)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_parses_with_or_without_the_whsec_prefix() {
        let prefixed = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let bare = Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(prefixed, bare);
        assert_eq!(prefixed.key().len(), 24);
    }

    #[test]
    fn to_whsec_round_trips_through_parse() {
        let secret = Secret::from_bytes((0u8..32).collect());
        let text = secret.to_whsec();
        assert!(text.starts_with("whsec_"));
        assert_eq!(Secret::parse(&text).unwrap(), secret);
    }

    #[test]
    fn to_whsec_keeps_padding_and_parse_accepts_it_trimmed() {
        let secret = Secret::from_bytes(vec![1, 2, 3, 4]);
        assert_eq!(secret.to_whsec(), "whsec_AQIDBA==");
        assert_eq!(Secret::parse("whsec_AQIDBA").unwrap(), secret);
    }

    #[test]
    fn an_empty_secret_is_refused() {
        assert!(matches!(Secret::parse(""), Err(SecretError::Empty)));
        assert!(matches!(Secret::parse("whsec_"), Err(SecretError::Empty)));
    }

    #[test]
    fn invalid_base64_is_refused() {
        assert!(matches!(
            Secret::parse("whsec_not base64!"),
            Err(SecretError::InvalidBase64(_))
        ));
    }

    #[test]
    fn debug_does_not_print_the_key() {
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(format!("{secret:?}"), "Secret(**redacted**)");
    }
}
