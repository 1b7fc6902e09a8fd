//! The endpoint ownership challenge: how a receiver proves to hookd that it wants the webhooks.
//!
//! Before it delivers to a new URL, hookd sends `GET <url>?challenge=<token>` carrying Standard
//! Webhooks headers whose signed payload is the token bytes and whose `webhook-id` starts with
//! `chal_`. The receiver checks the signature and answers 2xx with the token as the body.

use crate::{Headers, Verifier, VerifyError};

/// The query parameter that carries the challenge token.
pub const CHALLENGE_PARAM: &str = "challenge";

/// How a challenge's `webhook-id` begins, so a challenge is never mistaken for a message.
pub const CHALLENGE_ID_PREFIX: &str = "chal_";

/// The challenge token in a raw query string (with or without the leading `?`), percent-decoded.
///
/// `None` if the parameter is absent, empty, or not UTF-8. `+` is kept as is: tokens are
/// URL-safe base64, which never contains `+` or spaces.
pub fn challenge_from_query(query: &str) -> Option<String> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let value = query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (name == CHALLENGE_PARAM).then_some(value)
    })?;
    let token = String::from_utf8(percent_decode(value)).ok()?;
    (!token.is_empty()).then_some(token)
}

/// The response body that answers a challenge: the token itself.
///
/// Send it with status 200, `Content-Type: text/plain` and `X-Content-Type-Options: nosniff`.
pub fn answer_challenge(token: &str) -> String {
    token.to_owned()
}

/// Checks that a challenge came from hookd: a `chal_` id, a fresh timestamp, and a signature over
/// the token made with one of the verifier's secrets.
pub fn verify_challenge(
    verifier: &Verifier,
    headers: &Headers<'_>,
    token: &str,
    now_unix: i64,
) -> Result<(), VerifyError> {
    if !headers.id.starts_with(CHALLENGE_ID_PREFIX) {
        return Err(VerifyError::NotAChallenge);
    }
    verifier.verify(headers, token.as_bytes(), now_unix)
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits is kept literally.
fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match bytes.get(i + 1..i + 3) {
            Some(&[hi, lo]) if bytes[i] == b'%' => hex_value(hi).zip(hex_value(lo)),
            _ => None,
        };
        match escaped {
            Some((hi, lo)) => {
                out.push(hi << 4 | lo);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    out
}

fn hex_value(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Secret, sign};

    #[test]
    fn the_token_is_found_among_other_params() {
        assert_eq!(
            challenge_from_query("a=1&challenge=abc_-XYZ09&b=2").as_deref(),
            Some("abc_-XYZ09")
        );
        assert_eq!(
            challenge_from_query("?challenge=abc").as_deref(),
            Some("abc")
        );
    }

    #[test]
    fn the_token_is_percent_decoded() {
        assert_eq!(
            challenge_from_query("x=%41&challenge=ab%3D%3d%2Bc").as_deref(),
            Some("ab==+c")
        );
    }

    #[test]
    fn a_malformed_escape_is_kept_literally() {
        assert_eq!(
            challenge_from_query("challenge=a%zz%4").as_deref(),
            Some("a%zz%4")
        );
    }

    #[test]
    fn no_token_means_no_challenge() {
        assert_eq!(challenge_from_query(""), None);
        assert_eq!(challenge_from_query("challenge="), None);
        assert_eq!(challenge_from_query("challenge"), None);
        assert_eq!(
            challenge_from_query("hub.challenge=abc&xchallenge=abc"),
            None
        );
        assert_eq!(challenge_from_query("challenge=%FF"), None);
    }

    #[test]
    fn a_signed_challenge_verifies_and_is_answered_with_its_token() {
        let secret = Secret::from_bytes(vec![7; 32]);
        let token = "q1w2-e3_r4";
        let now = 1_700_000_000;
        let signature = sign(&secret, "chal_1", now, token.as_bytes());
        let headers = Headers {
            id: "chal_1",
            timestamp: "1700000000",
            signature: &signature,
        };
        let query = format!("{CHALLENGE_PARAM}={token}");
        let received = challenge_from_query(&query).unwrap();
        let verifier = Verifier::new(secret);
        assert_eq!(
            verify_challenge(&verifier, &headers, &received, now),
            Ok(())
        );
        assert_eq!(answer_challenge(&received), token);
        assert_eq!(
            verify_challenge(&verifier, &headers, "another-token", now),
            Err(VerifyError::NoSignatureMatched)
        );
    }

    #[test]
    fn a_signed_message_is_not_a_challenge() {
        let secret = Secret::from_bytes(vec![7; 32]);
        let signature = sign(&secret, "msg_1", 1_700_000_000, b"tok");
        let headers = Headers {
            id: "msg_1",
            timestamp: "1700000000",
            signature: &signature,
        };
        assert_eq!(
            verify_challenge(&Verifier::new(secret), &headers, "tok", 1_700_000_000),
            Err(VerifyError::NotAChallenge)
        );
    }
}
