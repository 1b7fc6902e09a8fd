//! hookd-receiver: sign and verify Standard Webhooks requests and answer hookd's ownership challenge.
//!
//! Receivers embed this crate to check that a request came from hookd; hookd itself signs with
//! [`sign`], so the two sides cannot drift. It does no IO and reads no clock: pass the header
//! values, the raw body and the current unix time.
//!
//! ```
//! use hookd_receiver::{Headers, Secret, Verifier, sign};
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
//! Verifier::new(secret).verify(&headers, body, 1_700_000_030)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod challenge;
mod headers;
mod secret;
mod sign;
#[cfg(test)]
mod test_vectors;
mod verify;

pub use challenge::{
    CHALLENGE_ID_PREFIX, CHALLENGE_PARAM, answer_challenge, challenge_from_query, verify_challenge,
};
pub use headers::Headers;
pub use secret::{SECRET_PREFIX, Secret, SecretError};
pub use sign::sign;
pub use verify::{DEFAULT_TOLERANCE_SECONDS, Verifier, VerifyError};
