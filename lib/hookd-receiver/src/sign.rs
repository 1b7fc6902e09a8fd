//! `sign`: the `v1` signature put on every request, shared by hookd and receivers so they cannot drift.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::Secret;

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// Signs one request: `v1,<base64 HMAC-SHA256(secret, "{msg_id}.{timestamp}.{payload}")>`.
///
/// During a key rotation, sign with each live secret and join the results with spaces.
pub fn sign(secret: &Secret, msg_id: &str, timestamp: i64, payload: &[u8]) -> String {
    let tag = v1_mac(secret, msg_id, &timestamp.to_string(), payload).finalize();
    format!("v1,{}", STANDARD.encode(tag.into_bytes()))
}

/// The MAC over the signed content, ready to finalize or to verify a tag against.
///
/// Takes the timestamp as text so a verifier authenticates exactly the header it received.
pub(crate) fn v1_mac(secret: &Secret, msg_id: &str, timestamp: &str, payload: &[u8]) -> HmacSha256 {
    <HmacSha256 as KeyInit>::new_from_slice(secret.key())
        .expect("HMAC accepts keys of any length")
        .chain_update(msg_id)
        .chain_update(b".")
        .chain_update(timestamp)
        .chain_update(b".")
        .chain_update(payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_vectors::VECTORS;

    #[test]
    fn sign_reproduces_the_standard_webhooks_vectors() {
        for v in &VECTORS {
            let secret = Secret::parse(v.secret).unwrap();
            let signature = sign(&secret, v.msg_id, v.timestamp, v.payload.as_bytes());
            assert_eq!(signature, v.signature);
        }
    }

    #[test]
    fn the_key_is_the_decoded_secret_not_its_text() {
        let v = &VECTORS[0];
        let text_as_key = Secret::from_bytes(v.secret.as_bytes().to_vec());
        let signature = sign(&text_as_key, v.msg_id, v.timestamp, v.payload.as_bytes());
        assert_ne!(signature, v.signature);
    }
}
