//! Signing with an endpoint's secrets: `v1` (HMAC-SHA256) for a `whsec_` secret, `v1a`
//! (ed25519) for a `whsk_` one; several secrets (a rotation's grace period) give several
//! signatures, space-separated. The signatures themselves are `hookd_receiver`'s, the same
//! code receivers verify with.

use hookd_core::SignatureType;
use hookd_receiver::{PUBLIC_KEY_PREFIX, Secret, SigningKey};
use rand::RngCore;

/// A stored secret that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("the endpoint's signing secret is invalid")]
pub struct BadSecret;

/// Signs `payload` with every secret in `secrets`, in order.
pub fn sign_all(
    secrets: &[String],
    msg_id: &str,
    timestamp: i64,
    payload: &[u8],
) -> Result<String, BadSecret> {
    let signatures = secrets
        .iter()
        .map(|secret| sign(secret, msg_id, timestamp, payload))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(signatures.join(" "))
}

fn sign(secret: &str, msg_id: &str, timestamp: i64, payload: &[u8]) -> Result<String, BadSecret> {
    match SignatureType::of(secret) {
        SignatureType::Hmac => {
            let secret = Secret::parse(secret).map_err(|_| BadSecret)?;
            Ok(hookd_receiver::sign(&secret, msg_id, timestamp, payload))
        }
        SignatureType::Ed25519 => {
            let key = SigningKey::parse(secret).map_err(|_| BadSecret)?;
            Ok(hookd_receiver::sign_v1a(&key, msg_id, timestamp, payload))
        }
    }
}

/// A fresh secret of the given type: `whsec_` and 24 random bytes, as Svix makes them, or a
/// `whsk_` ed25519 key.
pub fn new_secret(kind: SignatureType) -> String {
    match kind {
        SignatureType::Hmac => {
            let mut bytes = vec![0u8; 24];
            rand::rng().fill_bytes(&mut bytes);
            Secret::from_bytes(bytes).to_whsec()
        }
        SignatureType::Ed25519 => {
            let mut seed = [0u8; 32];
            rand::rng().fill_bytes(&mut seed);
            SigningKey::from_seed(seed).to_whsk()
        }
    }
}

/// What an endpoint's owner is shown: the secret itself for HMAC, only the public key
/// (`whpk_...`) for ed25519.
pub fn shown_key(secret: &str) -> Result<String, BadSecret> {
    match SignatureType::of(secret) {
        SignatureType::Hmac => Ok(secret.to_owned()),
        SignatureType::Ed25519 => SigningKey::parse(secret)
            .map(|key| key.public_key().to_whpk())
            .map_err(|_| BadSecret),
    }
}

/// Whether `text` is a public key, which can verify but never sign.
pub fn is_public_key(text: &str) -> bool {
    text.starts_with(PUBLIC_KEY_PREFIX)
}

#[cfg(test)]
mod tests {
    use hookd_receiver::{Headers, PublicKey, Verifier};

    use super::*;

    #[test]
    fn every_secret_signs_and_each_signature_verifies_with_its_own_key() {
        let hmac = new_secret(SignatureType::Hmac);
        let ed25519 = new_secret(SignatureType::Ed25519);
        let signatures = sign_all(&[ed25519.clone(), hmac.clone()], "msg_1", 1_700, b"{}").unwrap();
        assert_eq!(signatures.split(' ').count(), 2);
        let lookup = |name: &str| match name {
            "webhook-id" => Some("msg_1"),
            "webhook-timestamp" => Some("1700"),
            "webhook-signature" => Some(signatures.as_str()),
            _ => None,
        };
        let headers = Headers::from_lookup(lookup).unwrap();
        let public = PublicKey::parse(&shown_key(&ed25519).unwrap()).unwrap();
        Verifier::new(Secret::parse(&hmac).unwrap())
            .verify(&headers, b"{}", 1_700)
            .unwrap();
        Verifier::with_public_keys(vec![public])
            .verify(&headers, b"{}", 1_700)
            .unwrap();
    }

    #[test]
    fn an_hmac_secret_is_shown_as_it_is_and_an_ed25519_one_as_its_public_key() {
        let hmac = new_secret(SignatureType::Hmac);
        assert_eq!(shown_key(&hmac).unwrap(), hmac);
        let shown = shown_key(&new_secret(SignatureType::Ed25519)).unwrap();
        assert!(is_public_key(&shown), "{shown}");
        assert!(sign_all(&["whsk_nonsense".to_owned()], "m", 1, b"").is_err());
    }
}
