//! Idempotency keys: claimed once, completed or released, replayed until they expire; and
//! the deletes of the sweep and of logout.

use hookd_core::{Message, Timestamp};
use hookd_store::{
    IdempotencyClaim, IdempotencyKey, KeyedIntake, NewMessage, PageQuery, Store, StoreError,
    StoredResponse, TokenRecord, TokenScope,
};

use crate::each_store;
use crate::fixtures::{T0, at, endpoint, message, new_app, new_endpoint};

fn key(token: &str, request: &str, key: &str) -> IdempotencyKey {
    IdempotencyKey {
        token_hash: token.to_owned(),
        request: request.to_owned(),
        key: key.to_owned(),
        digest: "d1".to_owned(),
    }
}

fn created() -> StoredResponse {
    StoredResponse {
        status: 201,
        body: br#"{"id":"app_1"}"#.to_vec(),
    }
}

async fn claim(store: &dyn Store, k: &IdempotencyKey, now: Timestamp) -> IdempotencyClaim {
    let lease_until = Timestamp(now.0 + 60_000);
    store
        .claim_idempotency_key(k, now, lease_until)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_first_claim_starts_and_the_next_finds_it_running_then_done() {
    each_store(async |store| {
        let k = key("t", "POST /app", "k1");
        assert_eq!(claim(store, &k, T0).await, IdempotencyClaim::Started);
        assert_eq!(claim(store, &k, at(10)).await, IdempotencyClaim::InProgress);
        store
            .complete_idempotency_key(&k, &created(), at(43_200_000))
            .await
            .unwrap();
        assert_eq!(
            claim(store, &k, at(20)).await,
            IdempotencyClaim::Done(created())
        );
        assert_eq!(
            claim(store, &k, at(43_199_999)).await,
            IdempotencyClaim::Done(created())
        );
        assert_eq!(
            claim(store, &k, at(43_200_000)).await,
            IdempotencyClaim::Started,
            "an expired answer is not replayed"
        );
    })
    .await;
}

#[tokio::test]
async fn a_released_key_or_one_whose_lease_ran_out_is_claimed_again() {
    each_store(async |store| {
        let k = key("t", "POST /app", "k1");
        assert_eq!(claim(store, &k, T0).await, IdempotencyClaim::Started);
        store.release_idempotency_key(&k).await.unwrap();
        assert_eq!(claim(store, &k, at(1)).await, IdempotencyClaim::Started);
        assert_eq!(
            claim(store, &k, at(60_000)).await,
            IdempotencyClaim::InProgress
        );
        assert_eq!(
            claim(store, &k, at(60_001)).await,
            IdempotencyClaim::Started,
            "the request holding it died: its lease ran out"
        );
    })
    .await;
}

#[tokio::test]
async fn keys_are_told_apart_by_token_request_and_key() {
    each_store(async |store| {
        let first = key("t", "POST /app", "k1");
        assert_eq!(claim(store, &first, T0).await, IdempotencyClaim::Started);
        for other in [
            key("u", "POST /app", "k1"),
            key("t", "POST /app/x/msg", "k1"),
            key("t", "POST /app", "k2"),
        ] {
            assert_eq!(claim(store, &other, T0).await, IdempotencyClaim::Started);
        }
    })
    .await;
}

#[tokio::test]
async fn expired_keys_and_tokens_are_deleted_in_batches() {
    each_store(async |store| {
        for n in 0..3 {
            let k = key("t", "POST /app", &format!("k{n}"));
            claim(store, &k, T0).await;
            store
                .complete_idempotency_key(&k, &created(), at(100))
                .await
                .unwrap();
        }
        let live = key("t", "POST /app", "live");
        claim(store, &live, T0).await;
        store
            .complete_idempotency_key(&live, &created(), at(10_000))
            .await
            .unwrap();
        for (hash, expires_at) in [("old", Some(at(100))), ("admin", None)] {
            let token = TokenRecord {
                hash: hash.to_owned(),
                scope: TokenScope::Admin,
                created_at: T0,
                expires_at,
            };
            store.insert_token(&token).await.unwrap();
        }

        assert_eq!(store.delete_expired_keys(at(99), 10).await.unwrap(), 0);
        assert_eq!(
            store.delete_expired_keys(at(100), 2).await.unwrap(),
            3,
            "2 keys, 1 token"
        );
        assert_eq!(store.delete_expired_keys(at(100), 2).await.unwrap(), 1);
        assert_eq!(store.delete_expired_keys(at(100), 2).await.unwrap(), 0);
        assert_eq!(
            claim(store, &live, at(200)).await,
            IdempotencyClaim::Done(created())
        );
        assert!(store.find_token("old").await.unwrap().is_none());
        assert!(store.find_token("admin").await.unwrap().is_some());
    })
    .await;
}

#[tokio::test]
async fn a_deleted_token_is_gone_and_its_expiry_says_whether_it_works() {
    each_store(async |store| {
        let token = TokenRecord {
            hash: "portal".to_owned(),
            scope: TokenScope::Admin,
            created_at: T0,
            expires_at: Some(at(1_000)),
        };
        store.insert_token(&token).await.unwrap();
        let found = store.find_token("portal").await.unwrap().unwrap();
        assert!(found.is_live(at(999)) && !found.is_live(at(1_000)));
        assert!(store.delete_token("portal").await.unwrap());
        assert!(!store.delete_token("portal").await.unwrap());
        assert_eq!(store.find_token("portal").await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn a_key_sent_again_with_another_request_is_refused_and_keeps_its_answer() {
    each_store(async |store| {
        let k = key("t", "POST /app", "k1");
        assert_eq!(claim(store, &k, T0).await, IdempotencyClaim::Started);
        let other = IdempotencyKey {
            digest: "d2".to_owned(),
            ..k.clone()
        };
        assert_eq!(claim(store, &other, at(10)).await, IdempotencyClaim::Reused);
        store
            .complete_idempotency_key(&k, &created(), at(43_200_000))
            .await
            .unwrap();
        assert_eq!(claim(store, &other, at(20)).await, IdempotencyClaim::Reused);
        assert_eq!(
            claim(store, &k, at(30)).await,
            IdempotencyClaim::Done(created())
        );
    })
    .await;
}

/// A keyed message as the handler sends it: answered with `body` for 12 hours.
fn keyed(message: Message, k: &IdempotencyKey, body: &str) -> NewMessage {
    let expires_at = Timestamp(message.created_at.0 + 43_200_000);
    NewMessage::keyed(
        message,
        KeyedIntake {
            key: k.clone(),
            response: StoredResponse {
                status: 202,
                body: body.as_bytes().to_vec(),
            },
            expires_at,
        },
    )
}

async fn count_messages(store: &dyn Store, app: &hookd_core::AppId) -> usize {
    let page = PageQuery {
        limit: 250,
        ..PageQuery::default()
    };
    let filter = hookd_store::MessageFilter::default();
    store
        .list_messages(app, &page, &filter)
        .await
        .unwrap()
        .items
        .len()
}

/// The intake takes a keyed message's key in the message's own transaction: a repeat of the
/// request gets the first answer and stores nothing, another request with the key is refused,
/// two in one batch are answered as one, and an expired key is taken again.
#[tokio::test]
async fn the_intake_answers_a_keyed_message_once_in_its_own_transaction() {
    each_store(async |store| {
        let app = new_app(store).await;
        new_endpoint(store, endpoint(&app.id)).await;
        let k = key("t", "POST /app/x/msg", "k1");
        let first = keyed(message(&app.id, "a"), &k, r#"{"id":"first"}"#);
        let results = store.insert_messages(&[first]).await.unwrap();
        assert_eq!(results[0].as_ref().unwrap().deliveries, 1);

        let again = keyed(message(&app.id, "a"), &k, r#"{"id":"again"}"#);
        let other = keyed(
            message(&app.id, "a"),
            &IdempotencyKey {
                digest: "d2".to_owned(),
                ..k.clone()
            },
            r#"{"id":"other"}"#,
        );
        let k2 = key("t", "POST /app/x/msg", "k2");
        let twins = [
            keyed(message(&app.id, "a"), &k2, r#"{"id":"twin"}"#),
            keyed(message(&app.id, "a"), &k2, r#"{"id":"twin2"}"#),
        ];
        let batch = [vec![again, other], twins.to_vec()].concat();
        let results = store.insert_messages(&batch).await.unwrap();
        match &results[0] {
            Err(StoreError::AlreadyAnswered(stored)) => {
                assert_eq!(stored.body, br#"{"id":"first"}"#);
                assert_eq!(stored.status, 202);
            }
            other => panic!("a repeat is answered: {other:?}"),
        }
        assert!(
            matches!(results[1], Err(StoreError::KeyReused)),
            "{:?}",
            results[1]
        );
        assert!(results[2].is_ok(), "the first of two with one key goes in");
        match &results[3] {
            Err(StoreError::AlreadyAnswered(stored)) => {
                assert_eq!(stored.body, br#"{"id":"twin"}"#);
            }
            other => panic!("the second of two is answered as the first: {other:?}"),
        }
        assert_eq!(count_messages(store, &app.id).await, 2);
        // The key answers the same through the slow path's claim.
        assert_eq!(
            claim(store, &k, at(100)).await,
            IdempotencyClaim::Done(StoredResponse {
                status: 202,
                body: br#"{"id":"first"}"#.to_vec()
            })
        );

        // Twelve hours on, the key is free again.
        let later = Message {
            created_at: at(43_200_001),
            ..message(&app.id, "a")
        };
        let results = store
            .insert_messages(&[keyed(later, &k, r#"{"id":"later"}"#)])
            .await
            .unwrap();
        assert!(results[0].is_ok(), "{:?}", results[0]);
        assert_eq!(count_messages(store, &app.id).await, 3);
    })
    .await;
}

/// A keyed message refused for its event id leaves its key free: only a stored answer is
/// replayed.
#[tokio::test]
async fn a_keyed_message_refused_for_its_event_id_leaves_its_key_free() {
    each_store(async |store| {
        let app = new_app(store).await;
        let taken = Message {
            event_id: Some("e1".to_owned()),
            ..message(&app.id, "a")
        };
        store
            .insert_messages(&[NewMessage::new(taken.clone())])
            .await
            .unwrap();
        let k = key("t", "POST /app/x/msg", "k1");
        let refused = Message {
            id: message(&app.id, "a").id,
            ..taken
        };
        let results = store
            .insert_messages(&[keyed(refused, &k, "{}")])
            .await
            .unwrap();
        assert!(
            matches!(results[0], Err(StoreError::Conflict(_))),
            "{:?}",
            results[0]
        );
        assert_eq!(claim(store, &k, at(10)).await, IdempotencyClaim::Started);
    })
    .await;
}
