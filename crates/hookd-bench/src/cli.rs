//! The command line: flags as clap sees them, turned once into typed `Options`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use hookd_bench::{Options, Scenario, Target};

/// Benchmark hookd: run one scenario, print one table row and one JSON line.
#[derive(Debug, Parser)]
#[command(name = "hookd-bench", version)]
pub struct Cli {
    /// The scenario to run.
    #[arg(value_enum)]
    pub scenario: Scenario,
    /// The hookd binary to start [default: `hookd` next to this program].
    #[arg(long, value_name = "PATH")]
    pub hookd: Option<PathBuf>,
    /// Run hookd on PostgreSQL: `hookd serve --database`, in a fresh schema made for the run
    /// and dropped after it. Default: SQLite.
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Start this many hookd nodes on the one PostgreSQL `--database` (more than 1 needs it),
    /// and spread the client's requests over them, round-robin.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub nodes: usize,
    /// Where fresh data dirs are made; must be a real disk, not tmpfs.
    #[arg(long, value_name = "DIR", default_value_os_t = std::env::temp_dir())]
    pub work_dir: PathBuf,
    /// Measure a hookd already running at this API base (`http://host:port/api/v1`).
    #[arg(long, value_name = "URL", requires = "token", conflicts_with_all = ["hookd", "database", "nodes"])]
    pub url: Option<String>,
    /// The admin token for `--url`.
    #[arg(long, env = "HOOKD_BENCH_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The process id of the hookd at `--url`, to read its CPU time and memory.
    #[arg(long, requires = "url")]
    pub pid: Option<u32>,
    /// Events to send [default: per scenario].
    #[arg(long)]
    pub events: Option<usize>,
    /// Events per second (latency, slow-endpoint).
    #[arg(long)]
    pub rate: Option<f64>,
    /// How long to send at `--rate`, e.g. `60s` (latency, slow-endpoint).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub duration: Option<Duration>,
    /// Counted endpoints per event [default: per scenario].
    #[arg(long)]
    pub endpoints: Option<usize>,
    /// Requests in flight from the client in the as-fast-as-possible scenarios.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Size of each event's payload.
    #[arg(long, default_value_t = 1024)]
    pub payload_bytes: usize,
    /// Skip the loopback ceiling.
    #[arg(long)]
    pub no_ceiling: bool,
    /// Stop waiting for deliveries after this long without one.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub stall: Duration,
}

impl Cli {
    pub fn options(self) -> Options {
        let target = match self.url {
            Some(url) => Target::External {
                url,
                token: self.token.unwrap_or_default(),
                pid: self.pid,
            },
            None => Target::Start {
                bin: self.hookd.unwrap_or_else(sibling_hookd),
                database: self.database,
                work_dir: self.work_dir,
                nodes: self.nodes,
            },
        };
        Options {
            events: self.events,
            rate: self.rate,
            duration: self.duration,
            endpoints: self.endpoints,
            concurrency: self.concurrency,
            payload_bytes: self.payload_bytes,
            ceiling: !self.no_ceiling,
            stall: self.stall,
            ..Options::new(target)
        }
    }
}

/// `target/release/hookd` when this is `target/release/hookd-bench`.
fn sibling_hookd() -> PathBuf {
    let me = std::env::current_exe().unwrap_or_default();
    me.with_file_name(format!("hookd{}", std::env::consts::EXE_SUFFIX))
}
