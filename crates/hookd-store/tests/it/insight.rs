//! The web UI's figures and the console's tokens, on every backend: attempts counted over time
//! and per endpoint, the queue's depth, endpoints waiting on retries, application counts, the
//! message log by delivery status, named admin tokens and read-only portal tokens.

use hookd_core::AttemptStatus;
use hookd_store::{
    MessageFilter, NextStep, Outcome, PageQuery, SeriesOf, Store, TokenRecord, TokenScope,
};

use crate::each_store;
use crate::fixtures::{T0, UNCAPPED, app, at, attempt, endpoint, message, new_endpoint, send};

const MINUTE: i64 = 60_000;

/// One application with two endpoints and three messages: the first endpoint takes the first
/// message, fails the second (a retry waits) and fails the third for good; the second endpoint
/// is never attempted. Returns (app, [first endpoint, second endpoint], messages).
async fn deliveries_with_every_outcome(
    store: &dyn Store,
) -> (
    hookd_core::Application,
    [hookd_core::Endpoint; 2],
    Vec<hookd_core::Message>,
) {
    let app = app();
    store.insert_application(&app).await.unwrap();
    let first = new_endpoint(store, endpoint(&app.id)).await;
    let second = new_endpoint(store, endpoint(&app.id)).await;
    let messages = vec![
        message(&app.id, "a"),
        message(&app.id, "b"),
        message(&app.id, "c"),
    ];
    send(store, &messages).await;
    let claim = store
        .claim_due(T0, at(30_000), 100, UNCAPPED, &[])
        .await
        .unwrap();
    let mine: Vec<_> = claim
        .due
        .iter()
        .filter(|d| d.endpoint_id == first.id)
        .collect();
    let steps = [
        (AttemptStatus::Success, 200, NextStep::Delivered),
        (AttemptStatus::Fail, 500, NextStep::RetryAt(at(MINUTE))),
        (AttemptStatus::Fail, 0, NextStep::Exhausted),
    ];
    let outcomes: Vec<Outcome> = mine
        .iter()
        .zip(steps)
        .map(|(due, (status, code, next))| Outcome {
            delivery: due.id,
            attempt: attempt(due, status, code),
            next,
        })
        .collect();
    store.record_outcomes(&outcomes).await.unwrap();
    let others: Vec<_> = claim
        .due
        .iter()
        .filter(|d| d.endpoint_id == second.id)
        .map(|d| d.id)
        .collect();
    store.release(&others).await.unwrap();
    (app, [first, second], messages)
}

