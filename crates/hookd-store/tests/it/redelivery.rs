//! Sending again and what the queue tells: resend, recover, destinations, the messages queued
//! for an endpoint, stats, and removing content.

use hookd_core::{AppId, AttemptStatus, Endpoint, Message, TriggerType};
use hookd_store::{
    DeliveryState, EndpointStats, NextStep, Outcome, PageQuery, QueuedMessageFilter, Resend, Store,
};

use crate::each_store;
use crate::fixtures::{T0, UNCAPPED, at, attempt, endpoint, message, new_app, new_endpoint, send};

/// An application with one endpoint and one message created at `T0 + created`.
async fn one_delivery(store: &dyn Store, created: i64) -> (AppId, Endpoint, Message) {
    let app = new_app(store).await;
    let ep = new_endpoint(store, endpoint(&app.id)).await;
    let msg = Message {
        created_at: at(created),
        ..message(&app.id, "a")
    };
    send(store, std::slice::from_ref(&msg)).await;
    (app.id, ep, msg)
}

/// Claims everything due at `now` and records each as ending with `next`.
async fn attempt_all(store: &dyn Store, now: i64, status: AttemptStatus, next: NextStep) -> usize {
    let claim = store
        .claim_due(at(now), at(now + 30_000), 100, UNCAPPED, &[])
        .await
        .unwrap();
    let outcomes: Vec<Outcome> = claim
        .due
        .iter()
        .map(|due| Outcome {
            delivery: due.id,
            attempt: attempt(due, status, 500),
            next,
        })
        .collect();
    store.record_outcomes(&outcomes).await.unwrap();
    outcomes.len()
}

fn state(status: AttemptStatus) -> DeliveryState {
    DeliveryState {
        status,
        next_attempt: None,
    }
}

#[tokio::test]
async fn a_resend_queues_a_manual_delivery_even_after_success() {
    each_store(async |store| {
        let (app, ep, msg) = one_delivery(store, 0).await;
        attempt_all(store, 0, AttemptStatus::Success, NextStep::Delivered).await;

        let resent = store
            .queue_resend(&app, &msg.id, &ep.id, at(10))
            .await
            .unwrap();

        assert_eq!(resent, Resend::Queued);
        let claim = store
            .claim_due(at(10), at(100), 10, UNCAPPED, &[])
            .await
            .unwrap();
        assert_eq!(claim.due.len(), 1);
        assert_eq!(claim.due[0].trigger, TriggerType::Manual);
        assert_eq!(claim.due[0].msg_id, msg.id);
    })
    .await;
}

#[tokio::test]
async fn a_resend_of_an_unknown_message_or_endpoint_or_removed_payload_queues_nothing() {
    each_store(async |store| {
        let (app, ep, msg) = one_delivery(store, 0).await;
        let stranger = endpoint(&app);
        let unknown = message(&app, "a");

        let no_endpoint = store.queue_resend(&app, &msg.id, &stranger.id, T0).await;
        let no_message = store.queue_resend(&app, &unknown.id, &ep.id, T0).await;
        assert!(store.expunge_message_payload(&app, &msg.id).await.unwrap());
        let no_payload = store.queue_resend(&app, &msg.id, &ep.id, T0).await;

        assert_eq!(no_endpoint.unwrap(), Resend::NotFound);
        assert_eq!(no_message.unwrap(), Resend::NotFound);
        assert_eq!(no_payload.unwrap(), Resend::PayloadRemoved);
        let claim = store
            .claim_due(at(10), at(100), 10, UNCAPPED, &[])
            .await
            .unwrap();
        assert!(
            claim.due.is_empty(),
            "the pending delivery failed with its payload"
        );
    })
    .await;
}

#[tokio::test]
async fn recover_sends_again_only_what_failed_for_good_in_the_window() {
    each_store(async |store| {
        let (app, ep, early) = one_delivery(store, 0).await;
        let late = Message {
            created_at: at(500),
            ..message(&app, "a")
        };
        send(store, std::slice::from_ref(&late)).await;
        assert_eq!(
            attempt_all(store, 500, AttemptStatus::Fail, NextStep::Exhausted).await,
            2
        );

        let recovered = store
            .recover_failed(&app, &ep.id, at(100), None, at(600))
            .await
            .unwrap();

        assert_eq!(recovered, 1);
        let claim = store
            .claim_due(at(600), at(700), 10, UNCAPPED, &[])
            .await
            .unwrap();
        assert_eq!(claim.due.len(), 1);
        assert_eq!(claim.due[0].msg_id, late.id);
        assert_eq!(claim.due[0].trigger, TriggerType::Manual);
        let recovered_early = store
            .recover_failed(&app, &ep.id, T0, Some(at(1)), at(700))
            .await
            .unwrap();
        assert_eq!(recovered_early, 1, "the early one, inside [0, 1)");
        let claim = store
            .claim_due(at(700), at(800), 10, UNCAPPED, &[])
            .await
            .unwrap();
        assert_eq!(claim.due[0].msg_id, early.id);
    })
    .await;
}

