//! hookd-bench: the benchmark anyone can rerun. A fast local receiver, a load client, and five
//! scenarios (`throughput`, `latency`, `fanout`, `slow-endpoint`, `backlog`), each measuring a
//! hookd it starts (or one it is given) through the public API only, against the loopback
//! ceiling of the same client and receiver. On PostgreSQL it can start several hookd nodes on
//! one fresh schema and spread the client's requests over them. docs/performance.md has the
//! figures.

// The one `unsafe` of the workspace: `procfs::clock_ticks`.
#![deny(unsafe_code)]

pub mod client;
pub mod hookd;
pub mod payload;
pub mod procfs;
pub mod receiver;
pub mod report;
pub mod scenario;
pub mod schema;
pub mod tally;

pub use report::Report;
pub use scenario::{Options, Scenario, Target, run};

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("cannot start hookd: {0}")]
    Start(String),
    #[error("hookd's API refused {what}: {detail}")]
    Api { what: String, detail: String },
    #[error("HTTP request failed")]
    Http(#[from] reqwest::Error),
    #[error("PostgreSQL: `{what}` failed")]
    Database {
        what: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("I/O failed")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Unsupported(&'static str),
}
