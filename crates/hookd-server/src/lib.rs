//! hookd's server: the Svix-compatible HTTP API, the ingest path with group commit, and the
//! delivery worker. `Server::build` binds and exposes its address, so tests start the real
//! server on `127.0.0.1:0`.

pub mod api;
pub mod challenge;
pub mod clock;
pub mod config;
mod ingest;
pub mod outbound;
mod recent;
pub mod secret_key;
mod server;
pub mod signing;
mod state;
pub mod sweep;
pub mod token;
pub mod worker;

pub use config::{Config, EndpointVerification, SignatureHeaders};
pub use server::{Server, ServerError, first_admin_token};
pub use state::AppState;
