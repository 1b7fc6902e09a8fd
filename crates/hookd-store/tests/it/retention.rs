//! Retention: payloads past their retention period, `prune_before`, the attempt list's
//! endpoint filter, and the lock that keeps a second node out of the sweep.

use hookd_core::{AttemptStatus, Message};
use hookd_store::{AttemptFilter, NextStep, Outcome, PageQuery, Pruned, Sharing, Store};

use crate::each_store;
use crate::fixtures::{UNCAPPED, at, attempt, endpoint, message, new_app, new_endpoint, send};

const DAY: i64 = 86_400_000;

fn kept_for(mut msg: Message, days: i64, created: i64) -> Message {
    msg.retention_days = days;
    msg.created_at = at(created);
    msg
}

/// Claims every due delivery and records an attempt for each, ending as `next` says.
async fn attempt_all(store: &dyn Store, now: i64, next: NextStep) {
    let due = store
        .claim_due(at(now), at(now + 60_000), 100, UNCAPPED, &[])
        .await
        .unwrap()
        .due;
    let outcomes: Vec<Outcome> = due
        .iter()
        .map(|d| Outcome {
            delivery: d.id,
            attempt: hookd_core::Attempt {
                created_at: at(now),
                ..attempt(d, AttemptStatus::Fail, 500)
            },
            next,
        })
        .collect();
    store.record_outcomes(&outcomes).await.unwrap();
}

#[tokio::test]
async fn payloads_past_their_retention_are_removed_in_batches_and_their_pending_deliveries_fail() {
    each_store(async |store| {
        let app = new_app(store).await;
        new_endpoint(store, endpoint(&app.id)).await;
        let short = kept_for(message(&app.id, "a"), 5, 0);
        let short_too = kept_for(message(&app.id, "a"), 5, 1);
        let long = kept_for(message(&app.id, "a"), 90, 0);
        send(store, &[short.clone(), short_too.clone(), long.clone()]).await;
        attempt_all(store, 10, NextStep::RetryAt(at(6 * DAY))).await;

        assert_eq!(store.expire_payloads(at(5 * DAY - 1), 10).await.unwrap(), 0);
        assert_eq!(store.expire_payloads(at(5 * DAY + 1), 1).await.unwrap(), 1);
        assert_eq!(store.expire_payloads(at(5 * DAY + 1), 10).await.unwrap(), 1);
        assert_eq!(store.expire_payloads(at(5 * DAY + 1), 10).await.unwrap(), 0);
        for (msg, payload_kept) in [(&short, false), (&short_too, false), (&long, true)] {
            let stored = store
                .get_message(&app.id, msg.id.as_str())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(stored.payload.is_some(), payload_kept, "{}", msg.id);
        }
        let due = store
            .claim_due(at(7 * DAY), at(8 * DAY), 10, UNCAPPED, &[])
            .await
            .unwrap()
            .due;
        let due: Vec<_> = due.iter().map(|d| &d.msg_id).collect();
        assert_eq!(
            due,
            [&long.id],
            "nothing is left to send for the expired ones"
        );
    })
    .await;
}

