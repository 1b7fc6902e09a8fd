//! `backlog`: a million deliveries queued for an endpoint that was down, then hookd restarts
//! with the endpoint back: time from spawn to the first delivery, time to drain, peak memory.
//!
//! While the backlog builds, the endpoint accepts connections and never answers, and hookd
//! runs with a one-hour delivery timeout, so no attempt fails: the deliveries in flight hang,
//! and everything else stays pending in the queue, as after a long outage. The endpoint's lane
//! is made too wide to fill during the build (the worker's overall cap stops the claims
//! instead): a full lane is skipped by every claim, and today's claim query pays for each
//! skipped pending row, which would slow the build itself to a crawl (docs/performance.md). Then hookd is
//! killed (SIGKILL, so a restart also recovers the leases), the endpoint comes back on the
//! same URL, and hookd is started again with its default configuration.
//!
//! On PostgreSQL a restart does not give a killed node's leases back (other nodes may be
//! alive), so deliveries claimed during the build would wait out their three-hour lease. There
//! the building nodes run as `role = "api"`: nothing is claimed, everything stays pending.

use std::sync::Arc;
use std::time::Duration;

use super::rig::{Drive, Load, Rig, count_late_duplicates, drive, settle};
use super::usage::Usage;
use super::{Options, Target};
use crate::hookd;
use crate::payload::Clock;
use crate::receiver::Receiver;
use crate::tally::Tally;
use crate::{BenchError, Report, schema};

pub async fn run(options: &Options) -> Result<Report, BenchError> {
    let events = options.events.unwrap_or(1_000_000);
    let clock = Clock::start();
    let Target::Start { bin, database, .. } = &options.target else {
        return Err(BenchError::Unsupported(
            "backlog restarts hookd, so it needs a hookd it starts itself (not --url)",
        ));
    };
    let mut building = vec![
        ("HOOKD_DELIVERY_TIMEOUT", "1h"),
        ("HOOKD_MAX_IN_FLIGHT_PER_ENDPOINT", "1000000"),
    ];
    // Builds with a delivery lease want it longer than the timeout.
    if hookd::has_option(bin, "delivery_lease") {
        building.push(("HOOKD_DELIVERY_LEASE", "3h"));
    }
    if database.as_deref().is_some_and(schema::is_postgres) {
        building.push(("HOOKD_ROLE", "api"));
    }
    let mut rig = Rig::start(options, &building).await?;
    let tally = Arc::new(Tally::new(clock, events, 1));
    let receiver = Receiver::start(tally.clone(), Duration::ZERO).await?;
    let app = rig.app_with_hooks("backlog", &receiver, 1).await?;
    receiver.set_down(true);
    let mut report = rig.report().await;
    let load = Load::Flat {
        concurrency: options.concurrency,
    };
    let queued = drive(&rig.client(&app, clock, options), clock, load, events).await;
    eprintln!(
        "hookd-bench: queued {} events in {:.1} s; restarting hookd",
        queued.sent.accepted(),
        queued.send_time.as_secs_f64()
    );
    rig.kill();
    receiver.set_down(false);

    let restarted_us = clock.now_us();
    rig.restart(&[]).await?;
    let usage = Usage::since_spawn(&rig.pids());
    let drain = Drive {
        start_us: restarted_us,
        ..queued
    };
    let counts = settle(&mut report, &tally, &drain, options.stall).await;
    usage.finish(&mut report);
    count_late_duplicates(&mut [(&mut report, &tally)]).await;
    let seconds_after_restart = |us: u64| us.saturating_sub(restarted_us) as f64 / 1e6;
    report.first_delivery_s = counts.first_us.map(seconds_after_restart);
    report.drain_s = counts.last_us.map(seconds_after_restart);
    // The age of a delivery that waited out an outage says nothing about hookd.
    report.latency_ms = None;
    Ok(report)
}
