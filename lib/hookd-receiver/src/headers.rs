//! `Headers`: the three Standard Webhooks headers a signed request carries.

use crate::VerifyError;

/// The id, timestamp and signature header values of one request, borrowed from the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Headers<'a> {
    pub id: &'a str,
    pub timestamp: &'a str,
    pub signature: &'a str,
}

impl<'a> Headers<'a> {
    /// Reads webhook-id/-timestamp/-signature, falling back to svix-id/-timestamp/-signature; `get` looks up a header by lowercase name.
    ///
    /// Each header falls back on its own, as the `svix` and `standardwebhooks` libraries do;
    /// all three are covered by the signature, so mixing the two sets gains a forger nothing.
    pub fn from_lookup(get: impl Fn(&str) -> Option<&'a str>) -> Result<Headers<'a>, VerifyError> {
        let read = |name: &'static str, fallback: &str| {
            get(name)
                .or_else(|| get(fallback))
                .ok_or(VerifyError::MissingHeader(name))
        };
        Ok(Headers {
            id: read("webhook-id", "svix-id")?,
            timestamp: read("webhook-timestamp", "svix-timestamp")?,
            signature: read("webhook-signature", "svix-signature")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }

    #[test]
    fn webhook_headers_are_read() {
        let pairs = [
            ("webhook-id", "msg_1"),
            ("webhook-timestamp", "10"),
            ("webhook-signature", "v1,abc"),
        ];
        let headers = Headers::from_lookup(lookup(&pairs)).unwrap();
        assert_eq!(
            headers,
            Headers {
                id: "msg_1",
                timestamp: "10",
                signature: "v1,abc"
            }
        );
    }

    #[test]
    fn svix_headers_are_the_fallback() {
        let pairs = [
            ("svix-id", "msg_1"),
            ("svix-timestamp", "10"),
            ("svix-signature", "v1,abc"),
        ];
        let headers = Headers::from_lookup(lookup(&pairs)).unwrap();
        assert_eq!(headers.id, "msg_1");
        assert_eq!(headers.signature, "v1,abc");
    }

    #[test]
    fn webhook_headers_win_over_svix_headers() {
        let pairs = [
            ("svix-id", "msg_svix"),
            ("webhook-id", "msg_std"),
            ("webhook-timestamp", "10"),
            ("webhook-signature", "v1,abc"),
        ];
        assert_eq!(Headers::from_lookup(lookup(&pairs)).unwrap().id, "msg_std");
    }

    #[test]
    fn a_missing_header_is_named() {
        let pairs = [("webhook-id", "msg_1"), ("webhook-signature", "v1,abc")];
        assert!(matches!(
            Headers::from_lookup(lookup(&pairs)),
            Err(VerifyError::MissingHeader("webhook-timestamp"))
        ));
        assert!(matches!(
            Headers::from_lookup(lookup(&[])),
            Err(VerifyError::MissingHeader("webhook-id"))
        ));
    }
}
