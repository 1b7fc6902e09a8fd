//! The per-endpoint cap across nodes, which the PostgreSQL backend enforces in the claim:
//! however many nodes claim at once, an endpoint's live leases never exceed it. (SQLite's one
//! process leaves the cap to the worker's lanes.) Runs when `HOOKD_TEST_POSTGRES_URL` is set.

use std::collections::BTreeSet;
use std::sync::Arc;

use hookd_core::{AttemptStatus, Message};
use hookd_store::{DeliveryId, DueDelivery, NextStep, Outcome, PostgresStore, Queue, Store};
use tokio::sync::Barrier;

use crate::fixtures::{at, attempt, endpoint, message, new_app, new_endpoint, send};
use crate::postgres::Scratch;

const CAP: u32 = 3;
const LEASE: i64 = 30_000;

/// An application with one endpoint and `count` messages due at `due`.
async fn backlog(store: &dyn Store, count: usize, due: i64) {
    let app = new_app(store).await;
    new_endpoint(store, endpoint(&app.id)).await;
    let messages: Vec<Message> = (0..count)
        .map(|_| Message {
            created_at: at(due),
            ..message(&app.id, "a")
        })
        .collect();
    for chunk in messages.chunks(500) {
        send(store, chunk).await;
    }
}

/// `claimers` claims at `now`, spread over the nodes and let go at the same moment.
async fn claim_at_once(
    nodes: &[Arc<PostgresStore>],
    claimers: usize,
    now: i64,
) -> Vec<DueDelivery> {
    let start = Arc::new(Barrier::new(claimers));
    let claims: Vec<_> = (0..claimers)
        .map(|n| {
            let (node, start) = (nodes[n % nodes.len()].clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                let claim = node.claim_due(at(now), at(now + LEASE), 10, CAP, &[]);
                claim.await.unwrap().due
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for claim in claims {
        claimed.extend(claim.await.unwrap());
    }
    claimed
}

fn ids(claimed: &[DueDelivery]) -> BTreeSet<DeliveryId> {
    claimed.iter().map(|d| d.id).collect()
}

fn delivered(due: &DueDelivery) -> Outcome {
    Outcome {
        delivery: due.id,
        attempt: attempt(due, AttemptStatus::Success, 200),
        next: NextStep::Delivered,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_claiming_at_once_never_lease_more_of_an_endpoint_than_its_cap() {
    let Some(scratch) = Scratch::create().await else {
        return;
    };
    let nodes = [
        Arc::new(scratch.store().await),
        Arc::new(scratch.store().await),
    ];
    // Each round a fresh endpoint, whose whole room every claimer finds free at the start;
    // the earlier rounds' endpoints stay at their cap.
    for round in 0..10 {
        backlog(nodes[0].as_ref(), 20, 0).await;
        let claimed = claim_at_once(&nodes, 8, 0).await;
        assert_eq!(
            claimed.len(),
            CAP as usize,
            "round {round}: the two nodes leased {} deliveries of one endpoint",
            claimed.len()
        );
        assert!(claim_at_once(&nodes, 2, 0).await.is_empty());
    }
    for node in nodes {
        node.close().await;
    }
    scratch.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_outcomes_free_room_and_leases_that_ran_out_count_no_more() {
    let Some(scratch) = Scratch::create().await else {
        return;
    };
    let nodes = [
        Arc::new(scratch.store().await),
        Arc::new(scratch.store().await),
    ];
    backlog(nodes[0].as_ref(), 20, 0).await;
    let first = claim_at_once(&nodes, 6, 0).await;
    assert_eq!(first.len(), CAP as usize);

    nodes[1]
        .record_outcomes(&[delivered(&first[0]), delivered(&first[1])])
        .await
        .unwrap();
    let second = claim_at_once(&nodes, 6, 1_000).await;
    assert_eq!(second.len(), 2, "room for what was recorded, and no more");
    assert!(claim_at_once(&nodes, 2, 2_000).await.is_empty());

    // `first[2]` leased until LEASE, `second` until 1_000 + LEASE: all ran out by then.
    let after = claim_at_once(&nodes, 6, 1_001 + LEASE).await;
    let ran_out: BTreeSet<_> = ids(&second).into_iter().chain([first[2].id]).collect();
    assert_eq!(
        ids(&after),
        ran_out,
        "leases that ran out are taken over first, and are all the room there is"
    );
    for node in nodes {
        node.close().await;
    }
    scratch.remove().await;
}

#[tokio::test]
async fn an_endpoint_at_its_cap_is_left_out_of_the_next_due_time() {
    let Some(scratch) = Scratch::create().await else {
        return;
    };
    let store = scratch.store().await;
    backlog(&store, 5, 0).await;
    backlog(&store, 1, 5_000).await;

    let first = store
        .claim_due(at(0), at(LEASE), 10, CAP, &[])
        .await
        .unwrap();
    assert_eq!(first.due.len(), CAP as usize);
    assert_eq!(
        first.next_due_at,
        Some(at(5_000)),
        "two deliveries are due but their endpoint is at its cap"
    );
    let again = store
        .claim_due(at(0), at(LEASE), 10, CAP, &[])
        .await
        .unwrap();
    assert!(again.due.is_empty());
    assert_eq!(again.next_due_at, Some(at(5_000)));

    store.close().await;
    scratch.remove().await;
}

#[tokio::test]
async fn a_backlog_too_long_to_walk_past_does_not_hide_other_endpoints_deliveries() {
    let Some(scratch) = Scratch::create().await else {
        return;
    };
    let store = scratch.store().await;
    // Longer than the claim walks past in time order: it goes endpoint by endpoint instead.
    backlog(&store, 5_000, 0).await;
    backlog(&store, 2, 100_000).await;
    let now = 200_000;

    let first = store
        .claim_due(at(now), at(now + LEASE), 10, CAP, &[])
        .await
        .unwrap();
    assert_eq!(
        first.due.len(),
        CAP as usize,
        "the backlog's oldest, up to the cap"
    );
    assert_eq!(first.next_due_at, Some(at(100_000)));
    let second = store
        .claim_due(at(now), at(now + LEASE), 10, CAP, &[])
        .await
        .unwrap();
    let endpoints: BTreeSet<_> = second.due.iter().map(|d| &d.endpoint_id).collect();
    assert_eq!(second.due.len(), 2, "the other endpoint's two deliveries");
    assert!(!endpoints.contains(&first.due[0].endpoint_id));
    assert_eq!(
        second.next_due_at, None,
        "the backlog's endpoint is at its cap"
    );

    store.close().await;
    scratch.remove().await;
}
