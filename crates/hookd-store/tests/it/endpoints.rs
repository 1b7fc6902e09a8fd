//! Endpoints: CRUD within an application, uid conflicts, and what deleting one leaves behind.

use std::collections::BTreeMap;

use hookd_core::{AttemptStatus, Endpoint, EndpointId};
use hookd_store::{AttemptFilter, NextStep, Outcome, PageQuery, StoreError};

use crate::each_store;
use crate::fixtures::{
    T0, UNCAPPED, at, attempt, endpoint, message, new_app, new_endpoint, send, strings,
};

#[tokio::test]
async fn an_endpoint_is_found_by_id_or_uid_only_within_its_application() {
    each_store(async |store| {
        let app = new_app(store).await;
        let other = new_app(store).await;
        let stored = Endpoint {
            uid: Some("orders".to_owned()),
            description: "Order events".to_owned(),
            event_types: Some(strings(&["order.created"])),
            channels: Some(strings(&["eu"])),
            rate_limit: Some(3),
            metadata: BTreeMap::from([("team".to_owned(), "billing".to_owned())]),
            headers: BTreeMap::from([("X-Env".to_owned(), "prod".to_owned())]),
            ..endpoint(&app.id)
        };
        new_endpoint(store, stored.clone()).await;

        let by_id = store
            .get_endpoint(&app.id, stored.id.as_str())
            .await
            .unwrap();
        assert_eq!(by_id.as_ref(), Some(&stored));
        assert_eq!(
            store.get_endpoint(&app.id, "orders").await.unwrap(),
            Some(stored.clone())
        );
        assert_eq!(
            store
                .get_endpoint(&other.id, stored.id.as_str())
                .await
                .unwrap(),
            None
        );
        assert_eq!(store.get_endpoint(&other.id, "orders").await.unwrap(), None);
        let unknown = EndpointId::from_raw(7);
        assert_eq!(
            store.get_endpoint(&app.id, unknown.as_str()).await.unwrap(),
            None
        );
    })
    .await;
}

#[tokio::test]
async fn endpoint_uids_are_unique_within_an_application_only() {
    each_store(async |store| {
        let app = new_app(store).await;
        let other = new_app(store).await;
        let uid = Some("orders".to_owned());
        new_endpoint(
            store,
            Endpoint {
                uid: uid.clone(),
                ..endpoint(&app.id)
            },
        )
        .await;
        new_endpoint(
            store,
            Endpoint {
                uid: uid.clone(),
                ..endpoint(&other.id)
            },
        )
        .await;

        let twin = Endpoint {
            uid: uid.clone(),
            ..endpoint(&app.id)
        };
        let err = store.insert_endpoint(&twin).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict("endpoint with this uid")),
            "{err:?}"
        );

        let second = new_endpoint(store, endpoint(&app.id)).await;
        let err = store
            .update_endpoint(&Endpoint { uid, ..second })
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict("endpoint with this uid")),
            "{err:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn an_endpoint_update_replaces_its_settings() {
    each_store(async |store| {
        let app = new_app(store).await;
        let stored = new_endpoint(store, endpoint(&app.id)).await;
        let changed = Endpoint {
            uid: Some("renamed".to_owned()),
            url: "https://elsewhere.example/".to_owned(),
            description: "moved".to_owned(),
            disabled: true,
            event_types: Some(strings(&["a", "b"])),
            channels: Some(Vec::new()),
            rate_limit: Some(1),
            metadata: BTreeMap::from([("k".to_owned(), "v".to_owned())]),
            updated_at: at(5),
            ..stored.clone()
        };
        store.update_endpoint(&changed).await.unwrap();

        let found = store
            .get_endpoint(&app.id, stored.id.as_str())
            .await
            .unwrap();
        assert_eq!(found, Some(changed));
    })
    .await;
}

#[tokio::test]
async fn deleting_an_endpoint_drops_its_queue_but_keeps_its_attempts() {
    each_store(async |store| {
        let app = new_app(store).await;
        let doomed = new_endpoint(store, endpoint(&app.id)).await;
        let kept = new_endpoint(store, endpoint(&app.id)).await;
        send(store, &[message(&app.id, "a")]).await;
        let claim = store
            .claim_due(T0, at(30_000), 10, UNCAPPED, &[])
            .await
            .unwrap();
        let outcomes: Vec<Outcome> = claim
            .due
            .iter()
            .map(|due| Outcome {
                delivery: due.id,
                attempt: attempt(due, AttemptStatus::Fail, 500),
                next: NextStep::RetryAt(at(5_000)),
            })
            .collect();
        store.record_outcomes(&outcomes).await.unwrap();

        assert!(store.delete_endpoint(&app.id, &doomed.id).await.unwrap());

        assert_eq!(
            store
                .get_endpoint(&app.id, doomed.id.as_str())
                .await
                .unwrap(),
            None
        );
        let retried = store
            .claim_due(at(5_000), at(35_000), 10, UNCAPPED, &[])
            .await
            .unwrap();
        let endpoints: Vec<_> = retried.due.iter().map(|d| &d.endpoint_id).collect();
        assert_eq!(endpoints, [&kept.id]);
        let (page, filter) = (PageQuery::default(), AttemptFilter::default());
        let log = store
            .list_attempts_by_endpoint(&app.id, &doomed.id, &page, &filter)
            .await;
        assert_eq!(
            log.unwrap().items.len(),
            1,
            "the attempt log outlives the endpoint"
        );
        assert!(
            !store.delete_endpoint(&app.id, &doomed.id).await.unwrap(),
            "already gone"
        );
    })
    .await;
}

#[tokio::test]
async fn an_endpoint_is_deleted_only_through_its_own_application() {
    each_store(async |store| {
        let app = new_app(store).await;
        let other = new_app(store).await;
        let ep = new_endpoint(store, endpoint(&app.id)).await;

        assert!(!store.delete_endpoint(&other.id, &ep.id).await.unwrap());
        assert!(
            store
                .get_endpoint(&app.id, ep.id.as_str())
                .await
                .unwrap()
                .is_some()
        );
    })
    .await;
}
