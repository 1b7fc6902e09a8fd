//! `slow-endpoint` with hookd started by the bench: the baseline runs at the same time on a
//! twin hookd, and the healthy endpoints of both get every event once. On PostgreSQL (when
//! `HOOKD_TEST_POSTGRES_URL` is set) the twin runs on a schema of its own.

use std::time::Duration;

use hookd_bench::{Options, Scenario, Target, run};

use crate::hookd_binary;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiny_slow_endpoint_run_beside_its_twin_delivers_every_event_to_the_healthy_ones() {
    tiny_run_beside_its_twin(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiny_slow_endpoint_run_on_postgresql_beside_its_twin_delivers_every_event() {
    let Ok(database) = std::env::var("HOOKD_TEST_POSTGRES_URL") else {
        eprintln!("PostgreSQL skipped: HOOKD_TEST_POSTGRES_URL is not set");
        return;
    };
    tiny_run_beside_its_twin(Some(database)).await;
}

async fn tiny_run_beside_its_twin(database: Option<String>) {
    let store = if database.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let work = tempfile::tempdir().unwrap();
    let mut options = Options::new(Target::Start {
        bin: hookd_binary(),
        database,
        work_dir: work.path().to_owned(),
        nodes: 1,
    });
    options.rate = Some(50.0);
    options.duration = Some(Duration::from_secs(2));
    options.endpoints = Some(2);

    let report = run(Scenario::SlowEndpoint, &options).await.unwrap();

    // 100 events, each to both healthy endpoints, on the hookd with the bad ones; the twin's
    // misses and duplicates are added to these.
    assert_eq!(report.store, store, "{report:?}");
    assert_eq!((report.events, report.endpoints), (100, 2), "{report:?}");
    assert_eq!(report.delivered, 200, "{report:?}");
    assert_eq!(report.missing, 0, "{report:?}");
    assert_eq!(report.duplicates, 0, "{report:?}");
    assert_eq!(report.bad_signatures, 0, "{report:?}");
    assert!(report.latency_ms.is_some(), "{report:?}");
    assert!(
        report.baseline_p99_ms.is_some_and(|p99| p99 > 0.0),
        "{report:?}"
    );
    assert!(report.hookd_cpu_s.is_some_and(|s| s > 0.0), "{report:?}");
}
