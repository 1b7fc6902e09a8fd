//! What only the PostgreSQL backend promises: many nodes share one database without claiming
//! a delivery twice, migrate it once, and wake each other. Also `Scratch`, the fresh schema
//! every PostgreSQL test runs in.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::Duration;

use hookd_store::{Catalog, PostgresOptions, PostgresStore, Queue, Sharing, StoreError};
use sqlx::{AssertSqlSafe, Connection, PgConnection};

use crate::fixtures::{T0, UNCAPPED, at, endpoint, message, new_app, new_endpoint, sealer, send};

/// An empty schema of its own in the database `HOOKD_TEST_POSTGRES_URL` names.
pub struct Scratch {
    base: String,
    schema: String,
    /// The base URL with this schema as the search_path.
    pub url: String,
}

impl Scratch {
    /// `None`, saying so, when `HOOKD_TEST_POSTGRES_URL` is unset; CI sets it.
    pub async fn create() -> Option<Scratch> {
        let Ok(base) = std::env::var("HOOKD_TEST_POSTGRES_URL") else {
            eprintln!("PostgreSQL skipped: HOOKD_TEST_POSTGRES_URL is not set");
            return None;
        };
        let schema = format!("hookd_test_{:016x}", RandomState::new().hash_one(0));
        admin(&base, &format!("CREATE SCHEMA {schema}")).await;
        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}options[search_path]={schema}");
        Some(Scratch { base, schema, url })
    }

    /// A connected, migrated store in this schema; call as often as nodes are needed.
    pub async fn store(&self) -> PostgresStore {
        let store = PostgresStore::connect(&self.url, &options(), sealer())
            .await
            .expect("connect to HOOKD_TEST_POSTGRES_URL");
        store.migrate().await.expect("migrate");
        store
    }

    pub async fn remove(self) {
        admin(&self.base, &format!("DROP SCHEMA {} CASCADE", self.schema)).await;
    }
}

fn options() -> PostgresOptions {
    PostgresOptions {
        pool_size: 4,
        statement_timeout: Duration::from_secs(10),
    }
}

async fn admin(url: &str, sql: &str) {
    let mut conn = PgConnection::connect(url)
        .await
        .expect("connect to HOOKD_TEST_POSTGRES_URL");
    sqlx::query(AssertSqlSafe(sql.to_owned()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = conn.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_claiming_at_once_never_claim_a_delivery_twice() {
    let Some(scratch) = Scratch::create().await else {
        return;
    };
    let nodes = [
        Arc::new(scratch.store().await),
        Arc::new(scratch.store().await),
    ];
    assert_eq!(nodes[0].sharing(), Sharing::Nodes);
    let app = new_app(nodes[0].as_ref()).await;
    for _ in 0..3 {
        new_endpoint(nodes[0].as_ref(), endpoint(&app.id)).await;
    }
    let messages: Vec<_> = (0..100).map(|_| message(&app.id, "a")).collect();
    send(nodes[1].as_ref(), &messages).await;

    let mut claims = Vec::new();
    for task in 0..8 {
        let node = nodes[task % 2].clone();
        claims.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            loop {
                let claim = node
                    .claim_due(T0, at(30_000), 7, UNCAPPED, &[])
                    .await
                    .unwrap();
                if claim.due.is_empty() {
                    return ids;
                }
                ids.extend(claim.due.iter().map(|d| d.id));
            }
        }));
    }
    let mut claimed = Vec::new();
    for task in claims {
        claimed.extend(task.await.unwrap());
    }
    let total = claimed.len();
    claimed.sort();
    claimed.dedup();

    assert_eq!(claimed.len(), total, "a delivery was claimed twice");
    assert_eq!(total, 300, "every delivery was claimed");
    for node in nodes {
        node.close().await;
    }
    scratch.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_starting_together_migrate_the_schema_once() {
    let Some(scratch) = Scratch::create().await else {
        return;
    };
    let mut starts = Vec::new();
    for _ in 0..4 {
        let url = scratch.url.clone();
        starts.push(tokio::spawn(async move {
            let store = PostgresStore::connect(&url, &options(), sealer())
                .await
                .unwrap();
            let migrated = store.migrate().await.unwrap();
            store.close().await;
            migrated
        }));
    }
    let mut fresh = 0;
    for start in starts {
        let migrated = start.await.unwrap();
        assert!(migrated.to >= 2, "every node ends at the newest schema");
        if migrated.from == 0 {
            fresh += 1;
        }
    }

    assert_eq!(fresh, 1, "exactly one node applied the migration");
    scratch.remove().await;
}

#[tokio::test]
async fn a_node_is_woken_by_work_other_nodes_queue_but_not_by_its_own() {
    let Some(scratch) = Scratch::create().await else {
        return;
    };
    let (this, other) = (scratch.store().await, scratch.store().await);
    let mut wakeups = this.subscribe_wakeups().await.unwrap().expect("wake-ups");
    let app = new_app(&this).await;
    new_endpoint(&this, endpoint(&app.id)).await;
    let quiet = Duration::from_millis(300);

    send(&this, &[message(&app.id, "own")]).await;
    assert!(
        tokio::time::timeout(quiet, wakeups.next()).await.is_err(),
        "woken by its own message"
    );
    send(&other, &[message(&app.id, "other")]).await;
    tokio::time::timeout(Duration::from_secs(10), wakeups.next())
        .await
        .expect("woken by the other node's message")
        .unwrap();

    let claimed = other
        .claim_due(T0, at(30_000), 10, UNCAPPED, &[])
        .await
        .unwrap();
    assert_eq!(claimed.due.len(), 2);
    other.release(&[claimed.due[0].id]).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), wakeups.next())
        .await
        .expect("woken by work the other node gave back")
        .unwrap();

    this.close().await;
    other.close().await;
    scratch.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_id_sent_to_two_nodes_at_once_is_accepted_once() {
    let Some(scratch) = Scratch::create().await else {
        return;
    };
    let nodes = [
        Arc::new(scratch.store().await),
        Arc::new(scratch.store().await),
    ];
    let app = new_app(nodes[0].as_ref()).await;
    new_endpoint(nodes[0].as_ref(), endpoint(&app.id)).await;

    let mut sends = Vec::new();
    for round in 0..20 {
        for node in &nodes {
            let (node, app) = (node.clone(), app.id.clone());
            sends.push(tokio::spawn(async move {
                let msg = hookd_core::Message {
                    event_id: Some(format!("evt-{round}")),
                    ..message(&app, "a")
                };
                let batch = [hookd_store::NewMessage::new(msg)];
                node.insert_messages(&batch).await.unwrap().remove(0)
            }));
        }
    }
    let mut accepted = 0;
    for send in sends {
        match send.await.unwrap() {
            Ok(_) => accepted += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(other) => panic!("{other:?}"),
        }
    }

    assert_eq!(accepted, 20, "one message per event id");
    let claim = nodes[0]
        .claim_due(T0, at(30_000), 100, UNCAPPED, &[])
        .await
        .unwrap();
    assert_eq!(claim.due.len(), 20, "one delivery per accepted message");
    for node in nodes {
        node.close().await;
    }
    scratch.remove().await;
}

#[tokio::test]
async fn a_search_path_naming_no_existing_schema_is_refused() {
    let Some(scratch) = Scratch::create().await else {
        return;
    };
    let url = scratch
        .url
        .replace("search_path]=hookd_test_", "search_path]=hookd_missing_");

    let refused = PostgresStore::connect(&url, &options(), sealer()).await;

    assert!(
        matches!(refused, Err(StoreError::Misconfigured(_))),
        "{refused:?}"
    );
    scratch.remove().await;
}
