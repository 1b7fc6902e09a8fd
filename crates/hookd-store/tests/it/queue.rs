//! The delivery queue: claims (due time, limit, lanes' room, leases), outcomes, releases.

use std::collections::BTreeMap;

use hookd_core::{AttemptStatus, Endpoint, Message, TriggerType};
use hookd_store::{Claim, DueDelivery, NextStep, Outcome, Store};

use crate::each_store;
use crate::fixtures::{T0, UNCAPPED, at, attempt, endpoint, message, new_app, new_endpoint, send};

const LEASE: i64 = 30_000;

async fn claim(store: &dyn Store, now: i64, limit: u32) -> Claim {
    store
        .claim_due(at(now), at(now + LEASE), limit, UNCAPPED, &[])
        .await
        .unwrap()
}

/// One application with one endpoint, and a message created at each of `times`.
async fn queued_at(store: &dyn Store, times: &[i64]) -> Vec<Message> {
    let app = new_app(store).await;
    new_endpoint(store, endpoint(&app.id)).await;
    let messages: Vec<Message> = times
        .iter()
        .map(|&t| Message {
            created_at: at(t),
            ..message(&app.id, "a")
        })
        .collect();
    send(store, &messages).await;
    messages
}

fn msg_ids(claim: &Claim) -> Vec<String> {
    claim
        .due
        .iter()
        .map(|d| d.msg_id.as_str().to_owned())
        .collect()
}

fn ids_of(messages: &[&Message]) -> Vec<String> {
    messages.iter().map(|m| m.id.as_str().to_owned()).collect()
}

fn outcome(due: &DueDelivery, status: AttemptStatus, code: i16, next: NextStep) -> Outcome {
    Outcome {
        delivery: due.id,
        attempt: attempt(due, status, code),
        next,
    }
}

#[tokio::test]
async fn a_claim_takes_only_due_deliveries_oldest_first() {
    each_store(async |store| {
        let m = queued_at(store, &[0, 20, 10]).await;

        let claimed = claim(store, 15, 10).await;

        assert_eq!(msg_ids(&claimed), ids_of(&[&m[0], &m[2]]));
        assert_eq!(claimed.next_due_at, Some(at(20)));
    })
    .await;
}

