//! What only the SQLite backend promises: data survives a reopen, concurrent callers never
//! see a busy database, and the intake sees endpoints changed by another connection.

use std::sync::Arc;

use hookd_core::{Application, AttemptStatus, Message};
use hookd_store::{
    AttemptFilter, Catalog, NewMessage, NextStep, Outcome, PageQuery, Queue, SqliteStore,
};

use crate::fixtures::{
    T0, UNCAPPED, at, attempt, endpoint, message, new_app, new_endpoint, sealer, send,
};

#[tokio::test]
async fn a_reopened_store_keeps_its_data_and_its_queue() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hookd.db");
    let store = SqliteStore::open(&path, sealer()).await.unwrap();
    let app = new_app(&store).await;
    let ep = new_endpoint(&store, endpoint(&app.id)).await;
    let msg = message(&app.id, "a");
    send(&store, std::slice::from_ref(&msg)).await;
    drop(store);

    let reopened = SqliteStore::open(&path, sealer()).await.unwrap();

    assert_eq!(
        reopened.get_application(app.id.as_str()).await.unwrap(),
        Some(app.clone())
    );
    assert_eq!(
        reopened
            .get_endpoint(&app.id, ep.id.as_str())
            .await
            .unwrap(),
        Some(ep)
    );
    assert_eq!(
        reopened
            .get_message(&app.id, msg.id.as_str())
            .await
            .unwrap(),
        Some(msg.clone())
    );
    let claim = reopened
        .claim_due(T0, at(30_000), 10, UNCAPPED, &[])
        .await
        .unwrap();
    assert_eq!(claim.due.len(), 1);
    assert_eq!(claim.due[0].msg_id, msg.id);
}

#[tokio::test]
async fn a_commit_of_megabytes_reads_back_whole_from_other_connections_and_after_a_reopen() {
    // The intake gathers a commit's WAL writes and hands them to SQLite's VFS in pieces of at
    // most 124 KiB (its unix write takes no more): this one commit is over a megabyte.
    let (_dir, path, store, app) = store_with_endpoint().await;
    let messages = padded(&app, 400, 3_000);
    let batch: Vec<NewMessage> = messages
        .iter()
        .map(|message| NewMessage::new(message.clone()))
        .collect();

    let written = store.write_batch(&batch, &[], None).await.unwrap();

    assert!(
        written
            .inserted
            .iter()
            .all(|i| i.as_ref().unwrap().deliveries == 1)
    );
    reads_back_whole(store, &path, &messages).await;
}

#[tokio::test]
async fn checkpoints_the_intake_runs_leave_a_database_file_that_reads_back_whole() {
    // The intake's commits run SQLite's automatic checkpoints (past 1,000 pages of WAL): these
    // batches make about 2,500 pages of WAL.
    let (_dir, path, store, app) = store_with_endpoint().await;
    let mut messages = Vec::new();
    for round in 0..12 {
        let batch = padded(&app, 200, 3_000 + round);
        send(&store, &batch).await;
        messages.extend(batch);
    }
    // In WAL mode only a checkpoint writes to the database file.
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size > 4 << 20, "checkpointed: {size} bytes");
    let check =
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let integrity: String = check
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    drop(check);
    reads_back_whole(store, &path, &messages).await;
}

/// A store on a fresh file with one application and one endpoint; the directory goes with it.
async fn store_with_endpoint() -> (
    tempfile::TempDir,
    std::path::PathBuf,
    SqliteStore,
    Application,
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hookd.db");
    let store = SqliteStore::open(&path, sealer()).await.unwrap();
    let app = new_app(&store).await;
    new_endpoint(&store, endpoint(&app.id)).await;
    (dir, path, store, app)
}

