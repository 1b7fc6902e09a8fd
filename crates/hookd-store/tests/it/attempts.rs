//! The attempt log: lists by endpoint and by message, their filters, and single lookups.

use hookd_core::{AppId, Attempt, AttemptStatus, Endpoint, EndpointId, Message, MessageId};
use hookd_store::{AttemptFilter, NextStep, Outcome, PageQuery, Store};

use crate::each_store;
use crate::fixtures::{
    T0, UNCAPPED, at, attempt, endpoint, message, new_app, new_endpoint, send, strings,
};

/// Claims everything due and records one attempt per delivery, answered with the codes given
/// in claim order (oldest message first); a 2xx is a success, anything else a failure.
async fn attempt_all(store: &dyn Store, codes: &[i16]) -> Vec<Attempt> {
    let due = store
        .claim_due(at(1_000), at(31_000), 100, UNCAPPED, &[])
        .await
        .unwrap()
        .due;
    assert_eq!(due.len(), codes.len());
    let outcomes: Vec<Outcome> = due
        .iter()
        .zip(codes)
        .enumerate()
        .map(|(i, (due, &code))| {
            let status = if (200..300).contains(&code) {
                AttemptStatus::Success
            } else {
                AttemptStatus::Fail
            };
            let attempt = Attempt {
                created_at: at(i64::try_from(i).unwrap()),
                ..attempt(due, status, code)
            };
            Outcome {
                delivery: due.id,
                attempt,
                next: NextStep::Exhausted,
            }
        })
        .collect();
    store.record_outcomes(&outcomes).await.unwrap();
    outcomes.into_iter().map(|o| o.attempt).collect()
}

async fn by_endpoint(
    store: &dyn Store,
    app: &AppId,
    ep: &EndpointId,
    filter: AttemptFilter,
) -> Vec<i16> {
    let page = store
        .list_attempts_by_endpoint(app, ep, &PageQuery::default(), &filter)
        .await;
    page.unwrap()
        .items
        .iter()
        .map(|a| a.response_status_code)
        .collect()
}

async fn by_message(store: &dyn Store, app: &AppId, msg: &MessageId) -> Vec<Attempt> {
    let (page, filter) = (PageQuery::default(), AttemptFilter::default());
    store
        .list_attempts_by_message(app, msg, &page, &filter)
        .await
        .unwrap()
        .items
}

