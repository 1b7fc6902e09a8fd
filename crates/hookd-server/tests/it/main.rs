//! hookd-server's integration tests: the real server in-process on 127.0.0.1:0, delivering to
//! real HTTP receivers on loopback.

mod challenge;
mod delivery;
mod errors;
mod harness;
mod nodes;
mod receiver;
mod resources;
mod retries;
mod scratch;
mod ssrf;
