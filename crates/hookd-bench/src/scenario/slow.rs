//! `slow-endpoint`: healthy endpoints next to one that answers after 10 s and one that refuses
//! connections. The healthy endpoints' latency should not move.
//!
//! The baseline is the same load to an application with only the healthy endpoints. When the
//! bench starts hookd itself, the baseline runs at the same time, on a twin hookd of its own
//! (a fresh data dir, the same build and settings): two runs one after the other on a shared
//! machine differ by whatever the machine did in each, and on a virtual disk that is mostly
//! `fdatasync`s that now and then take 20 to 100 ms, in bursts, every commit waiting on them.
//! A p99 is the slowest 1 % of deliveries, so a burst or two more in one run than in the other
//! moved the comparison by a third or more; side by side, both hookds wait through the same
//! bursts. What differs between them is only what the bad endpoints do inside one hookd (its
//! commit loop, workers and connections), which is what this scenario is about; their CPU is
//! small (a timed-out request every 10 s per connection, a refused connect now and then) and
//! shared with the twin through the cores.
//!
//! Against a hookd given by `--url` there is no twin: the two runs go one after the other, on
//! it, the baseline first.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::rig::{Drive, Load, Rig, count_late_duplicates, drive_from, settle};
use super::usage::Usage;
use super::{Options, Target};
use crate::payload::Clock;
use crate::receiver::Receiver;
use crate::tally::Tally;
use crate::{BenchError, Report};

/// How long the slow endpoint takes to answer: within hookd's default 15 s delivery timeout.
const SLOW_FOR: Duration = Duration::from_secs(10);

/// The load both runs get: `events` events at `load`, each to `healthy` counted endpoints.
struct Plan {
    clock: Clock,
    load: Load,
    /// How much later the measured run's schedule starts than its twin's when they run side
    /// by side: half the time between two events, in whole milliseconds (none from 500
    /// events/s up).
    offset: Duration,
    events: usize,
    healthy: usize,
}

/// One application's run: its hookd, its receiver and what the receiver counted.
struct Side {
    rig: Rig,
    app: String,
    receiver: Receiver,
    tally: Arc<Tally>,
}

/// `twin_database`: on PostgreSQL, a schema of the twin's own.
pub async fn run(options: &Options, twin_database: Option<&str>) -> Result<Report, BenchError> {
    let rate = options.rate.unwrap_or(200.0);
    let duration = options.duration.unwrap_or(Duration::from_secs(30));
    let plan = Plan {
        clock: Clock::start(),
        load: Load::Rate { per_second: rate },
        offset: Duration::from_millis((500.0 / rate).floor() as u64),
        events: options
            .events
            .unwrap_or((rate * duration.as_secs_f64()).round() as usize),
        healthy: options.endpoints.unwrap_or(8),
    };
    match options.target {
        Target::Start { .. } => side_by_side(options, twin_database, &plan).await,
        Target::External { .. } => one_after_another(options, &plan).await,
    }
}

async fn side_by_side(
    options: &Options,
    twin_database: Option<&str>,
    plan: &Plan,
) -> Result<Report, BenchError> {
    // On PostgreSQL the twin has a schema of its own: on one, each hookd's claim would take
    // the other's due rows too.
    let twin_options = match twin_database {
        Some(url) => Options {
            target: options.target.on(url),
            ..options.clone()
        },
        None => options.clone(),
    };
    let twin = Side::start(Rig::start(&twin_options, &[]).await?, "baseline", plan).await?;
    let bad = Side::start(Rig::start(options, &[]).await?, "with-bad-endpoints", plan).await?;
    add_bad_endpoints(&bad).await?;
    // Each waits a second for its hookd to settle before reading its memory: together.
    let (mut baseline, mut report) = tokio::join!(twin.rig.report(), bad.rig.report());
    let usage = Usage::start(&bad.rig.pids());
    // The two schedules start `plan.offset` apart. Started together, both hookds got their
    // requests at the same instants, and the one served second read slower: with no bad
    // endpoint on either, the measured side's p99 was +11 to +28 % of its twin's in five runs
    // of six. The offset is whole milliseconds because tokio's timer wakes the client on them:
    // half a millisecond more on one side than on the other shifted its whole run by that
    // much (per-run p50s 0.5-0.6 ms apart, steady from the first second to the last).
    let start = Instant::now();
    let (twin_sent, bad_sent) = tokio::join!(
        twin.drive(options, plan, start),
        bad.drive(options, plan, start + plan.offset)
    );
    settle(&mut report, &bad.tally, &bad_sent, options.stall).await;
    // Per delivery of this hookd alone (`finish` divides by `report.delivered`).
    usage.finish(&mut report);
    settle(&mut baseline, &twin.tally, &twin_sent, options.stall).await;
    count_late_duplicates(&mut [(&mut report, &bad.tally), (&mut baseline, &twin.tally)]).await;
    Ok(finish(report, &baseline, &bad))
}

