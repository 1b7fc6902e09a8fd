//! Scratch: an empty PostgreSQL schema of its own for one test, in the database
//! `HOOKD_TEST_POSTGRES_URL` names, so tests run in parallel without seeing each other.

use std::hash::{BuildHasher, RandomState};

use sqlx::{AssertSqlSafe, Connection, PgConnection};

pub struct Scratch {
    base: String,
    schema: String,
    /// The base URL with this schema as the search_path: what a node is configured with.
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

    /// Drops the schema and all in it; a node still running on it sees its tables vanish.
    pub async fn remove(&self) {
        admin(
            &self.base,
            &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema),
        )
        .await;
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
