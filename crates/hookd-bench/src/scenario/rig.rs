//! Rig: what every scenario sets up and measures the same way: the hookd under test, its
//! applications and endpoints, the load, the wait for deliveries, and the loopback ceiling.

use std::sync::Arc;
use std::time::Duration;

use hookd_receiver::Secret;
use tempfile::TempDir;

use super::{Options, Target};
use crate::client::{Client, Sent, Sink};
use crate::hookd::{Hookd, Launcher};
use crate::payload::Clock;
use crate::receiver::Receiver;
use crate::report::{Percentiles, Report};
use crate::tally::{Counts, Tally};
use crate::{BenchError, procfs};

/// The hookd under test, and how to start it again on the same data.
pub struct Rig {
    pub hookd: Hookd,
    pub launcher: Option<Launcher>,
    store: String,
    _data: Option<TempDir>,
}

impl Rig {
    /// Starts hookd on a fresh data dir (with `env` added), or connects to the given one.
    pub async fn start(options: &Options, env: &[(&str, &str)]) -> Result<Rig, BenchError> {
        match &options.target {
            Target::External { url, token, pid } => Ok(Rig {
                hookd: Hookd::external(url, token, *pid),
                launcher: None,
                store: "external".into(),
                _data: None,
            }),
            Target::Start {
                bin,
                database,
                work_dir,
            } => {
                std::fs::create_dir_all(work_dir)?;
                let data = tempfile::Builder::new()
                    .prefix("hookd-bench-")
                    .tempdir_in(work_dir)?;
                let launcher = Launcher {
                    bin: bin.clone(),
                    data_dir: data.path().to_owned(),
                    database: database.clone(),
                };
                let hookd = launcher.start(env, None).await?;
                let store = if database.is_some() {
                    "postgres"
                } else {
                    "sqlite"
                };
                Ok(Rig {
                    hookd,
                    launcher: Some(launcher),
                    store: store.into(),
                    _data: Some(data),
                })
            }
        }
    }

    /// A report with the store named and hookd's resident memory at rest, read after the
    /// set-up calls have settled.
    pub async fn report(&self) -> Report {
        tokio::time::sleep(Duration::from_secs(1)).await;
        Report {
            store: self.store.clone(),
            hookd_idle_rss_mib: self.hookd.pid.and_then(procfs::rss_mib),
            ..Report::default()
        }
    }

    /// Creates an application whose endpoints 0..`count` are the receiver's counted hooks.
    pub async fn app_with_hooks(
        &self,
        name: &str,
        receiver: &Receiver,
        count: usize,
    ) -> Result<String, BenchError> {
        let app = self.hookd.create_app(name).await?;
        for n in 0..count {
            let (_, secret) = self
                .hookd
                .create_endpoint(&app, &receiver.hook_url(n))
                .await?;
            receiver.set_secret(n, secret);
        }
        Ok(app)
    }

    pub fn client(&self, app: &str, clock: Clock, options: &Options) -> Arc<Client> {
        let sink = Sink::Hookd {
            msg_url: self.hookd.msg_url(app),
            token: self.hookd.token.clone(),
        };
        Client::new(sink, clock, options.payload_bytes)
    }
}

/// CPU time used from `start` to `finish`, by hookd and by the benchmark itself.
pub struct Usage {
    hookd: Option<u32>,
    hookd_cpu: Option<f64>,
    hookd_switches: Option<u64>,
    bench_cpu: Option<f64>,
}

impl Usage {
    pub fn start(hookd: Option<u32>) -> Usage {
        Usage {
            hookd,
            hookd_cpu: hookd.and_then(procfs::cpu_seconds),
            hookd_switches: hookd.and_then(procfs::context_switches),
            bench_cpu: procfs::cpu_seconds(std::process::id()),
        }
    }

    /// For a hookd just spawned: all the CPU time it ever used counts, start-up included.
    pub fn since_spawn(hookd: Option<u32>) -> Usage {
        Usage {
            hookd_cpu: hookd.map(|_| 0.0),
            hookd_switches: hookd.map(|_| 0),
            ..Usage::start(hookd)
        }
    }