async fn one_after_another(options: &Options, plan: &Plan) -> Result<Report, BenchError> {
    let rig = Rig::start(options, &[]).await?;
    let first = Side::start(rig, "baseline", plan).await?;
    let mut baseline = first.rig.report().await;
    let usage = Usage::start(&first.rig.pids());
    let sent = first.drive(options, plan, Instant::now()).await;
    settle(&mut baseline, &first.tally, &sent, options.stall).await;

    let bad = Side::start(first.rig, "with-bad-endpoints", plan).await?;
    add_bad_endpoints(&bad).await?;
    let mut report = Report {
        store: baseline.store.clone(),
        hookd_idle_rss_mib: baseline.hookd_idle_rss_mib,
        ..Report::default()
    };
    let sent = bad.drive(options, plan, Instant::now()).await;
    settle(&mut report, &bad.tally, &sent, options.stall).await;
    usage.finish(&mut report);
    // The CPU and switch counts cover both runs.
    let both = (report.delivered + baseline.delivered).max(1) as f64;
    report.switches_per_delivery = report.hookd_switches.map(|n| n as f64 / both);
    count_late_duplicates(&mut [(&mut report, &bad.tally), (&mut baseline, &first.tally)]).await;
    Ok(finish(report, &baseline, &bad))
}

impl Side {
    /// An application named `name` on `rig`, with `plan.healthy` endpoints on a receiver of
    /// its own.
    async fn start(rig: Rig, name: &str, plan: &Plan) -> Result<Side, BenchError> {
        let tally = Arc::new(Tally::new(plan.clock, plan.events, plan.healthy));
        let receiver = Receiver::start(tally.clone(), SLOW_FOR).await?;
        let app = rig.app_with_hooks(name, &receiver, plan.healthy).await?;
        Ok(Side {
            rig,
            app,
            receiver,
            tally,
        })
    }

    async fn drive(&self, options: &Options, plan: &Plan, start: Instant) -> Drive {
        let client = self.rig.client(&self.app, plan.clock, options);
        drive_from(&client, plan.clock, plan.load, plan.events, start).await
    }
}

/// Adds the two bad endpoints to `side`'s application: the receiver's slow one, and one that
/// answers the challenge and then refuses connections.
async fn add_bad_endpoints(side: &Side) -> Result<(), BenchError> {
    let hookd = side.rig.hookd();
    hookd
        .create_endpoint(&side.app, &side.receiver.slow_url())
        .await?;
    let refusing =
        Receiver::start(Arc::new(Tally::new(side.tally.clock, 0, 0)), Duration::ZERO).await?;
    hookd
        .create_endpoint(&side.app, &refusing.hook_url(0))
        .await?;
    // It answered the challenge; from now on its port refuses connections.
    refusing.stop().await;
    Ok(())
}

/// The run with the bad endpoints, with the baseline's p99 and counts added.
fn finish(mut report: Report, baseline: &Report, bad: &Side) -> Report {
    eprintln!("hookd-bench: baseline {}", baseline.table_row());
    report.baseline_p99_ms = baseline.latency_ms.map(|l| l.p99);
    report.missing += baseline.missing;
    report.duplicates += baseline.duplicates;
    eprintln!(
        "hookd-bench: the slow endpoint answered {} deliveries",
        bad.receiver.slow_answered()
    );
    report
}
