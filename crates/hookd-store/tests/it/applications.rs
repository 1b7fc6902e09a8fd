//! Applications and tokens: CRUD, uid conflicts, id-or-uid lookup, and the cascading delete.

use std::collections::BTreeMap;

use hookd_core::{AppId, AttemptStatus, EndpointId, Timestamp};
use hookd_store::{
    AttemptFilter, MessageFilter, NextStep, Outcome, PageQuery, Store, StoreError, TokenRecord,
    TokenScope,
};

use crate::each_store;
use crate::fixtures::{
    T0, UNCAPPED, app, at, attempt, endpoint, message, new_app, new_endpoint, send,
};

#[tokio::test]
async fn an_application_is_found_by_id_and_by_uid() {
    each_store(async |store| {
        let stored = hookd_core::Application {
            uid: Some("acme".to_owned()),
            rate_limit: Some(10),
            metadata: BTreeMap::from([("tier".to_owned(), "gold".to_owned())]),
            ..app()
        };
        store.insert_application(&stored).await.unwrap();

        let by_id = store.get_application(stored.id.as_str()).await.unwrap();
        let by_uid = store.get_application("acme").await.unwrap();
        assert_eq!(by_id.as_ref(), Some(&stored));
        assert_eq!(by_uid, Some(stored));
        assert_eq!(store.get_application("nobody").await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn a_uid_shaped_like_an_id_is_still_found_by_uid() {
    each_store(async |store| {
        let uid = AppId::from_raw(42).as_str().to_owned();
        let stored = hookd_core::Application {
            uid: Some(uid.clone()),
            ..app()
        };
        store.insert_application(&stored).await.unwrap();

        assert_eq!(store.get_application(&uid).await.unwrap(), Some(stored));
    })
    .await;
}

#[tokio::test]
async fn a_taken_application_uid_is_a_conflict_on_insert_and_on_update() {
    each_store(async |store| {
        let first = hookd_core::Application {
            uid: Some("acme".to_owned()),
            ..app()
        };
        store.insert_application(&first).await.unwrap();

        let twin = hookd_core::Application {
            uid: Some("acme".to_owned()),
            ..app()
        };
        let err = store.insert_application(&twin).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict("application with this uid")),
            "{err:?}"
        );

        let other = new_app(store).await;
        let renamed = hookd_core::Application {
            uid: Some("acme".to_owned()),
            ..other
        };
        let err = store.update_application(&renamed).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict("application with this uid")),
            "{err:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn applications_without_a_uid_do_not_conflict() {
    each_store(async |store| {
        new_app(store).await;
        new_app(store).await;
        assert_eq!(
            store
                .list_applications(&PageQuery::default())
                .await
                .unwrap()
                .items
                .len(),
            2
        );
    })
    .await;
}

#[tokio::test]
async fn an_update_replaces_every_field_but_the_id_and_creation_time() {
    each_store(async |store| {
        let stored = new_app(store).await;
        let changed = hookd_core::Application {
            uid: Some("renamed".to_owned()),
            name: "Acme Corp".to_owned(),
            rate_limit: Some(5),
            metadata: BTreeMap::from([("k".to_owned(), "v".to_owned())]),
            updated_at: at(1000),
            ..stored.clone()
        };
        store.update_application(&changed).await.unwrap();

        assert_eq!(
            store.get_application(stored.id.as_str()).await.unwrap(),
            Some(changed)
        );
    })
    .await;
}

#[tokio::test]
async fn deleting_an_application_removes_everything_it_owns() {
    each_store(async |store| {
        let doomed = new_app(store).await;
        let kept = new_app(store).await;
        let mut endpoints = Vec::new();
        for app in [&doomed, &kept] {
            endpoints.push(new_endpoint(store, endpoint(&app.id)).await);
            send(store, &[message(&app.id, "a"), message(&app.id, "b")]).await;
            let scope = TokenScope::Application(app.id.clone());
            let token = TokenRecord {
                hash: format!("hash-{}", app.id),
                scope,
                created_at: T0,
                expires_at: None,
            };
            store.insert_token(&token).await.unwrap();
        }
        // Each app gets one attempt in the log and keeps one queued delivery.
        let claim = store
            .claim_due(T0, at(30_000), 10, UNCAPPED, &[])
            .await
            .unwrap();
        let (first, second): (Vec<_>, Vec<_>) =
            claim.due.iter().partition(|d| d.app_id == doomed.id);
        let outcomes = [first[0], second[0]].map(|due| Outcome {
            delivery: due.id,
            attempt: attempt(due, AttemptStatus::Success, 200),
            next: NextStep::Delivered,
        });
        store.record_outcomes(&outcomes).await.unwrap();
        store.release(&[first[1].id, second[1].id]).await.unwrap();

        assert!(store.delete_application(&doomed.id).await.unwrap());

        let id = &doomed.id;
        let page = PageQuery::default();
        assert_eq!(store.get_application(id.as_str()).await.unwrap(), None);
        assert!(
            store
                .list_endpoints(id, &page)
                .await
                .unwrap()
                .items
                .is_empty()
        );
        let messages = store
            .list_messages(id, &page, &MessageFilter::default())
            .await
            .unwrap();
        assert!(messages.items.is_empty());
        assert_eq!(store.find_token(&format!("hash-{id}")).await.unwrap(), None);
        assert_eq!(attempt_count(store, &doomed.id, &endpoints[0].id).await, 0);
        let claim = store
            .claim_due(at(1), at(30_000), 10, UNCAPPED, &[])
            .await
            .unwrap();
        assert_eq!(claim.due.len(), 1, "only the kept app's delivery is left");
        assert_eq!(claim.due[0].app_id, kept.id);

        assert_eq!(attempt_count(store, &kept.id, &endpoints[1].id).await, 1);
        assert_eq!(
            store
                .list_endpoints(&kept.id, &page)
                .await
                .unwrap()
                .items
                .len(),
            1
        );
        assert!(
            store
                .find_token(&format!("hash-{}", kept.id))
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            !store.delete_application(&doomed.id).await.unwrap(),
            "already gone"
        );
    })
    .await;
}

async fn attempt_count(store: &dyn Store, app: &AppId, endpoint: &EndpointId) -> usize {
    let (page, filter) = (PageQuery::default(), AttemptFilter::default());
    let attempts = store
        .list_attempts_by_endpoint(app, endpoint, &page, &filter)
        .await;
    attempts.unwrap().items.len()
}

#[tokio::test]
async fn tokens_are_found_by_hash_with_their_scope_and_counted() {
    each_store(async |store| {
        assert_eq!(store.count_tokens().await.unwrap(), 0);
        let app = new_app(store).await;
        let admin = TokenRecord {
            hash: "a".repeat(64),
            scope: TokenScope::Admin,
            created_at: T0,
            expires_at: None,
        };
        let scoped = TokenRecord {
            hash: "b".repeat(64),
            scope: TokenScope::Application(app.id.clone()),
            created_at: Timestamp(T0.0 + 1),
            expires_at: Some(at(3_600_000)),
        };
        store.insert_token(&admin).await.unwrap();
        store.insert_token(&scoped).await.unwrap();

        assert_eq!(store.find_token(&admin.hash).await.unwrap(), Some(admin));
        assert_eq!(store.find_token(&scoped.hash).await.unwrap(), Some(scoped));
        assert_eq!(store.find_token("unknown").await.unwrap(), None);
        assert_eq!(store.count_tokens().await.unwrap(), 2);
    })
    .await;
}
