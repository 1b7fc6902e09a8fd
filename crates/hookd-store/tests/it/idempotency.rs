//! Idempotency keys: claimed once, completed or released, replayed until they expire; and
//! the deletes of the sweep and of logout.

use hookd_core::Timestamp;
use hookd_store::{
    IdempotencyClaim, IdempotencyKey, Store, StoredResponse, TokenRecord, TokenScope,
};

use crate::each_store;
use crate::fixtures::{T0, at};

fn key(token: &str, request: &str, key: &str) -> IdempotencyKey {
    IdempotencyKey {
        token_hash: token.to_owned(),
        request: request.to_owned(),
        key: key.to_owned(),
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
