//! hookd's server: the Svix-compatible HTTP API, the commit loop (new messages and delivery
//! outcomes, group-committed together), and the delivery worker. `Server::build` binds and exposes its address, so tests start the real
//! server on `127.0.0.1:0`.

#![forbid(unsafe_code)]

pub mod api;
pub mod challenge;
pub mod clock;
mod commit;
pub mod config;
pub mod error_chain;
pub mod ids;
pub mod outbound;
mod recent;
pub mod secret_key;
mod server;
pub mod signing;
mod state;
pub mod sweep;
pub mod token;
mod ui;
pub mod worker;

pub use config::{Config, EndpointVerification, SignatureHeaders};
pub use server::{Server, ServerError, first_admin_token};
pub use state::AppState;
