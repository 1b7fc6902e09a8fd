//! Schema: a PostgreSQL schema of the bench's own for one hookd store of a run (`slow-endpoint`
//! makes a second for its twin hookd). hookd puts its tables in the URL's search_path, so every
//! node given the schema's URL shares that one schema, each run starts on empty tables whatever
//! the database already holds, and the run leaves nothing.

use std::hash::{BuildHasher, RandomState};

use sqlx::{AssertSqlSafe, Connection, PgConnection};

use crate::BenchError;

/// Whether `database` names PostgreSQL; anything else is passed on to hookd as it is.
pub fn is_postgres(database: &str) -> bool {
    database.starts_with("postgres://") || database.starts_with("postgresql://")
}

/// A fresh, empty schema in the database a URL names.
pub struct Schema {
    base: String,
    name: String,
    /// The base URL with this schema as its search_path: every node's `--database`.
    pub url: String,
}

impl Schema {
    /// Creates `hookd_bench_<random>` in the database `base` names.
    pub async fn create(base: &str) -> Result<Schema, BenchError> {
        let name = format!(
            "hookd_bench_{:016x}",
            RandomState::new().hash_one(std::process::id())
        );
        execute(base, &format!("CREATE SCHEMA {name}")).await?;
        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}options[search_path]={name}");
        Ok(Schema {
            base: base.to_owned(),
            name,
            url,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the schema and everything in it. Call it once no node runs on it any more: a
    /// killed node's sessions end when PostgreSQL sees their sockets close, and the drop
    /// waits for the locks they held until then.
    pub async fn remove(self) -> Result<(), BenchError> {
        execute(&self.base, &format!("DROP SCHEMA {} CASCADE", self.name)).await
    }
}

async fn execute(url: &str, sql: &str) -> Result<(), BenchError> {
    let failed = |source| BenchError::Database {
        what: sql.to_owned(),
        source,
    };
    let mut conn = PgConnection::connect(url).await.map_err(failed)?;
    sqlx::query(AssertSqlSafe(sql.to_owned()))
        .execute(&mut conn)
        .await
        .map_err(failed)?;
    let _ = conn.close().await;
    Ok(())
}