#[tokio::test]
async fn attempts_are_listed_by_endpoint_and_by_message_newest_first() {
    each_store(async |store| {
        let app = new_app(store).await;
        let first = new_endpoint(store, endpoint(&app.id)).await;
        let second = new_endpoint(store, endpoint(&app.id)).await;
        let messages = [message(&app.id, "a"), message(&app.id, "b")];
        send(store, &messages).await;
        let attempts = attempt_all(store, &[200, 201, 202, 203]).await;

        let on_first: Vec<_> = attempts
            .iter()
            .filter(|a| a.endpoint_id == first.id)
            .rev()
            .cloned()
            .collect();
        let (page, filter) = (PageQuery::default(), AttemptFilter::default());
        let listed = store
            .list_attempts_by_endpoint(&app.id, &first.id, &page, &filter)
            .await;
        assert_eq!(listed.unwrap().items, on_first);
        assert_eq!(
            by_endpoint(store, &app.id, &second.id, AttemptFilter::default())
                .await
                .len(),
            2
        );
        let of_second_message: Vec<_> = attempts
            .iter()
            .filter(|a| a.msg_id == messages[1].id)
            .rev()
            .cloned()
            .collect();
        assert_eq!(
            by_message(store, &app.id, &messages[1].id).await,
            of_second_message
        );
        let other = new_app(store).await;
        assert!(
            by_message(store, &other.id, &messages[1].id)
                .await
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn attempts_are_filtered_by_status_and_status_code_class() {
    each_store(async |store| {
        let app = new_app(store).await;
        let ep = new_endpoint(store, endpoint(&app.id)).await;
        let messages: Vec<_> = (0..6).map(|_| message(&app.id, "a")).collect();
        send(store, &messages).await;
        attempt_all(store, &[200, 500, 0, 404, 299, 302]).await;
        let list = async |filter| by_endpoint(store, &app.id, &ep.id, filter).await;
        let status = |s| AttemptFilter {
            status: Some(s),
            ..AttemptFilter::default()
        };
        let class = |c| AttemptFilter {
            status_code_class: Some(c),
            ..AttemptFilter::default()
        };

        assert_eq!(list(status(AttemptStatus::Success)).await, [299, 200]);
        assert_eq!(list(status(AttemptStatus::Fail)).await, [302, 404, 0, 500]);
        assert_eq!(list(class(0)).await, [0]);
        assert_eq!(list(class(200)).await, [299, 200]);
        assert_eq!(list(class(300)).await, [302]);
        assert_eq!(list(class(400)).await, [404]);
        assert_eq!(list(class(500)).await, [500]);
        let both = AttemptFilter {
            status: Some(AttemptStatus::Success),
            ..class(500)
        };
        assert!(list(both).await.is_empty());
        let window = AttemptFilter {
            after: Some(at(1)),
            before: Some(at(4)),
            ..AttemptFilter::default()
        };
        assert_eq!(list(window).await, [404, 0]);
    })
    .await;
}

#[tokio::test]
async fn attempts_are_filtered_by_their_message_event_type_and_channel() {
    each_store(async |store| {
        let app = new_app(store).await;
        let ep = new_endpoint(
            store,
            Endpoint {
                ..endpoint(&app.id)
            },
        )
        .await;
        send(
            store,
            &[
                Message {
                    channels: Some(strings(&["eu"])),
                    ..message(&app.id, "order.created")
                },
                Message {
                    channels: Some(strings(&["us"])),
                    ..message(&app.id, "order.created")
                },
                Message {
                    channels: Some(strings(&["eu"])),
                    ..message(&app.id, "invoice.paid")
                },
            ],
        )
        .await;
        attempt_all(store, &[201, 202, 203]).await;
        let list = async |filter| by_endpoint(store, &app.id, &ep.id, filter).await;

        let orders = AttemptFilter {
            event_types: Some(strings(&["order.created"])),
            ..AttemptFilter::default()
        };
        assert_eq!(list(orders.clone()).await, [202, 201]);
        let eu = AttemptFilter {
            channel: Some("eu".to_owned()),
            ..AttemptFilter::default()
        };
        assert_eq!(list(eu).await, [203, 201]);
        let eu_orders = AttemptFilter {
            channel: Some("eu".to_owned()),
            ..orders
        };
        assert_eq!(list(eu_orders).await, [201]);
    })
    .await;
}

#[tokio::test]
async fn an_attempt_is_found_only_under_its_own_message() {
    each_store(async |store| {
        let app = new_app(store).await;
        new_endpoint(store, endpoint(&app.id)).await;
        let messages = [message(&app.id, "a"), message(&app.id, "b")];
        send(store, &messages).await;
        let attempts = attempt_all(store, &[200, 500]).await;
        let first = &attempts[0];

        let found = store
            .get_attempt(&app.id, &first.msg_id, first.id.as_str())
            .await
            .unwrap();
        assert_eq!(found.as_ref(), Some(first));
        assert_eq!(
            store
                .get_attempt(&app.id, &messages[1].id, first.id.as_str())
                .await
                .unwrap(),
            None
        );
        assert_eq!(first.created_at, T0);
    })
    .await;
}

#[tokio::test]
async fn free_text_holding_a_nul_character_is_stored_with_a_replacement_character() {
    each_store(async |store| {
        let app = hookd_core::Application {
            name: "Ac\0me".to_owned(),
            ..crate::fixtures::app()
        };
        store.insert_application(&app).await.unwrap();
        let ep = new_endpoint(
            store,
            Endpoint {
                description: "main\0".to_owned(),
                ..endpoint(&app.id)
            },
        )
        .await;
        send(store, &[message(&app.id, "a")]).await;
        let due = store
            .claim_due(T0, at(30_000), 1, UNCAPPED, &[])
            .await
            .unwrap()
            .due
            .remove(0);
        let answered = Attempt {
            response: "bad\0body".to_owned(),
            ..attempt(&due, AttemptStatus::Fail, 500)
        };
        let outcome = Outcome {
            delivery: due.id,
            attempt: answered,
            next: NextStep::Exhausted,
        };
        store.record_outcomes(&[outcome]).await.unwrap();

        let stored = store.get_application(app.id.as_str()).await.unwrap();
        assert_eq!(stored.unwrap().name, "Ac\u{FFFD}me");
        let stored = store.get_endpoint(&app.id, ep.id.as_str()).await.unwrap();
        assert_eq!(stored.unwrap().description, "main\u{FFFD}");
        let logged = by_message(store, &app.id, &due.msg_id).await;
        assert_eq!(logged[0].response, "bad\u{FFFD}body");
    })
    .await;
}