#[tokio::test]
async fn destinations_and_queued_messages_show_the_newest_delivery_of_each_pair() {
    each_store(async |store| {
        let (app, ep, msg) = one_delivery(store, 0).await;
        attempt_all(store, 0, AttemptStatus::Fail, NextStep::RetryAt(at(50))).await;
        let page = PageQuery::default();

        let destinations = store.list_destinations(&app, &msg.id, &page).await.unwrap();
        assert_eq!(destinations.items.len(), 1);
        assert_eq!(destinations.items[0].endpoint.id, ep.id);
        let pending = DeliveryState {
            status: AttemptStatus::Pending,
            next_attempt: Some(at(50)),
        };
        assert_eq!(destinations.items[0].state, pending);

        attempt_all(store, 50, AttemptStatus::Fail, NextStep::Exhausted).await;
        store
            .queue_resend(&app, &msg.id, &ep.id, at(60))
            .await
            .unwrap();
        attempt_all(store, 60, AttemptStatus::Success, NextStep::Delivered).await;

        let filter = QueuedMessageFilter::default();
        let queued = store
            .list_queued_messages(&app, &ep.id, &page, &filter)
            .await
            .unwrap();
        assert_eq!(queued.items.len(), 1, "one row per message, the newest");
        assert_eq!(queued.items[0].message, msg);
        assert_eq!(queued.items[0].state, state(AttemptStatus::Success));
        let failed = QueuedMessageFilter {
            status: Some(AttemptStatus::Fail),
            ..QueuedMessageFilter::default()
        };
        let none = store
            .list_queued_messages(&app, &ep.id, &page, &failed)
            .await
            .unwrap();
        assert!(none.items.is_empty());
    })
    .await;
}

#[tokio::test]
async fn stats_count_each_message_once_within_the_time_range() {
    each_store(async |store| {
        let (app, ep, _) = one_delivery(store, 0).await;
        attempt_all(store, 0, AttemptStatus::Fail, NextStep::Exhausted).await;
        let later = Message {
            created_at: at(1_000),
            ..message(&app, "a")
        };
        send(store, std::slice::from_ref(&later)).await;

        let all = store
            .endpoint_stats(&app, &ep.id, None, None)
            .await
            .unwrap();
        let early = store
            .endpoint_stats(&app, &ep.id, None, Some(at(1_000)))
            .await
            .unwrap();

        let expected = EndpointStats {
            fail: 1,
            pending: 1,
            ..EndpointStats::default()
        };
        assert_eq!(all, expected);
        assert_eq!(
            early,
            EndpointStats {
                fail: 1,
                ..EndpointStats::default()
            }
        );
    })
    .await;
}

#[tokio::test]
async fn expunging_removes_a_payload_or_an_attempts_response() {
    each_store(async |store| {
        let (app, _, msg) = one_delivery(store, 0).await;
        let claim = store
            .claim_due(T0, at(100), 10, UNCAPPED, &[])
            .await
            .unwrap();
        let mut logged = attempt(&claim.due[0], AttemptStatus::Success, 200);
        logged.response = "secret response".to_owned();
        let outcome = Outcome {
            delivery: claim.due[0].id,
            attempt: logged.clone(),
            next: NextStep::Delivered,
        };
        store.record_outcomes(&[outcome]).await.unwrap();

        assert!(store.expunge_message_payload(&app, &msg.id).await.unwrap());
        let expunged = store
            .expunge_attempt_response(&app, &msg.id, logged.id.as_str())
            .await
            .unwrap();

        assert!(expunged);
        let read = store
            .get_message(&app, msg.id.as_str())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read.payload, None);
        let read = store
            .get_attempt(&app, &msg.id, logged.id.as_str())
            .await
            .unwrap();
        assert_eq!(read.unwrap().response, "");
        let unknown = message(&app, "a");
        assert!(
            !store
                .expunge_message_payload(&app, &unknown.id)
                .await
                .unwrap()
        );
    })
    .await;
}
