//! hookd-bench's integration tests. Benchmarks are not tests: these only check that a tiny run
//! against a real hookd (in-process, on loopback) completes with nothing missing; on
//! PostgreSQL, that a tiny run on two nodes does (`nodes.rs`); and that `slow-endpoint`'s run
//! beside a twin hookd does (`slow.rs`). Those two start the `hookd` binary of the same build
//! (`cargo test --workspace` builds it; `cargo build -p hookd` for `cargo test -p hookd-bench`).

mod nodes;
mod slow;

use std::path::PathBuf;
use std::sync::Arc;

use hookd_bench::{Options, Scenario, Target, run};
use hookd_server::config::RawConfig;
use hookd_server::{Server, clock, token};
use hookd_store::{Sealer, SecretKey, SqliteStore, Store, TokenScope};
use tokio::sync::oneshot;

/// `target/<profile>/hookd`, next to the directory this test runs from.
fn hookd_binary() -> PathBuf {
    let me = std::env::current_exe().expect("the test knows where it runs from");
    let profile_dir = me
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test runs from target/<profile>/deps");
    let bin = profile_dir.join(format!("hookd{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build -p hookd`",
        bin.display()
    );
    bin
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiny_throughput_run_delivers_every_event_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = RawConfig {
        listen: "127.0.0.1:0".into(),
        allowed_networks: vec!["127.0.0.0/8".into()],
        ..RawConfig::default()
    }
    .validate()
    .unwrap();
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(
            &dir.path().join("hookd.db"),
            Sealer::new(&SecretKey::generate()),
        )
        .await
        .unwrap(),
    );
    let token = token::create(store.as_ref(), TokenScope::Admin, clock::now())
        .await
        .unwrap();
    let server = Server::build(config, store).await.unwrap();
    let url = format!("http://{}/api/v1", server.local_addr());
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));

    let mut options = Options::new(Target::External {
        url,
        token,
        pid: None,
    });
    options.events = Some(300);
    options.concurrency = 8;
    let report = run(Scenario::Throughput, &options).await.unwrap();

    assert_eq!(report.events, 300, "{report:?}");
    assert_eq!(report.delivered, 300, "{report:?}");
    assert_eq!(report.missing, 0, "{report:?}");
    assert_eq!(report.duplicates, 0, "{report:?}");
    assert_eq!(report.bad_signatures, 0, "{report:?}");
    assert!(report.ceiling_per_s.is_some_and(|c| c > 0.0), "{report:?}");
    assert_eq!(
        report.ceiling_runs_per_s.len(),
        3,
        "one before hookd's run, two after"
    );
    assert_eq!(
        report.ceiling_per_s,
        report.ceiling_runs_per_s.iter().copied().reduce(f64::max)
    );
    let _ = stop.send(());
    serving.await.unwrap().unwrap();
}
