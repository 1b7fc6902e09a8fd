//! `Verifier`: checks that a request was signed with one of an endpoint's keys, recently.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::Mac;

#[cfg(feature = "ed25519")]
use crate::asymmetric::{PublicKey, signed_content};
use crate::sign::v1_mac;
use crate::{Headers, Secret};

/// How far a request's timestamp may be from the receiver's clock, either way, by default.
pub const DEFAULT_TOLERANCE_SECONDS: u64 = 300;

/// The signature versions this build checks; others are skipped.
const CHECKED_VERSIONS: &str = if cfg!(feature = "ed25519") {
    "v1 or v1a"
} else {
    "v1 (v1a needs the `ed25519` feature)"
};

/// An HMAC-SHA256 tag and an ed25519 signature are always this long; anything else is truncated
/// or padded, and is reported as malformed rather than as a mismatch.
const V1_TAG_LEN: usize = 32;
#[cfg(feature = "ed25519")]
const V1A_SIGNATURE_LEN: usize = 64;

/// The keys an endpoint accepts and how much clock skew it tolerates.
///
/// Holding several keys lets a receiver accept both while one is being rotated. `whsec_`
/// secrets check `v1` signatures; `whpk_` public keys (feature `ed25519`) check `v1a` ones.
#[derive(Debug, Clone)]
pub struct Verifier {
    secrets: Vec<Secret>,
    #[cfg(feature = "ed25519")]
    public_keys: Vec<PublicKey>,
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
    #[error("webhook-signature holds no {} signature", CHECKED_VERSIONS)]
    NoKnownSignature,
    #[error(
        "every {} signature in webhook-signature is malformed: not base64, or the wrong length (truncated?)",
        CHECKED_VERSIONS
    )]
    MalformedSignature,
    #[error("no signature in webhook-signature matched any of the verifier's keys")]
    NoSignatureMatched,
    #[error("webhook-id does not start with `chal_`: this is not an ownership challenge")]
    NotAChallenge,
}

/// What checking one `version,signature` entry of the header found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum EntryCheck {
    /// A version this build does not check: skipped, as the spec asks.
    Unknown,
    /// A known version whose signature cannot be one: bad base64 or the wrong length.
    Malformed,
    /// A well-formed signature that none of the keys made.
    Mismatched,
    Matched,
}

impl Verifier {
    pub fn new(secret: Secret) -> Verifier {
        Verifier::with_secrets(vec![secret])
    }

    /// A verifier with no keys accepts nothing.
    pub fn with_secrets(secrets: Vec<Secret>) -> Verifier {
        Verifier {
            secrets,
            #[cfg(feature = "ed25519")]
            public_keys: Vec::new(),
            tolerance_seconds: DEFAULT_TOLERANCE_SECONDS,
        }
    }

    /// A verifier that checks `v1a` signatures against these public keys.
    #[cfg(feature = "ed25519")]
    pub fn with_public_keys(public_keys: Vec<PublicKey>) -> Verifier {
        Verifier {
            public_keys,
            ..Verifier::with_secrets(Vec::new())
        }
    }

    /// Also accepts `v1` signatures made with `secret`.
    pub fn add_secret(mut self, secret: Secret) -> Verifier {
        self.secrets.push(secret);
        self
    }

    /// Also accepts `v1a` signatures made with the signing key of `public_key`.
    #[cfg(feature = "ed25519")]
    pub fn add_public_key(mut self, public_key: PublicKey) -> Verifier {
        self.public_keys.push(public_key);
        self
    }

    /// How far, in seconds, a timestamp may be from `now` either way (default 300).
    pub fn tolerance(self, seconds: u64) -> Verifier {
        Verifier {
            tolerance_seconds: seconds,
            ..self
        }
    }

    pub fn tolerance_seconds(&self) -> u64 {
        self.tolerance_seconds
    }