/// Messages of `app` with payloads of about `pad` bytes, a few pages' worth between them.
fn padded(app: &Application, count: usize, pad: usize) -> Vec<Message> {
    (0..count)
        .map(|n| Message {
            payload: Some(format!(r#"{{"n":{n},"pad":"{}"}}"#, "x".repeat(pad + n))),
            ..message(&app.id, "a")
        })
        .collect()
}

/// Every one of `messages` reads back as written, through the store's readers and again after
/// the store is closed and the file reopened.
async fn reads_back_whole(store: SqliteStore, path: &std::path::Path, messages: &[Message]) {
    for m in messages {
        let read = store.get_message(&m.app_id, m.id.as_str()).await.unwrap();
        assert_eq!(read.as_ref(), Some(m), "read by a reader connection");
    }
    drop(store);
    let reopened = SqliteStore::open(path, sealer()).await.unwrap();
    for m in messages {
        let read = reopened
            .get_message(&m.app_id, m.id.as_str())
            .await
            .unwrap();
        assert_eq!(read.as_ref(), Some(m), "read after a reopen");
    }
}

#[tokio::test]
async fn leases_left_by_a_crashed_process_are_given_back_by_release_all() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hookd.db");
    let store = SqliteStore::open(&path, sealer()).await.unwrap();
    let app = new_app(&store).await;
    new_endpoint(&store, endpoint(&app.id)).await;
    send(&store, &[message(&app.id, "a")]).await;
    assert_eq!(
        store
            .claim_due(T0, at(1_000_000), 10, UNCAPPED, &[])
            .await
            .unwrap()
            .due
            .len(),
        1
    );
    drop(store);

    let restarted = SqliteStore::open(&path, sealer()).await.unwrap();
    assert!(
        restarted
            .claim_due(at(1), at(30_000), 10, UNCAPPED, &[])
            .await
            .unwrap()
            .due
            .is_empty()
    );
    restarted.release_all().await.unwrap();

    assert_eq!(
        restarted
            .claim_due(at(1), at(30_000), 10, UNCAPPED, &[])
            .await
            .unwrap()
            .due
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_and_readers_never_see_a_busy_database() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("hookd.db"), sealer())
            .await
            .unwrap(),
    );
    let app = new_app(store.as_ref()).await;
    new_endpoint(store.as_ref(), endpoint(&app.id)).await;

    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (store, app) = (store.clone(), app.id.clone());
        tasks.push(tokio::spawn(async move {
            let mut claimed = 0;
            for _ in 0..25 {
                let batch = [NewMessage::new(message(&app, "a"))];
                store
                    .insert_messages(&batch)
                    .await
                    .unwrap()
                    .remove(0)
                    .unwrap();
                store.get_application(app.as_str()).await.unwrap().unwrap();
                claimed += store
                    .claim_due(T0, at(30_000), 5, UNCAPPED, &[])
                    .await
                    .unwrap()
                    .due
                    .len();
            }
            claimed
        }));
    }
    let mut claimed = 0;
    for task in tasks {
        claimed += task.await.unwrap();
    }
    claimed += store
        .claim_due(T0, at(30_000), 1_000, UNCAPPED, &[])
        .await
        .unwrap()
        .due
        .len();

    assert_eq!(claimed, 200, "every delivery was claimed exactly once");
}

#[tokio::test]
async fn a_claim_gives_no_endpoint_more_than_its_lane_holds_and_an_old_backlog_crowds_out_nobody() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("hookd.db"), sealer())
        .await
        .unwrap();
    let app = new_app(&store).await;
    let mut slow = endpoint(&app.id);
    slow.event_types = Some(vec!["slow".to_owned()]);
    let slow = new_endpoint(&store, slow).await;
    let mut fast = endpoint(&app.id);
    fast.event_types = Some(vec!["fast".to_owned()]);
    let fast = new_endpoint(&store, fast).await;
    // The slow endpoint's backlog is older than anything the fast one has.
    for (event_type, t) in (0..20)
        .map(|t| ("slow", t))
        .chain([("fast", 100), ("fast", 101)])
    {
        let mut m = message(&app.id, event_type);
        m.created_at = at(t);
        send(&store, &[m]).await;
    }

    // Two per endpoint in flight: a lane of four.
    let first = store
        .claim_due(at(200), at(60_000), 100, 2, &[])
        .await
        .unwrap();
    let count = |claim: &hookd_store::Claim, ep: &hookd_core::EndpointId| {
        claim.due.iter().filter(|d| &d.endpoint_id == ep).count()
    };
    assert_eq!((count(&first, &slow.id), count(&first, &fast.id)), (4, 2));

    // The caller's lanes now say: the slow one is full, the fast one has room for two.
    let lanes = [(slow.id.clone(), 0), (fast.id.clone(), 2)];
    let again = store
        .claim_due(at(201), at(60_001), 100, 2, &lanes)
        .await
        .unwrap();
    assert!(
        again.due.is_empty(),
        "nothing left that has room: {again:?}"
    );

    let one_free = [(slow.id.clone(), 1)];
    let refill = store
        .claim_due(at(202), at(60_002), 100, 2, &one_free)
        .await
        .unwrap();
    assert_eq!(count(&refill, &slow.id), 1, "room for one more");
    assert_eq!(
        refill.next_due_at,
        Some(at(5)),
        "the lane has room: its backlog is due"
    );
}