#[tokio::test]
async fn pruning_deletes_old_finished_messages_their_deliveries_and_old_attempts_in_batches() {
    each_store(async |store| {
        let app = new_app(store).await;
        new_endpoint(store, endpoint(&app.id)).await;
        let old: Vec<Message> = (0..3)
            .map(|n| kept_for(message(&app.id, "a"), 90, n))
            .collect();
        send(store, &old).await;
        attempt_all(store, 10, NextStep::Exhausted).await;
        let recent = kept_for(message(&app.id, "a"), 90, 40 * DAY);
        send(store, std::slice::from_ref(&recent)).await;
        attempt_all(store, 40 * DAY, NextStep::Exhausted).await;

        let cutoff = at(30 * DAY);
        let first = store.prune_before(cutoff, 2).await.unwrap();
        assert_eq!(
            first,
            Pruned {
                messages: 2,
                attempts: 2,
                deliveries: 2
            }
        );
        let second = store.prune_before(cutoff, 2).await.unwrap();
        assert_eq!(
            second,
            Pruned {
                messages: 1,
                attempts: 1,
                deliveries: 1
            }
        );
        assert!(store.prune_before(cutoff, 2).await.unwrap().is_empty());

        let (page, filter) = (PageQuery::default(), Default::default());
        let left = store
            .list_messages(&app.id, &page, &filter)
            .await
            .unwrap()
            .items;
        assert_eq!(left.iter().map(|m| &m.id).collect::<Vec<_>>(), [&recent.id]);
        let attempts = store
            .list_attempts_by_message(&app.id, &recent.id, &page, &AttemptFilter::default())
            .await
            .unwrap();
        assert_eq!(attempts.items.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn pruning_keeps_an_old_message_whose_delivery_is_still_queued() {
    each_store(async |store| {
        let app = new_app(store).await;
        new_endpoint(store, endpoint(&app.id)).await;
        let waiting = kept_for(message(&app.id, "a"), 90, 0);
        send(store, std::slice::from_ref(&waiting)).await;
        attempt_all(store, 10, NextStep::RetryAt(at(40 * DAY))).await;

        let pruned = store.prune_before(at(30 * DAY), 10).await.unwrap();
        assert_eq!(
            pruned,
            Pruned {
                messages: 0,
                attempts: 1,
                deliveries: 0
            }
        );
        assert!(
            store
                .get_message(&app.id, waiting.id.as_str())
                .await
                .unwrap()
                .is_some()
        );
        let due = store
            .claim_due(at(40 * DAY), at(41 * DAY), 10, UNCAPPED, &[])
            .await
            .unwrap();
        assert_eq!(due.due.len(), 1, "its retry still falls due");
    })
    .await;
}

#[tokio::test]
async fn attempts_of_a_message_are_filtered_by_endpoint_across_pages() {
    each_store(async |store| {
        let app = new_app(store).await;
        let a = new_endpoint(store, endpoint(&app.id)).await;
        new_endpoint(store, endpoint(&app.id)).await;
        let msg = message(&app.id, "a");
        send(store, std::slice::from_ref(&msg)).await;
        for round in 0..3 {
            attempt_all(store, round, NextStep::RetryAt(at(round + 1))).await;
        }
        let filter = AttemptFilter {
            endpoint_id: Some(a.id.clone()),
            ..AttemptFilter::default()
        };
        let page = PageQuery {
            limit: 2,
            ..PageQuery::default()
        };
        let first = store
            .list_attempts_by_message(&app.id, &msg.id, &page, &filter)
            .await
            .unwrap();
        assert_eq!(
            (first.items.len(), first.done),
            (2, false),
            "a full page of a's attempts"
        );
        assert!(
            first
                .items
                .iter()
                .all(|attempt| attempt.endpoint_id == a.id)
        );
        let next = PageQuery {
            iterator: first.iterator.clone(),
            ..page
        };
        let rest = store
            .list_attempts_by_message(&app.id, &msg.id, &next, &filter)
            .await
            .unwrap();
        assert_eq!((rest.items.len(), rest.done), (1, true));
        assert_eq!(rest.items[0].endpoint_id, a.id);
    })
    .await;
}

#[tokio::test]
async fn one_sweep_lock_at_a_time_where_nodes_share_the_store() {
    each_store(async |store| {
        let held = store.lock_sweep().await.unwrap().expect("free at first");
        let second = store.lock_sweep().await.unwrap();
        match store.sharing() {
            Sharing::Nodes => assert!(second.is_none(), "another session holds it"),
            Sharing::ThisProcess => assert!(second.is_some(), "the process is alone"),
        }
        if let Some(second) = second {
            second.release().await;
        }
        held.release().await;
        let again = store
            .lock_sweep()
            .await
            .unwrap()
            .expect("free after release");
        again.release().await;
    })
    .await;
}