    /// Accepts the request if its timestamp is within tolerance of `now_unix` and any
    /// signature in the header matches any key. `payload` is the raw body, before any parsing.
    ///
    /// When nothing matches, the error names the most telling failure among the entries:
    /// a mismatch over a malformed signature over a version this build does not check.
    pub fn verify(
        &self,
        headers: &Headers<'_>,
        payload: &[u8],
        now_unix: i64,
    ) -> Result<(), VerifyError> {
        self.check_timestamp(headers.timestamp, now_unix)?;
        let best = headers
            .signature
            .split_whitespace()
            .map(|entry| self.check_entry(entry, headers, payload))
            .max()
            .unwrap_or(EntryCheck::Unknown);
        match best {
            EntryCheck::Matched => Ok(()),
            EntryCheck::Mismatched => Err(VerifyError::NoSignatureMatched),
            EntryCheck::Malformed => Err(VerifyError::MalformedSignature),
            EntryCheck::Unknown => Err(VerifyError::NoKnownSignature),
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

    fn check_entry(&self, entry: &str, headers: &Headers<'_>, payload: &[u8]) -> EntryCheck {
        let (version, encoded) = entry.split_once(',').unwrap_or((entry, ""));
        match version {
            "v1" => {
                let Some(tag) = decode_exact(encoded, V1_TAG_LEN) else {
                    return EntryCheck::Malformed;
                };
                // verify_slice compares in constant time.
                let matched = self.secrets.iter().any(|secret| {
                    v1_mac(secret, headers.id, headers.timestamp, payload)
                        .verify_slice(&tag)
                        .is_ok()
                });
                if matched {
                    EntryCheck::Matched
                } else {
                    EntryCheck::Mismatched
                }
            }
            #[cfg(feature = "ed25519")]
            "v1a" => {
                let Some(signature) = decode_exact(encoded, V1A_SIGNATURE_LEN) else {
                    return EntryCheck::Malformed;
                };
                if self.public_keys.is_empty() {
                    return EntryCheck::Mismatched;
                }
                let content = signed_content(headers.id, headers.timestamp, payload);
                if self
                    .public_keys
                    .iter()
                    .any(|key| key.verifies(&content, &signature))
                {
                    EntryCheck::Matched
                } else {
                    EntryCheck::Mismatched
                }
            }
            _ => EntryCheck::Unknown,
        }
    }
}

/// Standard padded base64 of exactly `len` bytes, or `None`.
fn decode_exact(encoded: &str, len: usize) -> Option<Vec<u8>> {
    STANDARD
        .decode(encoded)
        .ok()
        .filter(|bytes| bytes.len() == len)
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
    fn a_truncated_signature_is_malformed() {
        let (sig, ts) = (VECTORS[0].signature, VECTORS[0].timestamp);
        let verifier = vector_verifier();
        let padded = format!("{sig}AAAA");
        for truncated in [
            "v1,",
            "v1",
            &sig[..sig.len() - 4],
            &sig[..sig.len() - 1],
            &padded,
        ] {
            assert_eq!(
                verify_vector(&verifier, truncated, ts),
                Err(VerifyError::MalformedSignature),
                "{truncated:?}"
            );
        }
    }

    #[test]
    fn an_unknown_version_alone_is_ignored_and_named() {
        let (sig, ts) = (VECTORS[0].signature, VECTORS[0].timestamp);
        let v2 = sig.replacen("v1,", "v2,", 1);
        assert_eq!(
            verify_vector(&vector_verifier(), &v2, ts),
            Err(VerifyError::NoKnownSignature)
        );
        assert_eq!(
            verify_vector(&vector_verifier(), "", ts),
            Err(VerifyError::NoKnownSignature)
        );
    }

    #[test]
    fn a_mismatch_is_reported_over_a_malformed_entry_beside_it() {
        let (sig, ts) = (VECTORS[0].signature, VECTORS[0].timestamp);
        let other = Verifier::new(Secret::parse(VECTORS[1].secret).unwrap());
        let header = format!("v2,abc v1,trunc {sig}");
        assert_eq!(
            verify_vector(&other, &header, ts),
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

    #[cfg(feature = "ed25519")]
    mod v1a {
        use super::*;
        use crate::{SigningKey, sign_v1a};

        fn headers<'a>(signature: &'a str) -> Headers<'a> {
            Headers {
                id: "msg_1",
                timestamp: "1700000000",
                signature,
            }
        }

        #[test]
        fn a_v1a_signature_verifies_with_the_public_key() {
            let key = SigningKey::from_seed([3; 32]);
            let signature = sign_v1a(&key, "msg_1", 1_700_000_000, b"{}");
            let verifier = Verifier::with_public_keys(vec![key.public_key()]);
            assert_eq!(
                verifier.verify(&headers(&signature), b"{}", 1_700_000_000),
                Ok(())
            );
            assert_eq!(
                verifier.verify(&headers(&signature), b"{ }", 1_700_000_000),
                Err(VerifyError::NoSignatureMatched)
            );
        }

        #[test]
        fn a_v1a_signature_from_another_key_or_truncated_fails_for_that_reason() {
            let key = SigningKey::from_seed([3; 32]);
            let signature = sign_v1a(&key, "msg_1", 1_700_000_000, b"{}");
            let other =
                Verifier::with_public_keys(vec![SigningKey::from_seed([4; 32]).public_key()]);
            assert_eq!(
                other.verify(&headers(&signature), b"{}", 1_700_000_000),
                Err(VerifyError::NoSignatureMatched)
            );
            let truncated = &signature[..signature.len() - 4];
            let verifier = Verifier::with_public_keys(vec![key.public_key()]);
            assert_eq!(
                verifier.verify(&headers(truncated), b"{}", 1_700_000_000),
                Err(VerifyError::MalformedSignature)
            );
        }

        #[test]
        fn v1_and_v1a_side_by_side_each_verify_with_their_own_key() {
            let key = SigningKey::from_seed([3; 32]);
            let secret = Secret::from_bytes(vec![5; 32]);
            let both = format!(
                "{} {}",
                sign(&secret, "msg_1", 1_700_000_000, b"{}"),
                sign_v1a(&key, "msg_1", 1_700_000_000, b"{}")
            );
            for verifier in [
                Verifier::new(secret.clone()),
                Verifier::with_public_keys(vec![key.public_key()]),
                Verifier::with_secrets(vec![]).add_public_key(key.public_key()),
            ] {
                assert_eq!(
                    verifier.verify(&headers(&both), b"{}", 1_700_000_000),
                    Ok(())
                );
            }
        }

        #[test]
        fn a_secret_alone_does_not_check_a_v1a_signature() {
            let key = SigningKey::from_seed([3; 32]);
            let signature = sign_v1a(&key, "msg_1", 1_700_000_000, b"{}");
            let verifier = Verifier::new(Secret::from_bytes(vec![5; 32]));
            assert_eq!(
                verifier.verify(&headers(&signature), b"{}", 1_700_000_000),
                Err(VerifyError::NoSignatureMatched)
            );
        }
    }
}
