//! Endpoint secrets and headers: sealed at rest, rotated with a grace period, and changed only
//! by their own methods.

use std::collections::BTreeMap;

use hookd_core::Endpoint;
use hookd_store::{Catalog, Sealer, SecretKey, SqliteStore, Store, StoreError};

use crate::each_store;
use crate::fixtures::{T0, UNCAPPED, at, endpoint, message, new_app, new_endpoint, sealer, send};

const NEW_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

async fn due_secrets(store: &dyn Store, now: i64) -> Vec<String> {
    let mut claim = store
        .claim_due(at(now), at(now + 30_000), 1, UNCAPPED, &[])
        .await
        .unwrap();
    let due = claim.due.remove(0);
    store.release(&[due.id]).await.unwrap();
    due.secrets
}

#[tokio::test]
async fn a_rotated_out_secret_signs_beside_the_new_one_until_its_grace_period_ends() {
    each_store(async |store| {
        let app = new_app(store).await;
        let ep = new_endpoint(store, endpoint(&app.id)).await;
        send(store, &[message(&app.id, "a")]).await;

        let rotated = store
            .rotate_endpoint_secret(&app.id, &ep.id, NEW_SECRET, at(1_000), T0)
            .await
            .unwrap();

        assert!(rotated);
        let read = store.get_endpoint(&app.id, ep.id.as_str()).await.unwrap();
        assert_eq!(read.unwrap().secret, NEW_SECRET);
        assert_eq!(due_secrets(store, 999).await, [NEW_SECRET, &ep.secret]);
        assert_eq!(due_secrets(store, 1_000).await, [NEW_SECRET]);
    })
    .await;
}

#[tokio::test]
async fn rotating_an_unknown_endpoint_changes_nothing() {
    each_store(async |store| {
        let app = new_app(store).await;
        let stranger = endpoint(&app.id);
        let rotated = store
            .rotate_endpoint_secret(&app.id, &stranger.id, NEW_SECRET, at(1), T0)
            .await
            .unwrap();
        assert!(!rotated);
    })
    .await;
}

#[tokio::test]
async fn an_update_leaves_the_secret_and_headers_to_their_own_methods() {
    each_store(async |store| {
        let app = new_app(store).await;
        let ep = new_endpoint(store, endpoint(&app.id)).await;
        let headers = BTreeMap::from([("X-Env".to_owned(), "prod".to_owned())]);
        assert!(
            store
                .set_endpoint_headers(&app.id, &ep.id, &headers, at(5))
                .await
                .unwrap()
        );

        let stale = Endpoint {
            description: "changed".to_owned(),
            secret: "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned(),
            ..ep.clone()
        };
        store.update_endpoint(&stale).await.unwrap();

        let read = store
            .get_endpoint(&app.id, ep.id.as_str())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read.description, "changed");
        assert_eq!(read.secret, ep.secret);
        assert_eq!(read.headers, headers);
    })
    .await;
}

async fn raw_secret(path: &std::path::Path) -> String {
    let db = rusqlite::Connection::open(path).unwrap();
    db.query_row("SELECT secret FROM endpoints", [], |row| row.get(0))
        .unwrap()
}

#[tokio::test]
async fn secrets_are_sealed_at_rest_and_plaintext_rows_are_sealed_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hookd.db");
    let store = SqliteStore::open(&path, sealer()).await.unwrap();
    let app = new_app(&store).await;
    let ep = new_endpoint(&store, endpoint(&app.id)).await;
    store.close().await;

    let sealed = raw_secret(&path).await;
    assert!(
        sealed.starts_with("sealed1:") && !sealed.contains(&ep.secret[6..]),
        "{sealed}"
    );

    // A row from before secrets were sealed.
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute("UPDATE endpoints SET secret = ?1", [&ep.secret])
        .unwrap();
    drop(db);
    let reopened = SqliteStore::open(&path, sealer()).await.unwrap();
    let read = reopened
        .get_endpoint(&app.id, ep.id.as_str())
        .await
        .unwrap();
    assert_eq!(read.unwrap().secret, ep.secret);
    reopened.close().await;
    assert!(raw_secret(&path).await.starts_with("sealed1:"));
}

#[tokio::test]
async fn a_store_opened_with_another_key_refuses_to_read_the_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hookd.db");
    let store = SqliteStore::open(&path, sealer()).await.unwrap();
    let app = new_app(&store).await;
    let ep = new_endpoint(&store, endpoint(&app.id)).await;
    store.close().await;

    let other = Sealer::new(&SecretKey::generate());
    let reopened = SqliteStore::open(&path, other).await.unwrap();
    let read = reopened.get_endpoint(&app.id, ep.id.as_str()).await;

    assert!(matches!(read, Err(StoreError::WrongSecretKey)), "{read:?}");
}
