//! Secrets at rest: endpoint signing secrets are stored encrypted with the server's key
//! (XChaCha20-Poly1305), so a copy of the database alone cannot sign as hookd.
//!
//! A sealed value is `sealed1:` and base64 of a random 24-byte nonce followed by the
//! ciphertext and its tag. The endpoint id is the associated data: a sealed secret copied to
//! another endpoint's row does not open. A value without the prefix is plaintext, as rows
//! written before encryption were; the store seals those when it opens.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

use crate::convert::corrupt;
use crate::{Result, StoreError};

const SEALED_PREFIX: &str = "sealed1:";

/// Selects `id, secret` of the endpoints whose secret is still plaintext; SQL both backends run.
pub(crate) const PLAINTEXT_SECRETS: &str =
    "SELECT id, secret FROM endpoints WHERE substr(secret, 1, 8) <> 'sealed1:'";
const NONCE_LEN: usize = 24;

/// The server's 32-byte key for secrets at rest. `Debug` never prints it.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

#[derive(Debug, thiserror::Error)]
#[error("the secret key must be base64 of 32 bytes")]
pub struct BadSecretKey;

impl SecretKey {
    /// A fresh random key.
    pub fn generate() -> SecretKey {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        SecretKey(key)
    }

    /// Reads standard base64 of 32 bytes, surrounding whitespace ignored.
    pub fn from_base64(text: &str) -> Result<SecretKey, BadSecretKey> {
        let bytes = STANDARD.decode(text.trim()).map_err(|_| BadSecretKey)?;
        bytes.try_into().map(SecretKey).map_err(|_| BadSecretKey)
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(**redacted**)")
    }
}

/// Seals and opens the secrets a store keeps.
#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer(**redacted**)")
    }
}

impl Sealer {
    pub fn new(key: &SecretKey) -> Sealer {
        Sealer {
            cipher: XChaCha20Poly1305::new((&key.0).into()),
        }
    }

    /// `secret` encrypted for the row of `owner` (an endpoint id).
    pub(crate) fn seal(&self, owner: &str, secret: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let payload = Payload {
            msg: secret.as_bytes(),
            aad: owner.as_bytes(),
        };
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), payload)
            .expect("encryption of an in-memory buffer does not fail");
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        format!("{SEALED_PREFIX}{}", STANDARD.encode(bytes))
    }

    /// The secret stored for `owner`: opened if sealed, as it is if plaintext.
    pub(crate) fn open(&self, column: &str, owner: &str, stored: &str) -> Result<String> {
        let Some(encoded) = stored.strip_prefix(SEALED_PREFIX) else {
            return Ok(stored.to_owned());
        };
        let bytes = STANDARD.decode(encoded).map_err(|e| corrupt(column, e))?;
        if bytes.len() < NONCE_LEN {
            return Err(corrupt(column, "sealed value too short"));
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let payload = Payload {
            msg: sealed,
            aad: owner.as_bytes(),
        };
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| StoreError::WrongSecretKey)?;
        String::from_utf8(plain).map_err(|e| corrupt(column, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> Sealer {
        Sealer::new(&SecretKey([7; 32]))
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_owner_and_key() {
        let sealed = sealer().seal("ep_1", "whsec_abc");
        assert!(sealed.starts_with(SEALED_PREFIX) && !sealed.contains("whsec_abc"));
        assert_eq!(
            sealer().open("secret", "ep_1", &sealed).unwrap(),
            "whsec_abc"
        );
        assert!(matches!(
            sealer().open("secret", "ep_2", &sealed),
            Err(StoreError::WrongSecretKey)
        ));
        let other = Sealer::new(&SecretKey([8; 32]));
        assert!(other.open("secret", "ep_1", &sealed).is_err());
    }

    #[test]
    fn sealing_twice_gives_different_text() {
        assert_ne!(sealer().seal("ep_1", "s"), sealer().seal("ep_1", "s"));
    }

    #[test]
    fn plaintext_reads_as_it_is() {
        assert_eq!(
            sealer().open("secret", "ep_1", "whsec_x").unwrap(),
            "whsec_x"
        );
    }

    #[test]
    fn a_key_is_base64_of_32_bytes_and_never_printed() {
        let key = SecretKey::generate();
        let again = SecretKey::from_base64(&format!(" {}\n", key.to_base64())).unwrap();
        assert_eq!(again.0, key.0);
        assert!(SecretKey::from_base64("c2hvcnQ=").is_err());
        assert_eq!(format!("{key:?}"), "SecretKey(**redacted**)");
    }
}
