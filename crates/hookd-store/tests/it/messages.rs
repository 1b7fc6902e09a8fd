//! Messages: lookups, list filters, the fan-out to endpoints, and event-id conflicts.

use hookd_core::{Endpoint, Message};
use hookd_store::{MessageFilter, NewMessage, PageQuery, Store, StoreError};

use crate::each_store;
use crate::fixtures::{T0, UNCAPPED, at, endpoint, message, new_app, new_endpoint, send, strings};

fn with_event_id(msg: Message, event_id: &str) -> Message {
    Message {
        event_id: Some(event_id.to_owned()),
        ..msg
    }
}

#[tokio::test]
async fn every_payload_of_a_batch_is_stored_exactly_as_sent() {
    each_store(async |store| {
        let app = new_app(store).await;
        let payloads = [
            Some(r#"{"a":"ü, 😀, \"quoted\", \u00e9"}"#.to_owned()),
            None,
            Some("{}".to_owned()),
            Some(format!(r#"{{"big":"{}"}}"#, "x".repeat(70_000))),
            Some(r#"[1,   2.50, null]"#.to_owned()),
        ];
        let batch: Vec<Message> = payloads
            .iter()
            .map(|payload| Message {
                payload: payload.clone(),
                ..message(&app.id, "a")
            })
            .collect();
        send(store, &batch).await;

        for sent in &batch {
            let stored = store.get_message(&app.id, sent.id.as_str()).await.unwrap();
            assert_eq!(stored.as_ref(), Some(sent));
        }
    })
    .await;
}

#[tokio::test]
async fn a_message_is_found_by_id_or_by_event_id_within_its_application() {
    each_store(async |store| {
        let app = new_app(store).await;
        let other = new_app(store).await;
        let msg = Message {
            channels: Some(strings(&["eu", "vip"])),
            ..with_event_id(message(&app.id, "order.created"), "evt-1")
        };
        send(store, std::slice::from_ref(&msg)).await;

        assert_eq!(
            store.get_message(&app.id, msg.id.as_str()).await.unwrap(),
            Some(msg.clone())
        );
        assert_eq!(
            store.get_message(&app.id, "evt-1").await.unwrap(),
            Some(msg.clone())
        );
        assert_eq!(
            store.get_message(&other.id, msg.id.as_str()).await.unwrap(),
            None
        );
        assert_eq!(store.get_message(&other.id, "evt-1").await.unwrap(), None);
    })
    .await;
}

async fn listed(store: &dyn Store, app: &hookd_core::AppId, filter: MessageFilter) -> Vec<String> {
    let page = store
        .list_messages(app, &PageQuery::default(), &filter)
        .await
        .unwrap();
    page.items.into_iter().map(|m| m.event_type).collect()
}

#[tokio::test]
async fn messages_are_filtered_by_event_type_channel_and_time() {
    each_store(async |store| {
        let app = new_app(store).await;
        let messages = [
            Message {
                created_at: at(0),
                ..message(&app.id, "a")
            },
            Message {
                channels: Some(strings(&["eu"])),
                created_at: at(10),
                ..message(&app.id, "b")
            },
            Message {
                channels: Some(strings(&["us", "eu"])),
                created_at: at(20),
                ..message(&app.id, "c")
            },
            Message {
                channels: Some(strings(&["us"])),
                created_at: at(30),
                ..message(&app.id, "a")
            },
        ];
        send(store, &messages).await;
        let filter = MessageFilter::default;

        assert_eq!(listed(store, &app.id, filter()).await, ["a", "c", "b", "a"]);
        let types = Some(strings(&["a", "c"]));
        assert_eq!(
            listed(
                store,
                &app.id,
                MessageFilter {
                    event_types: types,
                    ..filter()
                }
            )
            .await,
            ["a", "c", "a"]
        );
        let eu = Some("eu".to_owned());
        assert_eq!(
            listed(
                store,
                &app.id,
                MessageFilter {
                    channel: eu,
                    ..filter()
                }
            )
            .await,
            ["c", "b"]
        );
        let window = MessageFilter {
            after: Some(at(0)),
            before: Some(at(30)),
            ..filter()
        };
        assert_eq!(listed(store, &app.id, window).await, ["c", "b"]);
        let all = MessageFilter {
            event_types: Some(strings(&["a"])),
            channel: Some("us".to_owned()),
            after: Some(at(20)),
            before: None,
        };
        assert_eq!(listed(store, &app.id, all).await, ["a"]);
        let empty_types = MessageFilter {
            event_types: Some(Vec::new()),
            ..filter()
        };
        assert_eq!(
            listed(store, &app.id, empty_types).await.len(),
            4,
            "an empty list allows all"
        );
    })
    .await;
}

#[tokio::test]
async fn a_message_fans_out_to_the_enabled_endpoints_whose_filters_match() {
    each_store(async |store| {
        let app = new_app(store).await;
        let other_app = new_app(store).await;
        let everything = new_endpoint(store, endpoint(&app.id)).await;
        let orders = Endpoint {
            event_types: Some(strings(&["order.created"])),
            ..endpoint(&app.id)
        };
        let orders = new_endpoint(store, orders).await;
        let invoices = Endpoint {
            event_types: Some(strings(&["invoice.paid"])),
            ..endpoint(&app.id)
        };
        new_endpoint(store, invoices).await;
        let eu = new_endpoint(
            store,
            Endpoint {
                channels: Some(strings(&["eu"])),
                ..endpoint(&app.id)
            },
        )
        .await;
        new_endpoint(
            store,
            Endpoint {
                channels: Some(strings(&["us"])),
                ..endpoint(&app.id)
            },
        )
        .await;
        new_endpoint(
            store,
            Endpoint {
                disabled: true,
                ..endpoint(&app.id)
            },
        )
        .await;
        new_endpoint(store, endpoint(&other_app.id)).await;

        let msg = Message {
            channels: Some(strings(&["eu"])),
            ..message(&app.id, "order.created")
        };
        let inserted = send(store, std::slice::from_ref(&msg)).await;

        assert_eq!(inserted[0].msg_id, msg.id);
        assert_eq!(inserted[0].deliveries, 3);
        let claim = store
            .claim_due(T0, at(30_000), 100, UNCAPPED, &[])
            .await
            .unwrap();
        let mut reached: Vec<_> = claim.due.iter().map(|d| d.endpoint_id.clone()).collect();
        reached.sort();
        assert_eq!(reached, [everything.id, orders.id, eu.id]);
        assert!(
            claim
                .due
                .iter()
                .all(|d| d.msg_id == msg.id && d.attempts_made == 0)
        );
    })
    .await;
}

#[tokio::test]
async fn a_message_with_no_matching_endpoint_is_stored_without_deliveries() {
    each_store(async |store| {
        let app = new_app(store).await;
        let msg = message(&app.id, "a");

        assert_eq!(
            send(store, std::slice::from_ref(&msg)).await[0].deliveries,
            0
        );
        assert_eq!(
            store.get_message(&app.id, msg.id.as_str()).await.unwrap(),
            Some(msg)
        );
        assert!(
            store
                .claim_due(T0, at(1), 10, UNCAPPED, &[])
                .await
                .unwrap()
                .due
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn an_event_id_conflict_in_the_middle_of_a_batch_leaves_the_others_committed() {
    each_store(async |store| {
        let app = new_app(store).await;
        new_endpoint(store, endpoint(&app.id)).await;
        send(store, &[with_event_id(message(&app.id, "a"), "taken")]).await;

        let batch = [
            with_event_id(message(&app.id, "b"), "fresh-1"),
            with_event_id(message(&app.id, "c"), "taken"),
            with_event_id(message(&app.id, "d"), "fresh-2"),
            with_event_id(message(&app.id, "e"), "fresh-2"),
            message(&app.id, "f"),
        ];
        let new: Vec<_> = batch.iter().map(|m| NewMessage::new(m.clone())).collect();
        let results = store.insert_messages(&new).await.unwrap();

        let accepted: Vec<bool> = results.iter().map(Result::is_ok).collect();
        assert_eq!(accepted, [true, false, true, false, true]);
        let err = results[1].as_ref().unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict("message with this eventId")),
            "{err:?}"
        );
        let found = store.get_message(&app.id, "taken").await.unwrap().unwrap();
        assert_eq!(
            found.event_type, "a",
            "the first message keeps its event id"
        );
        assert_eq!(
            listed(store, &app.id, MessageFilter::default()).await,
            ["f", "d", "b", "a"]
        );
        let claim = store
            .claim_due(T0, at(30_000), 100, UNCAPPED, &[])
            .await
            .unwrap();
        assert_eq!(claim.due.len(), 4, "only the accepted messages were queued");
    })
    .await;
}

#[tokio::test]
async fn a_message_whose_application_was_deleted_fails_alone() {
    each_store(async |store| {
        let kept = new_app(store).await;
        let gone = new_app(store).await;
        new_endpoint(store, endpoint(&kept.id)).await;
        new_endpoint(store, endpoint(&gone.id)).await;
        assert!(store.delete_application(&gone.id).await.unwrap());

        let new: Vec<_> = [
            message(&kept.id, "a"),
            message(&gone.id, "b"),
            message(&kept.id, "c"),
        ]
        .into_iter()
        .map(NewMessage::new)
        .collect();
        let results = store.insert_messages(&new).await.unwrap();

        let err = results[1].as_ref().unwrap_err();
        assert!(
            matches!(err, StoreError::NotFound("application")),
            "{err:?}"
        );
        let fanned: Vec<u32> = [&results[0], &results[2]]
            .iter()
            .map(|r| r.as_ref().unwrap().deliveries)
            .collect();
        assert_eq!(fanned, [1, 1]);
        assert_eq!(
            listed(store, &kept.id, MessageFilter::default()).await,
            ["c", "a"]
        );
        let claim = store
            .claim_due(T0, at(30_000), 100, UNCAPPED, &[])
            .await
            .unwrap();
        assert_eq!(claim.due.len(), 2, "only the live application's messages");
    })
    .await;
}

#[tokio::test]
async fn a_message_for_an_application_deleted_after_its_endpoints_were_kept_is_refused() {
    each_store(async |store| {
        let kept = new_app(store).await;
        let gone = new_app(store).await;
        new_endpoint(store, endpoint(&kept.id)).await;
        new_endpoint(store, endpoint(&gone.id)).await;
        // The intake keeps both applications' endpoints from this batch on.
        let first = [message(&kept.id, "a"), message(&gone.id, "b")]
            .into_iter()
            .map(NewMessage::new)
            .collect::<Vec<_>>();
        for result in store.insert_messages(&first).await.unwrap() {
            result.unwrap();
        }
        assert!(store.delete_application(&gone.id).await.unwrap());

        let second = [message(&gone.id, "c"), message(&kept.id, "d")]
            .into_iter()
            .map(NewMessage::new)
            .collect::<Vec<_>>();
        let results = store.insert_messages(&second).await.unwrap();
        let err = results[0].as_ref().unwrap_err();
        assert!(
            matches!(err, StoreError::NotFound("application")),
            "{err:?}"
        );
        assert_eq!(results[1].as_ref().unwrap().deliveries, 1);
        assert_eq!(
            listed(store, &kept.id, MessageFilter::default()).await,
            ["d", "a"]
        );
        let claim = store
            .claim_due(T0, at(30_000), 100, UNCAPPED, &[])
            .await
            .unwrap();
        let msgs: Vec<_> = claim.due.iter().map(|d| d.app_id.clone()).collect();
        assert_eq!(
            msgs,
            [kept.id.clone(), kept.id.clone()],
            "nothing of the deleted one"
        );
    })
    .await;
}

#[tokio::test]
async fn one_batch_may_carry_messages_for_several_applications() {
    each_store(async |store| {
        let first = new_app(store).await;
        let second = new_app(store).await;
        new_endpoint(store, endpoint(&first.id)).await;
        new_endpoint(store, endpoint(&second.id)).await;
        new_endpoint(store, endpoint(&second.id)).await;

        let inserted = send(
            store,
            &[
                with_event_id(message(&first.id, "a"), "same"),
                with_event_id(message(&second.id, "a"), "same"),
                message(&first.id, "b"),
            ],
        )
        .await;

        let fanned: Vec<u32> = inserted.iter().map(|i| i.deliveries).collect();
        assert_eq!(
            fanned,
            [1, 2, 1],
            "event ids are unique per application only"
        );
    })
    .await;
}

/// Each batch fans out to the endpoints as they are when it is written, however recently the
/// application's last batch was (the SQLite intake keeps endpoints between batches).
#[tokio::test]
async fn every_batch_fans_out_to_the_endpoints_as_they_are_now() {
    each_store(async |store| {
        let app = new_app(store).await;
        let first = new_endpoint(store, endpoint(&app.id)).await;
        let deliveries = async |store: &dyn Store| {
            let msg = message(&app.id, "a");
            send(store, std::slice::from_ref(&msg)).await[0].deliveries
        };
        assert_eq!(deliveries(store).await, 1);
        assert_eq!(deliveries(store).await, 1, "the same endpoints again");

        let second = new_endpoint(store, endpoint(&app.id)).await;
        assert_eq!(deliveries(store).await, 2, "an endpoint added");

        let disabled = Endpoint {
            disabled: true,
            ..first.clone()
        };
        store.update_endpoint(&disabled).await.unwrap();
        assert_eq!(deliveries(store).await, 1, "an endpoint disabled");

        let elsewhere = Endpoint {
            event_types: Some(vec!["b".to_owned()]),
            ..second.clone()
        };
        store.update_endpoint(&elsewhere).await.unwrap();
        assert_eq!(deliveries(store).await, 0, "an endpoint's filter changed");

        store.update_endpoint(&first).await.unwrap();
        assert!(store.delete_endpoint(&app.id, &second.id).await.unwrap());
        assert_eq!(deliveries(store).await, 1, "enabled again, and one deleted");

        assert!(store.delete_application(&app.id).await.unwrap());
        let batch = [NewMessage::new(message(&app.id, "a"))];
        let refused = store.insert_messages(&batch).await.unwrap();
        assert!(
            matches!(refused[0], Err(StoreError::NotFound("application"))),
            "{refused:?}"
        );
    })
    .await;
}