#[tokio::test]
async fn a_claim_takes_at_most_its_limit() {
    each_store(async |store| {
        let m = queued_at(store, &[0, 1, 2]).await;

        let first = claim(store, 10, 2).await;
        assert_eq!(msg_ids(&first), ids_of(&[&m[0], &m[1]]));
        assert_eq!(first.next_due_at, Some(at(2)), "more is due already");
        let second = claim(store, 10, 2).await;
        assert_eq!(msg_ids(&second), ids_of(&[&m[2]]));
        assert_eq!(second.next_due_at, None);
        assert!(claim(store, 10, 0).await.due.is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_claim_passes_over_the_endpoints_it_is_told_to_skip() {
    each_store(async |store| {
        let app = new_app(store).await;
        let busy = new_endpoint(store, endpoint(&app.id)).await;
        let free = new_endpoint(store, endpoint(&app.id)).await;
        send(store, &[message(&app.id, "a")]).await;

        let skip = [(busy.id.clone(), 0)];
        let claimed = store
            .claim_due(T0, at(LEASE), 10, UNCAPPED, &skip)
            .await
            .unwrap();
        let endpoints: Vec<_> = claimed.due.iter().map(|d| &d.endpoint_id).collect();
        assert_eq!(endpoints, [&free.id]);
        assert_eq!(
            claimed.next_due_at, None,
            "a skipped endpoint's backlog does not wake the worker"
        );

        let later = claim(store, 0, 10).await;
        let endpoints: Vec<_> = later.due.iter().map(|d| &d.endpoint_id).collect();
        assert_eq!(endpoints, [&busy.id]);
    })
    .await;
}

#[tokio::test]
async fn a_skipping_claim_takes_the_open_endpoints_oldest_first_and_looks_past_the_busy_one() {
    each_store(async |store| {
        let app = new_app(store).await;
        let mut endpoints = Vec::new();
        for _ in 0..3 {
            let mut ep = endpoint(&app.id);
            ep.event_types = Some(vec![format!("to-{}", endpoints.len())]);
            endpoints.push(new_endpoint(store, ep).await);
        }
        // (endpoint, due): the busy endpoint (0) has the oldest rows and a big backlog.
        let plan: Vec<(usize, i64)> = (0..50)
            .map(|t| (0, t))
            .chain([(1, 60), (2, 55), (1, 70), (2, 500), (1, 900)])
            .collect();
        for (to, t) in &plan {
            let mut m = message(&app.id, &format!("to-{to}"));
            m.created_at = at(*t);
            send(store, &[m]).await;
        }

        let skip = [(endpoints[0].id.clone(), 0)];
        let claimed = store
            .claim_due(at(100), at(100 + LEASE), 10, UNCAPPED, &skip)
            .await
            .unwrap();
        let got: Vec<(&str, usize)> = claimed
            .due
            .iter()
            .map(|d| {
                let to = endpoints
                    .iter()
                    .position(|e| e.id == d.endpoint_id)
                    .unwrap();
                (d.event_type.as_str(), to)
            })
            .collect();
        assert_eq!(got, [("to-2", 2), ("to-1", 1), ("to-1", 1)], "oldest first");
        assert_eq!(
            claimed.next_due_at,
            Some(at(500)),
            "the earliest open row not due yet; the busy endpoint's are left out"
        );

        let limited = store
            .claim_due(at(1000), at(1000 + LEASE), 1, UNCAPPED, &skip)
            .await
            .unwrap();
        assert_eq!(limited.due.len(), 1);
        assert_eq!(limited.next_due_at, Some(at(900)));
        let rest = claim(store, 1000, 100).await;
        assert_eq!(rest.due.len(), 51, "the busy backlog and the last open row");
    })
    .await;
}

#[tokio::test]
async fn a_claimed_delivery_is_not_claimed_again_until_its_lease_runs_out() {
    each_store(async |store| {
        let m = queued_at(store, &[0]).await;
        let first = store
            .claim_due(T0, at(100), 10, UNCAPPED, &[])
            .await
            .unwrap();
        assert_eq!(msg_ids(&first), ids_of(&[&m[0]]));
        assert_eq!(first.next_due_at, None);

        assert!(
            store
                .claim_due(at(50), at(150), 10, UNCAPPED, &[])
                .await
                .unwrap()
                .due
                .is_empty()
        );
        assert!(
            store
                .claim_due(at(100), at(200), 10, UNCAPPED, &[])
                .await
                .unwrap()
                .due
                .is_empty()
        );
        let again = store
            .claim_due(at(101), at(201), 10, UNCAPPED, &[])
            .await
            .unwrap();

        assert_eq!(
            again.due.len(),
            1,
            "a lease that ran out is claimable again"
        );
        assert_eq!(again.due[0].id, first.due[0].id);
        assert_eq!(again.due[0].attempts_made, 0);
        assert!(
            store
                .claim_due(at(150), at(250), 10, UNCAPPED, &[])
                .await
                .unwrap()
                .due
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn a_claim_carries_everything_the_worker_needs_for_an_attempt() {
    each_store(async |store| {
        let app = new_app(store).await;
        let headers = BTreeMap::from([("X-Env".to_owned(), "prod".to_owned())]);
        let ep = new_endpoint(
            store,
            Endpoint {
                headers: headers.clone(),
                ..endpoint(&app.id)
            },
        )
        .await;
        let msg = Message {
            payload: Some(r#"{"id":7}"#.to_owned()),
            ..message(&app.id, "order.created")
        };
        send(store, std::slice::from_ref(&msg)).await;

        let due = claim(store, 0, 1).await.due.remove(0);

        assert_eq!(due.app_id, app.id);
        assert_eq!(due.msg_id, msg.id);
        assert_eq!(due.endpoint_id, ep.id);
        assert_eq!(due.event_type, "order.created");
        assert_eq!(due.payload, r#"{"id":7}"#);
        assert_eq!(due.url, ep.url);
        assert_eq!(due.secrets, std::slice::from_ref(&ep.secret));
        assert_eq!(due.headers, headers);
        assert_eq!(due.attempts_made, 0);
        assert_eq!(due.trigger, TriggerType::Scheduled);
    })
    .await;
}

#[tokio::test]
async fn each_outcome_moves_its_delivery_on_and_counts_the_attempt() {
    each_store(async |store| {
        let app = new_app(store).await;
        for _ in 0..3 {
            new_endpoint(store, endpoint(&app.id)).await;
        }
        send(store, &[message(&app.id, "a")]).await;
        let due = claim(store, 0, 10).await.due;

        store
            .record_outcomes(&[
                outcome(&due[0], AttemptStatus::Success, 200, NextStep::Delivered),
                outcome(
                    &due[1],
                    AttemptStatus::Fail,
                    503,
                    NextStep::RetryAt(at(5_000)),
                ),
                outcome(&due[2], AttemptStatus::Fail, 500, NextStep::Exhausted),
            ])
            .await
            .unwrap();

        let early = claim(store, 4_999, 10).await;
        assert!(early.due.is_empty());
        assert_eq!(
            early.next_due_at,
            Some(at(5_000)),
            "only the retry is still queued"
        );
        let retry = claim(store, 5_000, 10).await;
        assert_eq!(retry.due.len(), 1);
        assert_eq!(retry.due[0].id, due[1].id);
        assert_eq!(retry.due[0].attempts_made, 1);

        store
            .record_outcomes(&[outcome(
                &retry.due[0],
                AttemptStatus::Fail,
                0,
                NextStep::Exhausted,
            )])
            .await
            .unwrap();
        let after = claim(store, 1_000_000_000, 10).await;
        assert!(after.due.is_empty());
        assert_eq!(after.next_due_at, None);
    })
    .await;
}

#[tokio::test]
async fn a_released_delivery_is_due_again_without_an_attempt_counted() {
    each_store(async |store| {
        let m = queued_at(store, &[0, 1]).await;
        let due = claim(store, 10, 10).await.due;

        store.release(&[due[1].id]).await.unwrap();

        let again = claim(store, 10, 10).await;
        assert_eq!(
            msg_ids(&again),
            ids_of(&[&m[1]]),
            "the other delivery is still leased"
        );
        assert_eq!(again.due[0].attempts_made, 0);
        store.release(&[]).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_release_keeps_the_due_time_so_a_future_retry_stays_in_the_future() {
    each_store(async |store| {
        queued_at(store, &[0]).await;
        let due = claim(store, 0, 1).await.due.remove(0);
        store
            .record_outcomes(&[outcome(
                &due,
                AttemptStatus::Fail,
                500,
                NextStep::RetryAt(at(900)),
            )])
            .await
            .unwrap();
        let retry = claim(store, 900, 1).await.due.remove(0);

        store.release(&[retry.id]).await.unwrap();

        assert_eq!(claim(store, 0, 1).await.next_due_at, Some(at(900)));
        assert_eq!(claim(store, 900, 1).await.due.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn release_all_gives_back_every_lease() {
    each_store(async |store| {
        let m = queued_at(store, &[0, 1, 2]).await;
        let first = claim(store, 10, 2).await;
        assert_eq!(first.due.len(), 2);

        store.release_all().await.unwrap();

        let all = claim(store, 10, 10).await;
        assert_eq!(msg_ids(&all), ids_of(&[&m[0], &m[1], &m[2]]));
    })
    .await;
}
