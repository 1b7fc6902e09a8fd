//! `Verifier`: checks that a request was signed by hookd with one of an endpoint's secrets, recently.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::Mac;

use crate::sign::v1_mac;
use crate::{Headers, Secret};

/// How far a request's timestamp may be from the receiver's clock, either way, by default.
pub const DEFAULT_TOLERANCE_SECONDS: u64 = 300;

/// The secrets an endpoint accepts and how much clock skew it tolerates.
///
/// Holding several secrets lets a receiver accept both keys while one is being rotated.
#[derive(Debug, Clone)]
pub struct Verifier {
    secrets: Vec<Secret>,
    tolerance_seconds: u64,
}

/// Which check a request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    #[error("missing header `{0}` (and its svix-* equivalent)")]
    MissingHeader(&'static str),
    #[error("webhook-timestamp is not a unix time in seconds")]
    InvalidTimestamp,
    #[error("webhook-timestamp is older than the tolerance allows")]
    TimestampTooOld,
    #[error("webhook-timestamp is further in the future than the tolerance allows")]
    TimestampTooNew,
    #[error("no v1 signature in webhook-signature matched any secret")]
    NoSignatureMatched,
    #[error("webhook-id does not start with `chal_`: this is not an ownership challenge")]
    NotAChallenge,
}

/// One entry of the signature header that this crate knows how to check.
///
/// `v1a` (ed25519) becomes a second variant here, with its keys beside `secrets` in `Verifier`.
enum SignatureEntry<'a> {
    V1 { base64: &'a str },
}

impl<'a> SignatureEntry<'a> {
    /// Parses one `version,signature` entry; unknown versions are `None` so they are skipped.
    fn parse(entry: &'a str) -> Option<Self> {
        match entry.split_once(',')? {
            ("v1", base64) => Some(SignatureEntry::V1 { base64 }),
            _ => None,
        }
    }
}

impl Verifier {
    pub fn new(secret: Secret) -> Verifier {
        Verifier::with_secrets(vec![secret])
    }

    /// A verifier with no secrets accepts nothing.
    pub fn with_secrets(secrets: Vec<Secret>) -> Verifier {
        Verifier {
            secrets,
            tolerance_seconds: DEFAULT_TOLERANCE_SECONDS,
        }
    }

    pub fn tolerance(self, seconds: u64) -> Verifier {
        Verifier {
            tolerance_seconds: seconds,
            ..self
        }
    }

    /// Accepts the request if its timestamp is within tolerance of `now_unix` and any `v1`
    /// signature matches any secret. `payload` is the raw body, before any parsing.
    pub fn verify(
        &self,
        headers: &Headers<'_>,
        payload: &[u8],
        now_unix: i64,
    ) -> Result<(), VerifyError> {
        self.check_timestamp(headers.timestamp, now_unix)?;
        let matched = headers
            .signature
            .split_whitespace()
            .filter_map(SignatureEntry::parse)
            .any(|entry| self.matches(&entry, headers, payload));
        if matched {
            Ok(())
        } else {
            Err(VerifyError::NoSignatureMatched)
        }
    }