/// The intake keeps endpoints between batches, but an endpoint changed behind its back (here by
/// a second store on the same file) is seen by the next batch; the outcomes written with a
/// batch that found its endpoints changed are recorded once.
#[tokio::test]
async fn a_batch_sees_endpoints_another_connection_changed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hookd.db");
    let store = SqliteStore::open(&path, sealer()).await.unwrap();
    let other = SqliteStore::open(&path, sealer()).await.unwrap();
    let app = new_app(&store).await;
    new_endpoint(&store, endpoint(&app.id)).await;
    let first = message(&app.id, "a");
    assert_eq!(
        send(&store, std::slice::from_ref(&first)).await[0].deliveries,
        1
    );
    let due = store
        .claim_due(T0, at(30_000), 10, UNCAPPED, &[])
        .await
        .unwrap()
        .due;
    assert_eq!(due.len(), 1);

    new_endpoint(&other, endpoint(&app.id)).await;
    let outcome = Outcome {
        delivery: due[0].id,
        attempt: attempt(&due[0], AttemptStatus::Success, 200),
        next: NextStep::Delivered,
    };
    let second = NewMessage::new(message(&app.id, "a"));
    let written = store
        .write_batch(std::slice::from_ref(&second), &[outcome], None)
        .await
        .unwrap();

    assert_eq!(written.inserted[0].as_ref().unwrap().deliveries, 2);
    let attempts = store
        .list_attempts_by_message(
            &app.id,
            &first.id,
            &PageQuery::default(),
            &AttemptFilter::default(),
        )
        .await
        .unwrap();
    assert_eq!(attempts.items.len(), 1, "recorded once");
    let later = store
        .claim_due(at(60_000), at(90_000), 10, UNCAPPED, &[])
        .await
        .unwrap()
        .due;
    assert!(
        later.iter().all(|d| d.msg_id == second.message.id),
        "delivered"
    );
    assert_eq!(later.len(), 2);
}

/// A write that waits for the file's lock (here held by another connection, as `hookd prune`
/// may hold it for seconds) waits on the store's writer thread: the async runtime, even one of
/// a single thread, goes on running everything else meanwhile.
#[tokio::test(flavor = "current_thread")]
async fn a_write_waiting_for_the_file_lock_leaves_the_runtime_free() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hookd.db");
    let store = SqliteStore::open(&path, sealer()).await.unwrap();
    let app = new_app(&store).await;
    let blocker = rusqlite::Connection::open(&path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();

    let writer = store.clone();
    let batch = [NewMessage::new(message(&app.id, "a"))];
    let mut write = tokio::spawn(async move { writer.insert_messages(&batch).await });
    let started = std::time::Instant::now();
    // The store waits up to 5 s for a lock; the runtime's timer fires long before that.
    let waited = tokio::time::timeout(std::time::Duration::from_millis(300), &mut write).await;
    assert!(waited.is_err(), "the write waits for the lock");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "the runtime ran its timer while the write waited: {:?}",
        started.elapsed()
    );

    blocker.execute_batch("COMMIT").unwrap();
    let inserted = write.await.unwrap().unwrap();
    assert_eq!(inserted.len(), 1);
    assert!(inserted[0].is_ok(), "written once the lock was free");
}
