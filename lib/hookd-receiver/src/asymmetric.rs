//! `v1a` signatures: ed25519 key pairs, written `whsk_<base64>` (signing key, the sender's) and
//! `whpk_<base64>` (public key, what receivers hold).
//!
//! A receiver that holds only the public key can check that hookd signed a request but cannot
//! sign one itself, which a shared `whsec_` secret cannot offer.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signer as _;

use crate::secret::LENIENT_BASE64;

/// The prefix of a public key (what receivers hold).
pub const PUBLIC_KEY_PREFIX: &str = "whpk_";

/// The prefix of a signing key (what the sender holds).
pub const SIGNING_KEY_PREFIX: &str = "whsk_";

/// An ed25519 public key that `v1a` signatures are checked against.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: ed25519_dalek::VerifyingKey,
}

/// An ed25519 signing key. `Debug` never prints it.
#[derive(Clone)]
pub struct SigningKey {
    key: ed25519_dalek::SigningKey,
}

/// Why a key's text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("key is empty")]
    Empty,
    #[error("key is not base64 after its `{0}` prefix")]
    InvalidBase64(&'static str),
    #[error("key is {got} bytes long; {expected}")]
    WrongLength { got: usize, expected: &'static str },
    #[error("`whpk_` key is not a valid ed25519 public key")]
    NotAPublicKey,
    #[error("`whsk_` key's public half does not belong to its private half")]
    MismatchedKeyPair,
}

fn decode(text: &str, prefix: &'static str) -> Result<Vec<u8>, KeyError> {
    let encoded = text.strip_prefix(prefix).unwrap_or(text);
    let bytes = LENIENT_BASE64
        .decode(encoded)
        .map_err(|_| KeyError::InvalidBase64(prefix))?;
    if bytes.is_empty() {
        return Err(KeyError::Empty);
    }
    Ok(bytes)
}

impl PublicKey {
    /// Reads `whpk_<base64 of the 32-byte key>`, or the bare base64.
    pub fn parse(text: &str) -> Result<PublicKey, KeyError> {
        let bytes = decode(text, PUBLIC_KEY_PREFIX)?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| KeyError::WrongLength {
                got: b.len(),
                expected: "an ed25519 public key is 32 bytes",
            })?;
        let key =
            ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::NotAPublicKey)?;
        Ok(PublicKey { key })
    }

    /// `whpk_` and padded standard base64.
    pub fn to_whpk(&self) -> String {
        format!(
            "{PUBLIC_KEY_PREFIX}{}",
            STANDARD.encode(self.key.as_bytes())
        )
    }

    /// True if `signature` is this key's signature over `message`.
    pub(crate) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(signature) = ed25519_dalek::Signature::from_slice(signature) else {
            return false;
        };
        // Strict: refuses the malleable and small-order forms plain `verify` lets through.
        self.key.verify_strict(message, &signature).is_ok()
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PublicKey").field(&self.to_whpk()).finish()
    }
}

impl SigningKey {
    /// Reads `whsk_<base64>` of the 32-byte seed or of the 64-byte seed-and-public-key form
    /// libsodium and Svix write.
    pub fn parse(text: &str) -> Result<SigningKey, KeyError> {
        let bytes = decode(text, SIGNING_KEY_PREFIX)?;
        let key = match bytes.len() {
            32 => {
                let seed: [u8; 32] = bytes.try_into().expect("length checked");
                ed25519_dalek::SigningKey::from_bytes(&seed)
            }
            64 => {
                let pair: [u8; 64] = bytes.try_into().expect("length checked");
                ed25519_dalek::SigningKey::from_keypair_bytes(&pair)
                    .map_err(|_| KeyError::MismatchedKeyPair)?
            }
            got => {
                return Err(KeyError::WrongLength {
                    got,
                    expected: "an ed25519 signing key is 32 bytes (seed) or 64 (seed and public key)",
                });
            }
        };
        Ok(SigningKey { key })
    }