    fn check_timestamp(&self, timestamp: &str, now_unix: i64) -> Result<(), VerifyError> {
        // Digits only: `i64::from_str` would also take a sign, which no sender writes.
        if timestamp.is_empty() || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
            return Err(VerifyError::InvalidTimestamp);
        }
        let sent: i64 = timestamp
            .parse()
            .map_err(|_| VerifyError::InvalidTimestamp)?;
        let age = i128::from(now_unix) - i128::from(sent);
        let tolerance = i128::from(self.tolerance_seconds);
        if age > tolerance {
            Err(VerifyError::TimestampTooOld)
        } else if -age > tolerance {
            Err(VerifyError::TimestampTooNew)
        } else {
            Ok(())
        }
    }

    fn matches(&self, entry: &SignatureEntry<'_>, headers: &Headers<'_>, payload: &[u8]) -> bool {
        match entry {
            SignatureEntry::V1 { base64 } => {
                let Ok(tag) = STANDARD.decode(base64) else {
                    return false;
                };
                // verify_slice compares in constant time and refuses a tag of the wrong length.
                self.secrets.iter().any(|secret| {
                    v1_mac(secret, headers.id, headers.timestamp, payload)
                        .verify_slice(&tag)
                        .is_ok()
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign;
    use crate::test_vectors::VECTORS;

    fn verify_vector(verifier: &Verifier, signature: &str, now: i64) -> Result<(), VerifyError> {
        let v = &VECTORS[0];
        let timestamp = v.timestamp.to_string();
        let headers = Headers {
            id: v.msg_id,
            timestamp: &timestamp,
            signature,
        };
        verifier.verify(&headers, v.payload.as_bytes(), now)
    }

    fn vector_verifier() -> Verifier {
        Verifier::new(Secret::parse(VECTORS[0].secret).unwrap())
    }

    #[test]
    fn the_standard_webhooks_vectors_verify_at_their_timestamp() {
        for v in &VECTORS {
            let verifier = Verifier::new(Secret::parse(v.secret).unwrap());
            let timestamp = v.timestamp.to_string();
            let headers = Headers {
                id: v.msg_id,
                timestamp: &timestamp,
                signature: v.signature,
            };
            assert_eq!(
                verifier.verify(&headers, v.payload.as_bytes(), v.timestamp),
                Ok(())
            );
        }
    }

    #[test]
    fn a_bare_base64_secret_verifies_like_a_whsec_one() {
        let bare = VECTORS[0].secret.trim_start_matches("whsec_");
        let verifier = Verifier::new(Secret::parse(bare).unwrap());
        let (sig, ts) = (VECTORS[0].signature, VECTORS[0].timestamp);
        assert_eq!(verify_vector(&verifier, sig, ts), Ok(()));
    }

    #[test]
    fn timestamps_at_the_tolerance_edge_pass_and_beyond_it_fail() {
        let (sig, ts) = (VECTORS[0].signature, VECTORS[0].timestamp);
        let verifier = vector_verifier();
        assert_eq!(verify_vector(&verifier, sig, ts + 300), Ok(()));
        assert_eq!(verify_vector(&verifier, sig, ts - 300), Ok(()));
        assert_eq!(
            verify_vector(&verifier, sig, ts + 301),
            Err(VerifyError::TimestampTooOld)
        );
        assert_eq!(
            verify_vector(&verifier, sig, ts - 301),
            Err(VerifyError::TimestampTooNew)
        );
    }

    #[test]
    fn the_tolerance_can_be_changed() {
        let (sig, ts) = (VECTORS[0].signature, VECTORS[0].timestamp);
        let verifier = vector_verifier().tolerance(10);
        assert_eq!(
            verify_vector(&verifier, sig, ts + 11),
            Err(VerifyError::TimestampTooOld)
        );
    }

    #[test]
    fn a_timestamp_that_is_not_unix_seconds_is_invalid() {
        let verifier = vector_verifier();
        for bad in [
            "",
            "abc",
            "-5",
            "+1614265330",
            "1614265330.5",
            "99999999999999999999",
        ] {
            let headers = Headers {
                id: "msg_1",
                timestamp: bad,
                signature: "v1,x",
            };
            assert_eq!(
                verifier.verify(&headers, b"{}", 0),
                Err(VerifyError::InvalidTimestamp),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_truncated_signature_fails() {
        let (sig, ts) = (VECTORS[0].signature, VECTORS[0].timestamp);
        let verifier = vector_verifier();
        for truncated in ["v1,", "v1", &sig[..sig.len() - 4], &sig[..sig.len() - 1]] {
            assert_eq!(
                verify_vector(&verifier, truncated, ts),
                Err(VerifyError::NoSignatureMatched),
                "{truncated:?}"
            );
        }
    }

    #[test]
    fn an_unknown_version_alone_is_ignored_and_fails() {
        let (sig, ts) = (VECTORS[0].signature, VECTORS[0].timestamp);
        let v2 = sig.replacen("v1,", "v2,", 1);
        assert_eq!(
            verify_vector(&vector_verifier(), &v2, ts),
            Err(VerifyError::NoSignatureMatched)
        );
    }

    #[test]
    fn a_wrong_secret_fails() {
        let (sig, ts) = (VECTORS[0].signature, VECTORS[0].timestamp);
        let verifier = Verifier::new(Secret::parse(VECTORS[1].secret).unwrap());
        assert_eq!(
            verify_vector(&verifier, sig, ts),
            Err(VerifyError::NoSignatureMatched)
        );
    }

    #[test]
    fn a_tampered_payload_fails() {
        let v = &VECTORS[0];
        let timestamp = v.timestamp.to_string();
        let headers = Headers {
            id: v.msg_id,
            timestamp: &timestamp,
            signature: v.signature,
        };
        assert_eq!(
            vector_verifier().verify(&headers, br#"{"test": 1}"#, v.timestamp),
            Err(VerifyError::NoSignatureMatched)
        );
    }

    #[test]
    fn any_matching_entry_among_several_is_enough() {
        let (sig, ts) = (VECTORS[0].signature, VECTORS[0].timestamp);
        let header = format!("v1a,c29tZXRoaW5n v1,bm90IGl0 {sig}");
        assert_eq!(verify_vector(&vector_verifier(), &header, ts), Ok(()));
    }

    #[test]
    fn any_of_several_secrets_may_match() {
        let (sig, ts) = (VECTORS[0].signature, VECTORS[0].timestamp);
        let verifier = Verifier::with_secrets(vec![
            Secret::parse(VECTORS[1].secret).unwrap(),
            Secret::parse(VECTORS[0].secret).unwrap(),
        ]);
        assert_eq!(verify_vector(&verifier, sig, ts), Ok(()));
    }

    #[test]
    fn a_verifier_without_secrets_accepts_nothing() {
        let (sig, ts) = (VECTORS[0].signature, VECTORS[0].timestamp);
        assert_eq!(
            verify_vector(&Verifier::with_secrets(vec![]), sig, ts),
            Err(VerifyError::NoSignatureMatched)
        );
    }

    #[test]
    fn what_sign_produces_verify_accepts() {
        let secret = Secret::from_bytes(b"a key of some length".to_vec());
        let signature = sign(&secret, "msg_x", 1_700_000_000, b"hello");
        let headers = Headers {
            id: "msg_x",
            timestamp: "1700000000",
            signature: &signature,
        };
        let verifier = Verifier::new(secret);
        assert_eq!(verifier.verify(&headers, b"hello", 1_700_000_000), Ok(()));
        let other_id = Headers {
            id: "msg_y",
            ..headers
        };
        assert_eq!(
            verifier.verify(&other_id, b"hello", 1_700_000_000),
            Err(VerifyError::NoSignatureMatched)
        );
    }
}
