//! Rig: what every scenario sets up and measures the same way: the hookd under test, its
//! applications and endpoints, the load, the wait for deliveries, and the loopback ceiling.

use std::sync::Arc;
use std::time::{Duration, Instant};

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

/// The hookd nodes under test (one unless `--nodes` asked for more), and how to start them
/// again on the same data.
pub struct Rig {
    /// Never empty. Set-up calls (applications, endpoints) go to the first.
    nodes: Vec<Hookd>,
    /// One per node; empty for a hookd the bench did not start.
    launchers: Vec<Launcher>,
    store: String,
    _data: Option<TempDir>,
}

impl Rig {
    /// Starts hookd's nodes on a fresh data dir each (with `env` added), or connects to the
    /// given hookd. The first node starts alone: it migrates the schema and makes the admin
    /// token, which the others, on the same database, then share.
    pub async fn start(options: &Options, env: &[(&str, &str)]) -> Result<Rig, BenchError> {
        match &options.target {
            Target::External { url, token, pid } => Ok(Rig {
                nodes: vec![Hookd::external(url, token, *pid)],
                launchers: Vec::new(),
                store: "external".into(),
                _data: None,
            }),
            Target::Start {
                bin,
                database,
                work_dir,
                nodes,
            } => {
                std::fs::create_dir_all(work_dir)?;
                let data = tempfile::Builder::new()
                    .prefix("hookd-bench-")
                    .tempdir_in(work_dir)?;
                let launchers = (0..(*nodes).max(1))
                    .map(|n| Launcher {
                        bin: bin.clone(),
                        data_dir: data.path().join(format!("node-{n}")),
                        database: database.clone(),
                    })
                    .collect();
                let store = if database.is_some() {
                    "postgres"
                } else {
                    "sqlite"
                };
                let mut rig = Rig {
                    nodes: Vec::new(),
                    launchers,
                    store: store.into(),
                    _data: Some(data),
                };
                rig.start_nodes(env, None).await?;
                Ok(rig)
            }
        }
    }

    /// Spawns every node; `token` as in `Launcher::start`.
    async fn start_nodes(
        &mut self,
        env: &[(&str, &str)],
        mut token: Option<String>,
    ) -> Result<(), BenchError> {
        for launcher in &self.launchers {
            let hookd = launcher.start(env, token.clone()).await?;
            token = Some(hookd.token.clone());
            self.nodes.push(hookd);
        }
        Ok(())
    }

    /// The first node: where set-up calls go.
    pub fn hookd(&self) -> &Hookd {
        &self.nodes[0]
    }

    /// Each node's process id, if known.
    pub fn pids(&self) -> Vec<Option<u32>> {
        self.nodes.iter().map(|n| n.pid).collect()
    }

    /// SIGKILLs every node, as in a crash; `restart` starts them again.
    pub fn kill(&mut self) {
        self.nodes.iter_mut().for_each(Hookd::kill);
    }

    /// Starts every node again on the same data, with the same admin token.
    pub async fn restart(&mut self, env: &[(&str, &str)]) -> Result<(), BenchError> {
        if self.launchers.is_empty() {
            return Err(BenchError::Unsupported(
                "restarting hookd needs a hookd the bench started itself (not --url)",
            ));
        }
        let token = self.hookd().token.clone();
        self.kill();
        self.nodes.clear();
        self.start_nodes(env, Some(token)).await
    }

    /// A report with the store named and the nodes' resident memory at rest (summed), read
    /// after the set-up calls have settled.
    pub async fn report(&self) -> Report {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let idle = self.nodes.iter().map(|n| n.pid.and_then(procfs::rss_mib));
        Report {
            store: self.store.clone(),
            hookd_idle_rss_mib: idle.sum(),
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
        let app = self.hookd().create_app(name).await?;
        for n in 0..count {
            let (_, secret) = self
                .hookd()
                .create_endpoint(&app, &receiver.hook_url(n))
                .await?;
            receiver.set_secret(n, secret);
        }
        Ok(app)
    }

    /// A client that sends `app`'s events round the nodes, one request each in turn.
    pub fn client(&self, app: &str, clock: Clock, options: &Options) -> Arc<Client> {
        let sink = Sink::Hookd {
            msg_urls: self.nodes.iter().map(|n| n.msg_url(app)).collect(),
            token: self.hookd().token.clone(),
        };
        Client::new(sink, clock, options.payload_bytes)
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
    drive_from(client, clock, load, events, Instant::now()).await
}

/// As `drive`, from `start`: a fixed rate's schedule counts from it, and it may be ahead (the
/// client waits for the first event's time). A flat load starts at once; give it now.
pub async fn drive_from(
    client: &Arc<Client>,
    clock: Clock,
    load: Load,
    events: usize,
    start: Instant,
) -> Drive {
    let sent = Arc::new(Sent::new(events));
    let start_us = clock.us_at(start);
    let send_time = match load {
        Load::Flat { concurrency } => client.send_all(events, concurrency, &sent).await,
        Load::Rate { per_second } => client.send_at_rate(events, per_second, &sent, start).await,
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

/// How long after the last expected delivery the receiver goes on counting duplicates. A
/// delivery hookd sends again after a failure it recorded comes after the default schedule's
/// first retry (5 s, up to 20 % later), so after the last delivery `settle` waited for, more
/// often than not.
const LATE_DUPLICATES: Duration = Duration::from_secs(7);

/// Waits `LATE_DUPLICATES`, then counts each run's duplicates again. Called once the measured
/// figures are read (hookd idles meanwhile), for every run of the scenario at once.
pub async fn count_late_duplicates(runs: &mut [(&mut Report, &Tally)]) {
    tokio::time::sleep(LATE_DUPLICATES).await;
    for (report, tally) in runs {
        report.duplicates = tally.duplicates();
    }
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
