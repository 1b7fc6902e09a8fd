//! hookd-receiver: verify Standard Webhooks requests, answer hookd's ownership challenge, and
//! drop duplicate deliveries.
//!
//! Receivers embed this crate to check that a request came from hookd (or any Standard Webhooks
//! or Svix sender); hookd itself signs with [`sign`], so the two sides cannot drift. The core
//! does no IO and reads no clock: pass the header values, the raw body and the current unix
//! time.
//!
//! ```
//! use hookd_receiver::{Headers, Secret, Verifier, VerifyError, sign};
//!
//! let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
//! let body = br#"{"type": "invoice.paid"}"#;
//! let signature = sign(&secret, "msg_1", 1_700_000_000, body);
//!
//! // In a receiver, `get` reads the request's headers by lowercase name.
//! let get = |name: &str| match name {
//!     "webhook-id" => Some("msg_1"),
//!     "webhook-timestamp" => Some("1700000000"),
//!     "webhook-signature" => Some(signature.as_str()),
//!     _ => None,
//! };
//! let headers = Headers::from_lookup(get)?;
//! let verifier = Verifier::new(secret).tolerance(300);
//! verifier.verify(&headers, body, 1_700_000_030)?;
//! // Each failed check has its own error.
//! assert_eq!(
//!     verifier.verify(&headers, body, 1_700_000_000 + 301),
//!     Err(VerifyError::TimestampTooOld)
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! What it checks, as the Standard Webhooks spec asks:
//! - `webhook-id`, `webhook-timestamp`, `webhook-signature`, each falling back to its `svix-*`
//!   name;
//! - the timestamp within 5 minutes of `now` either way ([`Verifier::tolerance`] changes it);
//! - any of the space-separated signatures matches any key: `v1` (HMAC-SHA256, `whsec_` secret,
//!   with or without the prefix, compared in constant time) or `v1a` (ed25519, `whpk_` public
//!   key, feature `ed25519`); unknown versions are skipped.
//!
//! The ownership challenge: before hookd sends to a URL it asks `GET url?challenge=<token>`;
//! answer 200 with the token ([`challenge_from_query`], [`answer_challenge`], and
//! [`verify_challenge`] to check that your own secret signed it). Deliveries are at least once:
//! [`RecentIds`] drops repeats of a `webhook-id` within bounded memory.
//!
//! Features:
//! - `ed25519`: `v1a` signatures (`PublicKey`, `SigningKey`, `sign_v1a`).
//! - `axum`: `axum::Webhook`, an extractor that does all of the above for an axum handler.
//!
//! Complete receivers: `examples/receiver.rs` (the standard library only) and
//! `examples/axum_receiver.rs` (feature `axum`).

#![forbid(unsafe_code)]

#[cfg(feature = "ed25519")]
mod asymmetric;
#[cfg(feature = "axum")]
pub mod axum;
mod challenge;
mod dedupe;
mod headers;
mod secret;
mod sign;
#[cfg(test)]
mod test_vectors;
mod verify;

#[cfg(feature = "ed25519")]
pub use asymmetric::{
    KeyError, PUBLIC_KEY_PREFIX, PublicKey, SIGNING_KEY_PREFIX, SigningKey, sign_v1a,
};
pub use challenge::{
    CHALLENGE_ID_PREFIX, CHALLENGE_PARAM, answer_challenge, challenge_from_query, verify_challenge,
};
pub use dedupe::RecentIds;
pub use headers::Headers;
pub use secret::{SECRET_PREFIX, Secret, SecretError};
pub use sign::sign;
pub use verify::{DEFAULT_TOLERANCE_SECONDS, Verifier, VerifyError};
