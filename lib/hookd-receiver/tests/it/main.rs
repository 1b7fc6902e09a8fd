//! hookd-receiver's integration tests: properties of sign and verify, the axum extractor, and
//! interop with the Python and npm Standard Webhooks libraries.

#[cfg(feature = "axum")]
mod extractor;
mod interop;
mod properties;
