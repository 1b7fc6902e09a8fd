//! The delivery queue: claims (due time, limit, lanes' room, leases), outcomes, releases.

use std::collections::BTreeMap;

use hookd_core::{AppId, AttemptStatus, Endpoint, EndpointId, Message, TriggerType};
use hookd_store::{
    AttemptFilter, Claim, DueDelivery, Handoff, NewMessage, NextStep, Outcome, PageQuery, Store,
};

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

/// `n` new messages of `app`, of event type `a`.
fn new_messages(app: &AppId, n: usize) -> Vec<NewMessage> {
    (0..n).map(|_| NewMessage::new(message(app, "a"))).collect()
}

/// A handoff at 0 with leases until `LEASE`: the room of each endpoint of `rooms`, the
/// others' room, and the most it hands over.
fn handoff(rooms: Vec<(EndpointId, u32)>, default_room: u32, limit: u32) -> Handoff {
    Handoff {
        now: at(0),
        lease_until: at(LEASE),
        rooms,
        default_room,
        limit,
    }
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

/// Three endpoints of one application, endpoint `k` subscribed to event type `to-k`, and for
/// each `(k, t)` of `plan` a message to endpoint `k` created at `t`.
async fn three_endpoints_with(
    store: &dyn Store,
    plan: impl IntoIterator<Item = (usize, i64)>,
) -> Vec<Endpoint> {
    let app = new_app(store).await;
    let mut endpoints = Vec::new();
    for k in 0..3 {
        let mut ep = endpoint(&app.id);
        ep.event_types = Some(vec![format!("to-{k}")]);
        endpoints.push(new_endpoint(store, ep).await);
    }
    for (k, t) in plan {
        let mut m = message(&app.id, &format!("to-{k}"));
        m.created_at = at(t);
        send(store, &[m]).await;
    }
    endpoints
}

/// Which of `endpoints` a delivery is for.
fn index_of(endpoints: &[Endpoint], delivery: &DueDelivery) -> usize {
    endpoints
        .iter()
        .position(|e| e.id == delivery.endpoint_id)
        .expect("a delivery to one of the endpoints")
}

#[tokio::test]
async fn a_skipping_claim_takes_the_open_endpoints_oldest_first_and_looks_past_the_busy_one() {
    each_store(async |store| {
        // (endpoint, due): the busy endpoint (0) has the oldest rows and a big backlog.
        let plan = (0..50)
            .map(|t| (0, t))
            .chain([(1, 60), (2, 55), (1, 70), (2, 500), (1, 900)]);
        let endpoints = three_endpoints_with(store, plan).await;

        let skip = [(endpoints[0].id.clone(), 0)];
        let claimed = store
            .claim_due(at(100), at(100 + LEASE), 10, UNCAPPED, &skip)
            .await
            .unwrap();
        let got: Vec<(&str, usize)> = claimed
            .due
            .iter()
            .map(|d| (d.event_type.as_str(), index_of(&endpoints, d)))
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
async fn a_claim_shared_among_endpoints_takes_each_ones_oldest_and_leaves_none_behind() {
    each_store(async |store| {
        // Endpoint 0 has the ten oldest rows; 1 and 2 have two each, newer.
        let plan = (0..10)
            .map(|t| (0, t))
            .chain([(1, 20), (1, 21), (2, 30), (2, 31)]);
        let endpoints = three_endpoints_with(store, plan).await;
        let count = |claim: &Claim| {
            let mut counts = [0; 3];
            for d in &claim.due {
                counts[index_of(&endpoints, d)] += 1;
            }
            counts
        };

        let first = claim(store, 100, 6).await;
        if first.left_due {
            // SQLite: a share of 6 / 3 + 1 each at most, merged oldest first.
            assert_eq!(count(&first), [3, 2, 1]);
        } else {
            // PostgreSQL: the six oldest, whichever endpoint they are for.
            assert_eq!(count(&first), [6, 0, 0]);
        }
        assert!(
            first.next_due_at.is_some_and(|t| t <= at(100)),
            "what it left is due already, so the worker claims again at once"
        );

        let mut seen: Vec<_> = first.due.iter().map(|d| d.id).collect();
        loop {
            let next = claim(store, 100, 6).await;
            if next.due.is_empty() {
                break;
            }
            seen.extend(next.due.iter().map(|d| d.id));
        }
        let unique: std::collections::HashSet<_> = seen.iter().collect();
        assert_eq!((seen.len(), unique.len()), (14, 14), "every row, once");
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

#[tokio::test]
async fn one_batch_stores_new_messages_and_records_outcomes() {
    each_store(async |store| {
        let first = queued_at(store, &[0]).await.remove(0);
        let due = claim(store, 0, 10).await.due.remove(0);
        let second = Message {
            created_at: at(5),
            ..message(&first.app_id, "a")
        };
        let delivered = outcome(&due, AttemptStatus::Success, 200, NextStep::Delivered);

        let inserted = store
            .write_batch(
                &[NewMessage::new(second.clone())],
                std::slice::from_ref(&delivered),
                None,
            )
            .await
            .unwrap()
            .inserted;

        assert_eq!(inserted.len(), 1);
        assert_eq!(inserted[0].as_ref().unwrap().deliveries, 1);
        let (page, filter) = (PageQuery::default(), AttemptFilter::default());
        let logged = store
            .list_attempts_by_message(&first.app_id, &first.id, &page, &filter)
            .await
            .unwrap()
            .items;
        assert_eq!(logged.len(), 1, "the outcome was recorded");
        assert_eq!(logged[0].id, delivered.attempt.id);
        // After the first lease ran out: the delivered one is done, not leased any more.
        let next = claim(store, LEASE + 10, 10).await;
        assert_eq!(
            msg_ids(&next),
            ids_of(&[&second]),
            "the new message is queued, the delivered one is not"
        );

        // Either half alone.
        let retry = outcome(
            &next.due[0],
            AttemptStatus::Fail,
            500,
            NextStep::RetryAt(at(900)),
        );
        let none = store
            .write_batch(&[], std::slice::from_ref(&retry), None)
            .await
            .unwrap();
        assert!(none.inserted.is_empty());
        assert_eq!(claim(store, 899, 10).await.next_due_at, Some(at(900)));
        let third = message(&first.app_id, "a");
        let alone = store
            .write_batch(&[NewMessage::new(third)], &[], None)
            .await
            .unwrap()
            .inserted;
        assert_eq!(alone[0].as_ref().unwrap().deliveries, 1);
    })
    .await;
}

#[tokio::test]
async fn a_batch_hands_new_deliveries_over_as_far_as_the_room_goes() {
    each_store(async |store| {
        let app = new_app(store).await;
        let mut with_headers = endpoint(&app.id);
        with_headers.headers = BTreeMap::from([("x-team".to_owned(), "blue".to_owned())]);
        let roomy = new_endpoint(store, with_headers).await;
        let full = new_endpoint(store, endpoint(&app.id)).await;
        let messages = new_messages(&app.id, 3);
        let handoff = handoff(vec![(full.id.clone(), 0)], 2, 10);

        let written = store
            .write_batch(&messages, &[], Some(&handoff))
            .await
            .unwrap();

        assert!(
            written
                .inserted
                .iter()
                .all(|i| i.as_ref().unwrap().deliveries == 2)
        );
        if !store.hands_over() {
            // A store that does not hand over queues everything, as without a handoff.
            assert!(written.handed.is_empty());
            assert_eq!(claim(store, 0, 10).await.due.len(), 6);
            return;
        }
        let handed: Vec<(&str, &str)> = written
            .handed
            .iter()
            .map(|d| (d.msg_id.as_str(), d.endpoint_id.as_str()))
            .collect();
        let first_two: Vec<(&str, &str)> = messages[..2]
            .iter()
            .map(|m| (m.message.id.as_str(), roomy.id.as_str()))
            .collect();
        assert_eq!(
            handed, first_two,
            "the endpoint's room, oldest message first"
        );
        let sent = &written.handed[0];
        assert_eq!(sent.payload, messages[0].message.payload.clone().unwrap());
        assert_eq!(sent.url, roomy.url);
        assert_eq!(sent.secrets, std::slice::from_ref(&roomy.secret));
        assert_eq!(sent.headers, roomy.headers);
        assert_eq!(sent.attempts_made, 0);
        assert_eq!(written.queued.len(), 2, "both endpoints had some queued");

        // What was handed over is leased: a claim takes only what was queued, until the
        // lease runs out.
        let queued = claim(store, 0, 10).await;
        assert_eq!(queued.due.len(), 4);
        assert!(
            queued
                .due
                .iter()
                .all(|d| written.handed.iter().all(|h| h.id != d.id))
        );
        let expired = claim(store, LEASE + 1, 10).await;
        let mut again: Vec<_> = expired.due.iter().map(|d| d.id).collect();
        again.sort();
        let mut handed_ids: Vec<_> = written.handed.iter().map(|d| d.id).collect();
        handed_ids.extend(queued.due.iter().map(|d| d.id));
        handed_ids.sort();
        assert_eq!(
            again, handed_ids,
            "every lease ran out, handed over or claimed"
        );

        // The outcome of a handed-over delivery is recorded like any other.
        let delivered = outcome(sent, AttemptStatus::Success, 200, NextStep::Delivered);
        store.record_outcomes(&[delivered]).await.unwrap();
        let later = claim(store, 3 * LEASE, 10).await;
        assert!(later.due.iter().all(|d| d.id != sent.id));
    })
    .await;
}

/// The ids of the deliveries a batch hands over name the rows it stored for those messages
/// and endpoints: with event ids (some conflicting) and without.
#[tokio::test]
async fn handed_over_deliveries_carry_the_ids_they_were_stored_under() {
    each_store(async |store| {
        if !store.hands_over() {
            return;
        }
        let app = new_app(store).await;
        let first = new_endpoint(store, endpoint(&app.id)).await;
        let second = new_endpoint(store, endpoint(&app.id)).await;
        // Rows that are not handed over come before them.
        send(store, &[message(&app.id, "a")]).await;
        let taken = Message {
            event_id: Some("taken".to_owned()),
            ..message(&app.id, "a")
        };
        send(store, std::slice::from_ref(&taken)).await;
        let with_event_id = |id: Option<&str>| {
            NewMessage::new(Message {
                event_id: id.map(str::to_owned),
                ..message(&app.id, "a")
            })
        };
        let keyed = vec![
            with_event_id(Some("k1")),
            with_event_id(Some("taken")),
            with_event_id(None),
            with_event_id(Some("k2")),
        ];
        let batches = [
            (0..4).map(|_| with_event_id(None)).collect(),
            keyed.clone(),
            (0..2).map(|_| with_event_id(None)).collect::<Vec<_>>(),
        ];
        let handoff = handoff(vec![(second.id.clone(), 3)], 100, 100);
        let mut handed = Vec::new();
        for batch in &batches {
            let written = store.write_batch(batch, &[], Some(&handoff)).await.unwrap();
            handed.extend(written.handed);
        }
        // 4 + 3 to the first endpoint, 3 to the second; then the keyed batch's three messages
        // that go in (one conflicts, and takes no room): 3 + 3; then 2 + 2.
        assert_eq!(handed.len(), 17);
        assert!(handed.iter().all(|d| d.msg_id != keyed[1].message.id));
        let key = |d: &DueDelivery| (d.id.0, d.msg_id.to_string(), d.endpoint_id.to_string());
        let mut sent: Vec<_> = handed.iter().map(key).collect();
        sent.sort();
        // Once their leases run out, a claim reads the same rows back from the table.
        let mut stored: Vec<_> = claim(store, LEASE + 1, 100)
            .await
            .due
            .iter()
            .filter(|d| {
                handed
                    .iter()
                    .any(|h| h.msg_id == d.msg_id && h.endpoint_id == d.endpoint_id)
            })
            .map(key)
            .collect();
        stored.sort();
        assert_eq!(sent, stored);
        for endpoint in [&first, &second] {
            assert!(handed.iter().any(|d| d.endpoint_id == endpoint.id));
        }
    })
    .await;
}

/// A batch larger than one statement of the SQLite store takes (it binds rows in chunks of 32,
/// 8 and 1): every message and delivery goes in once, the ids reported for the handed
/// deliveries are those stored (their outcomes, recorded by id, finish exactly them), and
/// every attempt is logged.
#[tokio::test]
async fn a_batch_of_many_messages_writes_each_row_once_and_reports_the_stored_ids() {
    each_store(async |store| {
        let app = new_app(store).await;
        let roomy = new_endpoint(store, endpoint(&app.id)).await;
        let tight = new_endpoint(store, endpoint(&app.id)).await;
        let messages = new_messages(&app.id, 45);
        let handoff = handoff(vec![(tight.id.clone(), 7)], 100, 100);

        let written = store
            .write_batch(&messages, &[], Some(&handoff))
            .await
            .unwrap();

        assert!(
            written
                .inserted
                .iter()
                .all(|i| i.as_ref().unwrap().deliveries == 2)
        );
        let queued = claim(store, 0, 100).await.due;
        if !store.hands_over() {
            assert_eq!(queued.len(), 90);
            return;
        }
        assert_eq!((written.handed.len(), queued.len()), (52, 38));
        let mut ids: Vec<_> = written.handed.iter().chain(&queued).map(|d| d.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 90, "every delivery its own row");

        let delivered: Vec<Outcome> = written
            .handed
            .iter()
            .map(|d| outcome(d, AttemptStatus::Success, 200, NextStep::Delivered))
            .collect();
        let last = new_messages(&app.id, 1).remove(0);
        store
            .write_batch(std::slice::from_ref(&last), &delivered, None)
            .await
            .unwrap();

        // Past every lease: what the first claim took, and the last message's two; none of
        // the delivered ones.
        let again = claim(store, LEASE + 1, 100).await.due;
        let mut again_ids: Vec<_> = again.iter().map(|d| d.id).collect();
        again_ids.sort();
        let mut expected: Vec<_> = queued.iter().map(|d| d.id).collect();
        expected.extend(
            again
                .iter()
                .filter(|d| d.msg_id == last.message.id)
                .map(|d| d.id),
        );
        expected.sort();
        assert_eq!(again.len(), 40);
        assert_eq!(again_ids, expected);
        for (endpoint, attempts) in [(&roomy, 45), (&tight, 7)] {
            let logged = store
                .list_attempts_by_endpoint(
                    &app.id,
                    &endpoint.id,
                    &PageQuery {
                        limit: 100,
                        ..PageQuery::default()
                    },
                    &AttemptFilter::default(),
                )
                .await
                .unwrap();
            assert_eq!(logged.items.len(), attempts);
        }
    })
    .await;
}

#[tokio::test]
async fn a_handoff_never_goes_past_its_limit_or_to_a_message_without_payload() {
    each_store(async |store| {
        let app = new_app(store).await;
        for _ in 0..3 {
            new_endpoint(store, endpoint(&app.id)).await;
        }
        let blank = Message {
            payload: None,
            ..message(&app.id, "a")
        };
        let messages = vec![
            NewMessage::new(blank),
            NewMessage::new(message(&app.id, "a")),
        ];
        let handoff = handoff(Vec::new(), 5, 2);

        let written = store
            .write_batch(&messages, &[], Some(&handoff))
            .await
            .unwrap();

        if !store.hands_over() {
            assert!(written.handed.is_empty());
            return;
        }
        assert_eq!(written.handed.len(), 2, "the limit");
        assert!(
            written
                .handed
                .iter()
                .all(|d| d.msg_id == messages[1].message.id)
        );
        assert_eq!(written.queued.len(), 3);
    })
    .await;
}
