//! `error_chain`: an error and all its causes on one line, for the log. A leaf, so that the
//! background tasks log as the HTTP layer does without importing it.

/// An error and all its causes on one line, for the log.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}