    /// The key whose seed is these 32 bytes. Make them with a cryptographic RNG.
    pub fn from_seed(seed: [u8; 32]) -> SigningKey {
        SigningKey {
            key: ed25519_dalek::SigningKey::from_bytes(&seed),
        }
    }

    /// The 64-byte (seed and public key) form, as `whsk_` and padded standard base64.
    pub fn to_whsk(&self) -> String {
        format!(
            "{SIGNING_KEY_PREFIX}{}",
            STANDARD.encode(self.key.to_keypair_bytes())
        )
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            key: self.key.verifying_key(),
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(**redacted**)")
    }
}

/// Signs one request: `v1a,<base64 ed25519 signature over "{msg_id}.{timestamp}.{payload}">`.
pub fn sign_v1a(key: &SigningKey, msg_id: &str, timestamp: i64, payload: &[u8]) -> String {
    let message = signed_content(msg_id, &timestamp.to_string(), payload);
    let signature = key.key.sign(&message);
    format!("v1a,{}", STANDARD.encode(signature.to_bytes()))
}

/// The bytes a `v1a` signature covers; ed25519 needs them in one piece.
pub(crate) fn signed_content(msg_id: &str, timestamp: &str, payload: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(msg_id.len() + timestamp.len() + payload.len() + 2);
    message.extend_from_slice(msg_id.as_bytes());
    message.push(b'.');
    message.extend_from_slice(timestamp.as_bytes());
    message.push(b'.');
    message.extend_from_slice(payload);
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_seed([9; 32])
    }

    #[test]
    fn a_signing_key_round_trips_through_whsk_in_both_lengths() {
        let key = key();
        let long = key.to_whsk();
        assert!(long.starts_with("whsk_"));
        assert_eq!(SigningKey::parse(&long).unwrap().to_whsk(), long);
        let seed_only = format!("whsk_{}", STANDARD.encode([9u8; 32]));
        assert_eq!(SigningKey::parse(&seed_only).unwrap().to_whsk(), long);
    }

    #[test]
    fn a_public_key_round_trips_through_whpk_with_or_without_its_prefix() {
        let public = key().public_key();
        let text = public.to_whpk();
        assert_eq!(PublicKey::parse(&text).unwrap(), public);
        assert_eq!(PublicKey::parse(&text["whpk_".len()..]).unwrap(), public);
    }

    #[test]
    fn keys_of_the_wrong_shape_are_refused_with_the_reason() {
        assert_eq!(PublicKey::parse("whpk_"), Err(KeyError::Empty));
        assert_eq!(
            PublicKey::parse("whpk_not base64"),
            Err(KeyError::InvalidBase64("whpk_"))
        );
        assert!(matches!(
            PublicKey::parse(&format!("whpk_{}", STANDARD.encode([1u8; 31]))),
            Err(KeyError::WrongLength { got: 31, .. })
        ));
        let mut pair = key().key.to_keypair_bytes();
        pair[40] ^= 1;
        assert_eq!(
            SigningKey::parse(&format!("whsk_{}", STANDARD.encode(pair))).map(|_| ()),
            Err(KeyError::MismatchedKeyPair)
        );
    }

    #[test]
    fn a_v1a_signature_is_checked_by_the_public_key_only_over_the_same_content() {
        let key = key();
        let signature = sign_v1a(&key, "msg_1", 1_700_000_000, b"{}");
        let raw = STANDARD
            .decode(signature.strip_prefix("v1a,").unwrap())
            .unwrap();
        let public = key.public_key();
        assert!(public.verifies(&signed_content("msg_1", "1700000000", b"{}"), &raw));
        assert!(!public.verifies(&signed_content("msg_2", "1700000000", b"{}"), &raw));
        assert!(!public.verifies(&signed_content("msg_1", "1700000000", b"{}"), &raw[..63]));
    }

    #[test]
    fn debug_does_not_print_the_signing_key() {
        assert_eq!(format!("{:?}", key()), "SigningKey(**redacted**)");
    }
}
