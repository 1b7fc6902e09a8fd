//! Several hookd nodes on one PostgreSQL: `--nodes 2` starts two `hookd serve` processes on a
//! schema the bench makes for the run, and spreads the client's requests over them. Runs when
//! `HOOKD_TEST_POSTGRES_URL` is set, with the `hookd` binary of the same build (`cargo test
//! --workspace` builds it; `cargo build -p hookd` for `cargo test -p hookd-bench`).

use std::path::PathBuf;

use hookd_bench::{BenchError, Options, Scenario, Target, run};

use crate::hookd_binary;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiny_two_node_run_on_postgresql_delivers_every_event_exactly_once() {
    let Ok(database) = std::env::var("HOOKD_TEST_POSTGRES_URL") else {
        eprintln!("PostgreSQL skipped: HOOKD_TEST_POSTGRES_URL is not set");
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let mut options = Options::new(Target::Start {
        bin: hookd_binary(),
        database: Some(database),
        work_dir: work.path().to_owned(),
        nodes: 2,
    });
    options.events = Some(300);
    options.concurrency = 8;
    options.ceiling = false;

    let report = run(Scenario::Throughput, &options).await.unwrap();

    assert_eq!((report.store.as_str(), report.nodes), ("postgres", 2));
    assert_eq!(report.events, 300, "{report:?}");
    assert_eq!(report.delivered, 300, "{report:?}");
    assert_eq!(report.missing, 0, "{report:?}");
    assert_eq!(report.duplicates, 0, "{report:?}");
    assert_eq!(report.bad_signatures, 0, "{report:?}");
    assert_eq!(report.per_node.len(), 2, "{report:?}");
    // Round-robin: each node took half the requests, so each used some CPU.
    assert!(
        report
            .per_node
            .iter()
            .all(|node| node.cpu_s.is_some_and(|s| s > 0.0)),
        "{report:?}"
    );
}

#[tokio::test]
async fn more_than_one_node_without_postgresql_is_refused_before_anything_starts() {
    let work = tempfile::tempdir().unwrap();
    let options = Options::new(Target::Start {
        bin: PathBuf::from("/nonexistent/hookd"),
        database: None,
        work_dir: work.path().to_owned(),
        nodes: 2,
    });

    let refused = run(Scenario::Throughput, &options).await.unwrap_err();

    assert!(
        matches!(refused, BenchError::Unsupported(why) if why.contains("PostgreSQL")),
        "{refused:?}"
    );
}
