//! The headers every web UI answer carries: a Content-Security-Policy that allows only this
//! origin's scripts, styles and API (no inline code, no eval), who may frame the page, and
//! revalidation so that a new hookd's files are picked up at once.

use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};

use super::assets::Asset;

/// Who may show a page in a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// The portal and its files: the configured `portal_frame_ancestors`.
    Portal,
    /// The console: an admin token's page is never framed (no clickjacking).
    Never,
}

/// The policy for a page; `ancestors` is the validated `portal_frame_ancestors`.
pub fn policy(framing: Framing, ancestors: &str) -> String {
    let ancestors = match framing {
        Framing::Portal => ancestors,
        Framing::Never => "'none'",
    };
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors {ancestors}"
    )
}

pub fn secure(headers: &mut HeaderMap, policy: &str, asset: &Asset) {
    let value = |v: &str| HeaderValue::from_str(v).expect("a header value we built");
    headers.insert(header::CONTENT_SECURITY_POLICY, value(policy));
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.mime));
    headers.insert(header::ETAG, value(asset.etag()));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The portal's URL holds its token in the fragment, which browsers never send; no
    // referrer keeps even the path from other sites.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_console_is_never_framed_and_nothing_inline_is_allowed() {
        let console = policy(Framing::Never, "https://dash.example.com");
        assert!(console.ends_with("frame-ancestors 'none'"), "{console}");
        let portal = policy(Framing::Portal, "https://dash.example.com");
        assert!(portal.ends_with("frame-ancestors https://dash.example.com"));
        for p in [console, portal] {
            assert!(!p.contains("unsafe"), "{p}");
            assert!(p.contains("script-src 'self'") && p.contains("default-src 'none'"));
        }
    }
}