    pub fn finish(&self, report: &mut Report) {
        let since = |before: Option<f64>, pid: Option<u32>| {
            Some(pid.and_then(procfs::cpu_seconds)? - before?)
        };
        report.hookd_cpu_s = since(self.hookd_cpu, self.hookd);
        report.bench_cpu_s = since(self.bench_cpu, Some(std::process::id()));
        report.bench_peak_rss_mib = procfs::peak_rss_mib(std::process::id());
        report.hookd_peak_rss_mib = self.hookd.and_then(procfs::peak_rss_mib);
        let switches = self.hookd.and_then(procfs::context_switches);
        report.hookd_switches = switches.zip(self.hookd_switches).map(|(a, b)| a - b);
        report.switches_per_delivery = report
            .hookd_switches
            .map(|n| n as f64 / report.delivered.max(1) as f64);
    }
}

/// How the client sends.
#[derive(Clone, Copy, Debug)]
pub enum Load {
    /// As fast as this many requests in flight allow.
    Flat { concurrency: usize },
    /// A fixed number of events per second.
    Rate { per_second: f64 },
}

/// What the client did.
pub struct Drive {
    pub sent: Arc<Sent>,
    pub send_time: Duration,
    pub start_us: u64,
}

pub async fn drive(client: &Arc<Client>, clock: Clock, load: Load, events: usize) -> Drive {
    let sent = Arc::new(Sent::new(events));
    let start_us = clock.now_us();
    let send_time = match load {
        Load::Flat { concurrency } => client.send_all(events, concurrency, &sent).await,
        Load::Rate { per_second } => client.send_at_rate(events, per_second, &sent).await,
    };
    Drive {
        sent,
        send_time,
        start_us,
    }
}

/// Waits for the deliveries the accepted events owe, then writes the counts, rates and
/// latencies into `report`.
pub async fn settle(report: &mut Report, tally: &Tally, drive: &Drive, stall: Duration) -> Counts {
    let accepted = drive.sent.accepted();
    let expected = accepted * tally.endpoints() as u64;
    tally.wait_for(expected, stall).await;
    let counts = tally.counts();
    report.events = accepted;
    report.endpoints = tally.endpoints();
    report.expected = expected;
    report.delivered = counts.unique;
    report.duplicates = counts.duplicates;
    report.unexpected = counts.unexpected;
    report.bad_signatures = counts.bad_signatures;
    report.missing = tally.missing(&drive.sent.accepted);
    report.send_errors = drive.sent.errors();
    report.first_error = drive.sent.first_error();
    report.ingest_per_s = accepted as f64 / drive.send_time.as_secs_f64();
    report.delivered_per_s = counts.last_us.map_or(0.0, |last| {
        counts.unique as f64 / ((last.saturating_sub(drive.start_us)).max(1) as f64 / 1e6)
    });
    report.latency_ms = Percentiles::of(&counts.latency);
    counts
}

/// The loopback ceiling: the same client, payloads and concurrency, straight to a receiver,
/// signed the way hookd signs. Deliveries per second.
pub async fn ceiling(
    clock: Clock,
    deliveries: usize,
    options: &Options,
) -> Result<f64, BenchError> {
    let tally = Arc::new(Tally::new(clock, deliveries, 1));
    let receiver = Receiver::start(tally.clone(), Duration::ZERO).await?;
    let secret = Secret::from_bytes(b"hookd-bench loopback ceiling key".to_vec());
    receiver.set_secret(0, secret.clone());
    let sink = Sink::Direct {
        url: receiver.hook_url(0),
        secret,
    };
    let client = Client::new(sink, clock, options.payload_bytes);
    let load = Load::Flat {
        concurrency: options.concurrency,
    };
    let drive = drive(&client, clock, load, deliveries).await;
    let mut report = Report::default();
    settle(&mut report, &tally, &drive, options.stall).await;
    receiver.stop().await;
    eprintln!(
        "hookd-bench: loopback ceiling {:.0} deliveries/s ({} bad signatures)",
        report.delivered_per_s, report.bad_signatures
    );
    Ok(report.delivered_per_s)
}
