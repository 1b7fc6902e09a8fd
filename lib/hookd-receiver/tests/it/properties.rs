//! Properties: whatever is signed verifies, and changing any single byte of what was signed
//! (id, timestamp, body or the signature itself) makes it fail.

use hookd_receiver::{Headers, Secret, Verifier, sign};
use proptest::prelude::*;

const NOW: i64 = 1_700_000_000;

fn verify_with(verifier: &Verifier, id: &str, ts: &str, signature: &str, body: &[u8]) -> bool {
    let headers = Headers {
        id,
        timestamp: ts,
        signature,
    };
    verifier.verify(&headers, body, NOW).is_ok()
}

/// Ids as senders make them: printable, no whitespace (header values), non-empty.
fn id() -> impl Strategy<Value = String> {
    "[!-~]{1,40}"
}

fn flip(bytes: &mut [u8], index: prop::sample::Index, mask: u8) {
    let i = index.index(bytes.len());
    bytes[i] ^= mask;
}

proptest! {
    #[test]
    fn what_sign_makes_verify_accepts(
        key in prop::collection::vec(any::<u8>(), 1..64),
        id in id(),
        body in prop::collection::vec(any::<u8>(), 0..2048),
        skew in -300i64..=300,
    ) {
        let secret = Secret::from_bytes(key);
        let signature = sign(&secret, &id, NOW + skew, &body);
        let ts = (NOW + skew).to_string();
        prop_assert!(verify_with(&Verifier::new(secret), &id, &ts, &signature, &body));
    }

    #[test]
    fn any_single_byte_changed_in_the_body_fails(
        key in prop::collection::vec(any::<u8>(), 1..64),
        id in id(),
        body in prop::collection::vec(any::<u8>(), 1..2048),
        index in any::<prop::sample::Index>(),
        mask in 1u8..,
    ) {
        let secret = Secret::from_bytes(key);
        let signature = sign(&secret, &id, NOW, &body);
        let mut changed = body.clone();
        flip(&mut changed, index, mask);
        prop_assert!(!verify_with(&Verifier::new(secret), &id, &NOW.to_string(), &signature, &changed));
    }

    #[test]
    fn any_single_byte_changed_in_the_id_fails(
        id in id(),
        body in prop::collection::vec(any::<u8>(), 0..256),
        index in any::<prop::sample::Index>(),
        replacement in "[!-~]",
    ) {
        let secret = Secret::from_bytes(vec![7; 32]);
        let signature = sign(&secret, &id, NOW, &body);
        let mut changed = id.clone().into_bytes();
        let i = index.index(changed.len());
        prop_assume!(changed[i] != replacement.as_bytes()[0]);
        changed[i] = replacement.as_bytes()[0];
        let changed = String::from_utf8(changed).unwrap();
        prop_assert!(!verify_with(&Verifier::new(secret), &changed, &NOW.to_string(), &signature, &body));
    }

    #[test]
    fn any_single_digit_changed_in_the_timestamp_fails(
        body in prop::collection::vec(any::<u8>(), 0..256),
        index in any::<prop::sample::Index>(),
        digit in 0u8..10,
    ) {
        let secret = Secret::from_bytes(vec![7; 32]);
        let signature = sign(&secret, "msg_1", NOW, &body);
        let mut ts = NOW.to_string().into_bytes();
        let i = index.index(ts.len());
        prop_assume!(ts[i] != b'0' + digit);
        ts[i] = b'0' + digit;
        let ts = String::from_utf8(ts).unwrap();
        // Generous tolerance, so only the signature can refuse it.
        let verifier = Verifier::new(secret).tolerance(u64::MAX / 2);
        prop_assert!(!verify_with(&verifier, "msg_1", &ts, &signature, &body));
    }

    #[test]
    fn any_single_byte_changed_in_the_signature_fails(
        body in prop::collection::vec(any::<u8>(), 0..256),
        index in any::<prop::sample::Index>(),
        mask in 1u8..,
    ) {
        let secret = Secret::from_bytes(vec![7; 32]);
        let mut signature = sign(&secret, "msg_1", NOW, &body).into_bytes();
        flip(&mut signature, index, mask);
        // A flipped byte may not be UTF-8 any more; such a header never reaches verify.
        prop_assume!(std::str::from_utf8(&signature).is_ok());
        let signature = String::from_utf8(signature).unwrap();
        prop_assert!(!verify_with(&Verifier::new(secret), "msg_1", &NOW.to_string(), &signature, &body));
    }
}

#[cfg(feature = "ed25519")]
mod v1a {
    use hookd_receiver::{SigningKey, Verifier, sign_v1a};
    use proptest::prelude::*;

    use super::{NOW, flip, id, verify_with};

    proptest! {
        #[test]
        fn what_sign_v1a_makes_verify_accepts_and_a_changed_byte_fails(
            seed in any::<[u8; 32]>(),
            id in id(),
            body in prop::collection::vec(any::<u8>(), 1..1024),
            index in any::<prop::sample::Index>(),
            mask in 1u8..,
        ) {
            let key = SigningKey::from_seed(seed);
            let signature = sign_v1a(&key, &id, NOW, &body);
            let verifier = Verifier::with_public_keys(vec![key.public_key()]);
            let ts = NOW.to_string();
            prop_assert!(verify_with(&verifier, &id, &ts, &signature, &body));
            let mut changed = body.clone();
            flip(&mut changed, index, mask);
            prop_assert!(!verify_with(&verifier, &id, &ts, &signature, &changed));
        }
    }
}
