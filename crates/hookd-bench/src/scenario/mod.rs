//! Scenarios: the closed set of benchmarks, their options, and the one `match` that runs them.

mod backlog;
mod rig;
mod slow;
mod steady;
mod usage;

use std::path::PathBuf;
use std::time::Duration;

use crate::schema::{self, Schema};
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

    /// How many hookds with a store of their own the scenario starts on `target`:
    /// `slow-endpoint` runs its baseline on a twin when the bench starts hookd itself.
    fn stores(self, target: &Target) -> usize {
        match (self, target) {
            (Scenario::SlowEndpoint, Target::Start { .. }) => 2,
            _ => 1,
        }
    }
}

/// Which hookd to measure.
#[derive(Clone, Debug)]
pub enum Target {
    /// Start `bin` as `hookd serve` with a fresh data dir under `work_dir`; with `database`,
    /// pass `--database` (PostgreSQL) instead of using SQLite in the data dir. A PostgreSQL
    /// run gets a fresh schema of its own in that database, dropped at the end, and may start
    /// `nodes` nodes on it (at least 1; more only on PostgreSQL).
    Start {
        bin: PathBuf,
        database: Option<String>,
        work_dir: PathBuf,
        nodes: usize,
    },
    /// A hookd already running at `url` (`http://host:port/api/v1`); `pid`, if given, is read
    /// from /proc for CPU and memory.
    External {
        url: String,
        token: String,
        pid: Option<u32>,
    },
}

impl Target {
    /// How many hookd nodes the client's requests are spread over.
    pub fn nodes(&self) -> usize {
        match self {
            Target::Start { nodes, .. } => *nodes,
            Target::External { .. } => 1,
        }
    }

    /// The PostgreSQL database to start nodes on, if any.
    fn postgres(&self) -> Option<&str> {
        match self {
            Target::Start {
                database: Some(database),
                ..
            } if schema::is_postgres(database) => Some(database),
            _ => None,
        }
    }

    fn check(&self) -> Result<(), BenchError> {
        match self.nodes() {
            0 => Err(BenchError::Unsupported("--nodes must be at least 1")),
            1 => Ok(()),
            _ if self.postgres().is_some() => Ok(()),
            _ => Err(BenchError::Unsupported(
                "more than one node needs a PostgreSQL --database (postgres://...)",
            )),
        }
    }

    /// The same target on `database` instead.
    fn on(&self, url: &str) -> Target {
        let mut target = self.clone();
        if let Target::Start { database, .. } = &mut target {
            *database = Some(url.to_owned());
        }
        target
    }
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

/// Runs one scenario and reports its figures. On PostgreSQL, in schemas made for this run:
/// one, or one more for `slow-endpoint`'s twin.
pub async fn run(scenario: Scenario, options: &Options) -> Result<Report, BenchError> {
    options.target.check()?;
    let load_before = procfs::load_average();
    let mut schemas = Vec::new();
    if let Some(database) = options.target.postgres() {
        for _ in 0..scenario.stores(&options.target) {
            match Schema::create(database).await {
                Ok(schema) => schemas.push(schema),
                Err(e) => {
                    remove(schemas).await;
                    return Err(e);
                }
            }
        }
    }
    let result = match schemas.as_slice() {
        [] => dispatch(scenario, options, None).await,
        [first, rest @ ..] => {
            for schema in &schemas {
                eprintln!("hookd-bench: PostgreSQL schema {}", schema.name());
            }
            let options = Options {
                target: options.target.on(&first.url),
                ..options.clone()
            };
            let twin = rest.first().map(|twin| twin.url.as_str());
            dispatch(scenario, &options, twin).await
        }
    };
    // Every node was killed when its scenario returned, so the schemas are no one's now.
    remove(schemas).await;
    let mut report = result?;
    report.scenario = scenario.name();
    report.nodes = options.target.nodes();
    report.load_before = load_before;
    report.load_after = procfs::load_average();
    Ok(report)
}

/// `twin_database`: on PostgreSQL, the schema made for `slow-endpoint`'s twin hookd.
async fn dispatch(
    scenario: Scenario,
    options: &Options,
    twin_database: Option<&str>,
) -> Result<Report, BenchError> {
    match scenario {
        Scenario::Throughput => steady::throughput(options).await,
        Scenario::Latency => steady::latency(options).await,
        Scenario::Fanout => steady::fanout(options).await,
        Scenario::SlowEndpoint => slow::run(options, twin_database).await,
        Scenario::Backlog => backlog::run(options).await,
    }
}

async fn remove(schemas: Vec<Schema>) {
    for schema in schemas {
        let name = schema.name().to_owned();
        if let Err(e) = schema.remove().await {
            eprintln!("hookd-bench: schema {name} is left behind: {e}");
        }
    }
}
