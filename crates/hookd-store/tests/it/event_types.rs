//! Event types: by name, archived or not, listed by name; and the message an endpoint's
//! `send-example` stores, queued for that endpoint alone.

use hookd_core::EventType;
use hookd_store::{EventTypeFilter, Ordering, PageQuery, StoreError};

use crate::each_store;
use crate::fixtures::{T0, UNCAPPED, at, endpoint, message, new_app, new_endpoint, strings};

fn event_type(name: &str) -> EventType {
    EventType {
        name: name.to_owned(),
        description: format!("{name} happened"),
        archived: false,
        deprecated: false,
        feature_flag: None,
        schemas: Some(r#"{"1":{"type":"object"}}"#.to_owned()),
        created_at: T0,
        updated_at: T0,
    }
}

fn names(page: &hookd_store::Page<EventType>) -> Vec<&str> {
    page.items.iter().map(|t| t.name.as_str()).collect()
}

#[tokio::test]
async fn an_event_type_is_created_read_updated_and_deleted_by_name() {
    each_store(async |store| {
        let paid = event_type("invoice.paid");
        store.insert_event_type(&paid).await.unwrap();
        assert_eq!(
            store.get_event_type("invoice.paid").await.unwrap(),
            Some(paid.clone())
        );
        assert_eq!(store.get_event_type("invoice.void").await.unwrap(), None);

        let changed = EventType {
            description: "Paid".into(),
            archived: true,
            deprecated: true,
            feature_flag: Some("beta".into()),
            schemas: None,
            updated_at: at(5),
            ..paid.clone()
        };
        assert!(store.update_event_type(&changed).await.unwrap());
        assert_eq!(
            store.get_event_type("invoice.paid").await.unwrap(),
            Some(changed)
        );

        assert!(store.delete_event_type("invoice.paid").await.unwrap());
        assert!(!store.delete_event_type("invoice.paid").await.unwrap());
        assert!(
            !store.update_event_type(&paid).await.unwrap(),
            "gone for good"
        );
    })
    .await;
}

#[tokio::test]
async fn a_second_event_type_with_a_taken_name_is_a_conflict() {
    each_store(async |store| {
        store.insert_event_type(&event_type("a")).await.unwrap();
        let again = store.insert_event_type(&event_type("a")).await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    })
    .await;
}

#[tokio::test]
async fn event_types_page_by_name_and_leave_archived_ones_out_unless_asked() {
    each_store(async |store| {
        for name in ["b", "a", "d", "C", "c"] {
            let archived = name == "c";
            let t = EventType {
                archived,
                ..event_type(name)
            };
            store.insert_event_type(&t).await.unwrap();
        }
        let live = EventTypeFilter::default();
        let all = EventTypeFilter {
            include_archived: true,
        };
        let first = PageQuery {
            limit: 2,
            order: Ordering::Ascending,
            ..PageQuery::default()
        };
        let page = store.list_event_types(&first, &live).await.unwrap();
        assert_eq!(
            (names(&page), page.done),
            (vec!["C", "a"], false),
            "byte order"
        );
        let next = PageQuery {
            iterator: page.iterator.clone(),
            ..first.clone()
        };
        let page = store.list_event_types(&next, &live).await.unwrap();
        assert_eq!((names(&page), page.done), (vec!["b", "d"], true));
        let back = PageQuery {
            prev_iterator: Some("d".into()),
            ..first.clone()
        };
        let page = store.list_event_types(&back, &all).await.unwrap();
        assert_eq!(
            names(&page),
            ["b", "c"],
            "walking back includes the archived one"
        );

        let newest = PageQuery {
            order: Ordering::Descending,
            ..PageQuery::default()
        };
        let page = store.list_event_types(&newest, &all).await.unwrap();
        assert_eq!(names(&page), ["d", "c", "b", "a", "C"]);
    })
    .await;
}

#[tokio::test]
async fn unknown_event_types_are_the_missing_and_the_archived_in_the_order_asked() {
    each_store(async |store| {
        store.insert_event_type(&event_type("live")).await.unwrap();
        let archived = EventType {
            archived: true,
            ..event_type("old")
        };
        store.insert_event_type(&archived).await.unwrap();
        let asked = strings(&["nope", "live", "old", "zzz"]);
        let unknown = store.unknown_event_types(&asked).await.unwrap();
        assert_eq!(unknown, ["nope", "old", "zzz"]);
        assert!(store.unknown_event_types(&[]).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_message_for_one_endpoint_is_queued_for_it_alone_whatever_its_filters() {
    each_store(async |store| {
        let app = new_app(store).await;
        let mut picky = endpoint(&app.id);
        picky.event_types = Some(strings(&["other"]));
        let picky = new_endpoint(store, picky).await;
        new_endpoint(store, endpoint(&app.id)).await;
        let example = message(&app.id, "invoice.paid");

        let inserted = store
            .insert_message_for_endpoint(&example, &picky.id)
            .await
            .unwrap();
        assert_eq!(
            (inserted.msg_id.clone(), inserted.deliveries),
            (example.id.clone(), 1)
        );
        let stored = store
            .get_message(&app.id, example.id.as_str())
            .await
            .unwrap();
        assert_eq!(stored, Some(example.clone()));
        let due = store
            .claim_due(at(1), at(60_000), 10, UNCAPPED, &[])
            .await
            .unwrap()
            .due;
        let targets: Vec<_> = due.iter().map(|d| (&d.msg_id, &d.endpoint_id)).collect();
        assert_eq!(targets, [(&example.id, &picky.id)]);
    })
    .await;
}
