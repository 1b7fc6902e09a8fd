//! Scenarios: the closed set of benchmarks, their options, and the one `match` that runs them.

mod backlog;
mod rig;
mod slow;
mod steady;

use std::path::PathBuf;
use std::time::Duration;

use crate::{BenchError, Report, procfs};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// As fast as possible: 100,000 events of 1 KiB to one endpoint.
    Throughput,
    /// A fixed 1,000 events/s for 60 s to one endpoint; end-to-end latency.
    Latency,
    /// Each event to 100 endpoints.
    Fanout,
    /// 10 endpoints, one answering after 10 s and one refusing connections; the healthy
    /// endpoints' latency against a run without the bad two.
    SlowEndpoint,
    /// 1,000,000 deliveries queued for an endpoint that was down; hookd restarts and drains.
    Backlog,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Throughput => "throughput",
            Scenario::Latency => "latency",
            Scenario::Fanout => "fanout",
            Scenario::SlowEndpoint => "slow-endpoint",
            Scenario::Backlog => "backlog",
        }
    }
}

/// Which hookd to measure.
#[derive(Clone, Debug)]
pub enum Target {
    /// Start `bin` as `hookd serve` with a fresh data dir under `work_dir`; with `database`,
    /// pass `--database` (PostgreSQL) instead of using SQLite in the data dir.
    Start {
        bin: PathBuf,
        database: Option<String>,
        work_dir: PathBuf,
    },
    /// A hookd already running at `url` (`http://host:port/api/v1`); `pid`, if given, is read
    /// from /proc for CPU and memory.
    External {
        url: String,
        token: String,
        pid: Option<u32>,
    },
}

/// A scenario's knobs; `None` takes the scenario's own default.
#[derive(Clone, Debug)]
pub struct Options {
    pub target: Target,
    pub events: Option<usize>,
    pub rate: Option<f64>,
    pub duration: Option<Duration>,
    pub endpoints: Option<usize>,
    /// Requests the client keeps in flight in the as-fast-as-possible scenarios.
    pub concurrency: usize,
    pub payload_bytes: usize,
    /// Measure the loopback ceiling first (throughput and fanout).
    pub ceiling: bool,
    /// Give up waiting for deliveries after this long without one.
    pub stall: Duration,
}

impl Options {
    pub fn new(target: Target) -> Options {
        Options {
            target,
            events: None,
            rate: None,
            duration: None,
            endpoints: None,
            concurrency: 64,
            payload_bytes: 1024,
            ceiling: true,
            stall: Duration::from_secs(30),
        }
    }
}

/// Runs one scenario and reports its figures.
pub async fn run(scenario: Scenario, options: &Options) -> Result<Report, BenchError> {
    let load_before = procfs::load_average();
    let mut report = match scenario {
        Scenario::Throughput => steady::throughput(options).await?,
        Scenario::Latency => steady::latency(options).await?,
        Scenario::Fanout => steady::fanout(options).await?,
        Scenario::SlowEndpoint => slow::run(options).await?,
        Scenario::Backlog => backlog::run(options).await?,
    };
    report.scenario = scenario.name();
    report.load_before = load_before;
    report.load_after = procfs::load_average();
    Ok(report)
}
