//! `slow-endpoint`: healthy endpoints next to one that answers after 10 s and one that refuses
//! connections. The same load runs twice on the same hookd: first to an application with only
//! the healthy endpoints (the baseline), then to one that also has the two bad ones. The
//! healthy endpoints' latency should not move.

use std::sync::Arc;
use std::time::Duration;

use super::Options;
use super::rig::{Load, Rig, drive, settle};
use super::usage::Usage;
use crate::payload::Clock;
use crate::receiver::Receiver;
use crate::tally::Tally;
use crate::{BenchError, Report};

/// How long the slow endpoint takes to answer: within hookd's default 15 s delivery timeout.
const SLOW_FOR: Duration = Duration::from_secs(10);

pub async fn run(options: &Options) -> Result<Report, BenchError> {
    let rate = options.rate.unwrap_or(200.0);
    let duration = options.duration.unwrap_or(Duration::from_secs(30));
    let events = options
        .events
        .unwrap_or((rate * duration.as_secs_f64()).round() as usize);
    let healthy = options.endpoints.unwrap_or(8);
    let load = Load::Rate { per_second: rate };
    let clock = Clock::start();
    let rig = Rig::start(options, &[]).await?;

    let tally = Arc::new(Tally::new(clock, events, healthy));
    let receiver = Receiver::start(tally.clone(), SLOW_FOR).await?;
    let app = rig.app_with_hooks("baseline", &receiver, healthy).await?;
    let mut baseline = rig.report().await;
    let usage = Usage::start(&rig.pids());
    let sent = drive(&rig.client(&app, clock, options), clock, load, events).await;
    settle(&mut baseline, &tally, &sent, options.stall).await;
    eprintln!("hookd-bench: baseline {}", baseline.table_row());

    let tally = Arc::new(Tally::new(clock, events, healthy));
    let receiver = Receiver::start(tally.clone(), SLOW_FOR).await?;
    let app = rig
        .app_with_hooks("with-bad-endpoints", &receiver, healthy)
        .await?;
    rig.hookd()
        .create_endpoint(&app, &receiver.slow_url())
        .await?;
    let refusing = Receiver::start(Arc::new(Tally::new(clock, 0, 0)), Duration::ZERO).await?;
    rig.hookd()
        .create_endpoint(&app, &refusing.hook_url(0))
        .await?;
    // It answered the challenge; from now on its port refuses connections.
    refusing.stop().await;
    let mut report = Report {
        store: baseline.store.clone(),
        hookd_idle_rss_mib: baseline.hookd_idle_rss_mib,
        ..Report::default()
    };
    let sent = drive(&rig.client(&app, clock, options), clock, load, events).await;
    settle(&mut report, &tally, &sent, options.stall).await;
    usage.finish(&mut report);
    report.baseline_p99_ms = baseline.latency_ms.map(|l| l.p99);
    // The CPU and switch counts cover both runs.
    let both = (report.delivered + baseline.delivered).max(1) as f64;
    report.switches_per_delivery = report.hookd_switches.map(|n| n as f64 / both);
    report.missing += baseline.missing;
    report.duplicates += baseline.duplicates;
    eprintln!(
        "hookd-bench: the slow endpoint answered {} deliveries",
        receiver.slow_answered()
    );
    Ok(report)
}
