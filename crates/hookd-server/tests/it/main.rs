//! hookd-server's integration tests: the real server in-process on 127.0.0.1:0, delivering to
//! real HTTP receivers on loopback.

mod browser;
mod challenge;
mod delivery;
mod errors;
mod event_types;
mod expunge;
mod harness;
mod headers;
mod idempotency;
mod lists;
mod modules;
mod nodes;
mod portal;
mod receiver;
mod redelivery;
mod resources;
mod retention;
mod retries;
mod rotation;
mod scratch;
mod ssrf;
mod ui;
mod unreachable;