#[tokio::test]
async fn attempts_are_counted_by_minute_and_by_endpoint() {
    each_store(async |store| {
        let (app, [first, second], _) = deliveries_with_every_outcome(store).await;
        let since = at(-2 * MINUTE);
        let series = store
            .attempt_series(
                SeriesOf::Endpoint(&app.id, &first.id),
                since,
                at(MINUTE),
                MINUTE,
            )
            .await
            .unwrap();
        let counts: Vec<_> = series
            .iter()
            .map(|b| (b.start, b.succeeded, b.failed))
            .collect();
        assert_eq!(counts, [(since, 0, 0), (at(-MINUTE), 0, 0), (T0, 1, 2)]);
        let everything = store
            .attempt_series(SeriesOf::All, since, at(MINUTE), MINUTE)
            .await
            .unwrap();
        assert_eq!(everything, series, "only this endpoint has attempts");
        let before = store
            .attempt_series(SeriesOf::All, at(-MINUTE), T0, MINUTE)
            .await
            .unwrap();
        assert_eq!(
            (before[0].succeeded, before[0].failed),
            (0, 0),
            "until is exclusive"
        );

        let mut totals = store
            .attempt_totals_by_endpoint(&app.id, since)
            .await
            .unwrap();
        totals.sort_by(|a, b| a.endpoint_id.cmp(&b.endpoint_id));
        let totals: Vec<_> = totals
            .iter()
            .map(|t| (t.endpoint_id.clone(), t.succeeded, t.failed))
            .collect();
        assert_eq!(
            totals,
            [(first.id.clone(), 1, 2), (second.id.clone(), 0, 0)]
        );
        let later = store
            .attempt_totals_by_endpoint(&app.id, at(MINUTE))
            .await
            .unwrap();
        assert!(
            later.iter().all(|t| t.succeeded + t.failed == 0),
            "{later:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn the_queue_counts_what_waits_and_which_endpoints_retry() {
    each_store(async |store| {
        let (app, [first, second], messages) = deliveries_with_every_outcome(store).await;
        // The second endpoint's three wait, due now; the first's retry waits a minute.
        let depth = store.queue_depth(T0).await.unwrap();
        assert_eq!((depth.pending, depth.due, depth.sending), (4, 3, 0));
        assert_eq!(store.queue_depth(at(MINUTE)).await.unwrap().due, 4);

        let retrying = store.retrying_endpoints(10).await.unwrap();
        assert_eq!(retrying.len(), 1, "{retrying:?}");
        assert_eq!(
            (&retrying[0].endpoint_id, &retrying[0].app_id),
            (&first.id, &app.id)
        );
        assert_eq!(
            (retrying[0].retrying, retrying[0].next_attempt_at),
            (1, Some(at(MINUTE)))
        );
        assert_eq!(retrying[0].url, first.url);

        let other = app_with_nothing(store).await;
        let mut counts = store
            .application_counts(&[app.id.clone(), other.clone()])
            .await
            .unwrap();
        counts.sort_by(|a, b| a.app_id.cmp(&b.app_id));
        let counts: Vec<_> = counts
            .iter()
            .map(|c| (c.app_id.clone(), c.endpoints, c.messages))
            .collect();
        assert_eq!(counts, [(app.id.clone(), 2, 3), (other, 0, 0)]);
        let _ = (second, messages);
    })
    .await;
}

async fn app_with_nothing(store: &dyn Store) -> hookd_core::AppId {
    let other = app();
    store.insert_application(&other).await.unwrap();
    other.id
}

#[tokio::test]
async fn the_message_log_filters_on_how_any_delivery_stands() {
    each_store(async |store| {
        let (app, _, messages) = deliveries_with_every_outcome(store).await;
        let ids = async |status| {
            let page = store
                .list_messages_by_delivery_status(
                    &app.id,
                    &PageQuery::default(),
                    &MessageFilter::default(),
                    status,
                )
                .await
                .unwrap();
            page.items.into_iter().map(|m| m.id).collect::<Vec<_>>()
        };
        let [a, b, c] = [0, 1, 2].map(|i| messages[i].id.clone());
        assert_eq!(ids(AttemptStatus::Success).await, std::slice::from_ref(&a));
        assert_eq!(ids(AttemptStatus::Fail).await, std::slice::from_ref(&c));
        // Every message waits for the second endpoint; the second also waits for a retry.
        assert_eq!(
            ids(AttemptStatus::Pending).await,
            [c.clone(), b.clone(), a.clone()]
        );
        let only_b = MessageFilter {
            event_types: Some(vec!["b".to_owned()]),
            ..MessageFilter::default()
        };
        let page = store
            .list_messages_by_delivery_status(
                &app.id,
                &PageQuery::default(),
                &only_b,
                AttemptStatus::Pending,
            )
            .await
            .unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.items[0].id, b);
    })
    .await;
}

#[tokio::test]
async fn admin_tokens_are_listed_with_their_names_and_portal_tokens_keep_read_only() {
    each_store(async |store| {
        let app = app();
        store.insert_application(&app).await.unwrap();
        let record = |hash: &str, scope, created| TokenRecord {
            hash: hash.to_owned(),
            scope,
            created_at: at(created),
            expires_at: None,
        };
        store
            .insert_token(&record("first", TokenScope::Admin, 0))
            .await
            .unwrap();
        let named = record("second", TokenScope::Admin, 1);
        store.insert_named_token(&named, "deploys").await.unwrap();
        let viewer = record("viewer", TokenScope::ApplicationReadOnly(app.id.clone()), 2);
        store.insert_token(&viewer).await.unwrap();
        let editor = record("editor", TokenScope::Application(app.id.clone()), 3);
        store.insert_token(&editor).await.unwrap();

        let listed = store.list_admin_tokens().await.unwrap();
        let listed: Vec<_> = listed
            .iter()
            .map(|t| (t.hash.as_str(), t.name.as_deref(), t.created_at))
            .collect();
        assert_eq!(
            listed,
            [("first", None, at(0)), ("second", Some("deploys"), at(1))]
        );
        assert_eq!(store.find_token("viewer").await.unwrap(), Some(viewer));
        assert_eq!(store.find_token("editor").await.unwrap(), Some(editor));
        assert!(store.delete_token("second").await.unwrap());
        assert_eq!(store.list_admin_tokens().await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn endpoints_are_found_by_id_alone_with_their_application() {
    each_store(async |store| {
        let (app, [first, _], _) = deliveries_with_every_outcome(store).await;
        let gone = hookd_core::EndpointId::first_at(1);
        let refs = store
            .endpoint_refs(&[first.id.clone(), gone])
            .await
            .unwrap();
        assert_eq!(refs.len(), 1);
        assert_eq!(
            (&refs[0].app_id, &refs[0].endpoint_id, &refs[0].url),
            (&app.id, &first.id, &first.url)
        );
    })
    .await;
}
