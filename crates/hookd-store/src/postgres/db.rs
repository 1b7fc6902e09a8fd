//! The catalog's database on PostgreSQL: queries on the node's pool, values bound as the
//! schema's types (lists as `TEXT[]`, flags as `BOOLEAN`), rows read back by column type.

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{AssertSqlSafe, Column, PgPool, Postgres, Row as _, TypeInfo};

use super::wakeup::Channel;
use crate::sql::{Db, Dialect, Query, Row, Tx, Value};
use crate::{Result, StoreError};

#[derive(Clone, Debug)]
pub(super) struct PgDb {
    pub pool: PgPool,
    pub channel: Channel,
}

type PgQuery<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

/// The query with its values bound.
fn bound(query: Query) -> PgQuery<'static> {
    let built = match query.text {
        std::borrow::Cow::Borrowed(text) => sqlx::query(text),
        std::borrow::Cow::Owned(text) => sqlx::query(AssertSqlSafe(text)),
    };
    query.args.into_iter().fold(built, |q, value| match value {
        Value::Int(v) => q.bind(v),
        Value::Text(v) => q.bind(v),
        Value::Bool(v) => q.bind(v),
        Value::List(v) => q.bind(v),
        Value::Ints(v) => q.bind(v),
        Value::Bytes(v) => q.bind(v),
        Value::Null => q.bind(None::<String>),
    })
}

/// The rows as `Row`s, each column read as its type says.
fn rows(read: Vec<PgRow>) -> Result<Vec<Row>> {
    let Some(first) = read.first() else {
        return Ok(Vec::new());
    };
    let names: Arc<[String]> = first
        .columns()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    read.iter()
        .map(|row| {
            let values = (0..names.len())
                .map(|at| value(row, at))
                .collect::<Result<_>>()?;
            Ok(Row::new(names.clone(), values))
        })
        .collect()
}

fn value(row: &PgRow, at: usize) -> Result<Value> {
    let kind = row.column(at).type_info().name().to_owned();
    Ok(match kind.as_str() {
        "INT2" => Value::Int(row.try_get::<Option<i16>, _>(at)?.map(i64::from)),
        "INT4" => Value::Int(row.try_get::<Option<i32>, _>(at)?.map(i64::from)),
        "INT8" => Value::Int(row.try_get(at)?),
        "BOOL" => match row.try_get::<Option<bool>, _>(at)? {
            Some(b) => Value::Bool(b),
            None => Value::Null,
        },
        "TEXT" | "VARCHAR" | "NAME" | "BPCHAR" => Value::Text(row.try_get(at)?),
        "TEXT[]" => Value::List(row.try_get(at)?),
        "BYTEA" => Value::Bytes(row.try_get(at)?),
        other => {
            return Err(StoreError::Corrupt(format!(
                "column {} is of type {other}, which the catalog does not read",
                row.column(at).name()
            )));
        }
    })
}

/// A unique key taken is `Conflict`, a row a foreign key names missing is `NotFound`, for the
/// catalog to name what.
fn named(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict("unique key"),
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound("row"),
        _ => StoreError::Database(e),
    }
}

#[async_trait]
impl Db for PgDb {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn fetch(&self, query: Query) -> Result<Vec<Row>> {
        rows(bound(query).fetch_all(&self.pool).await.map_err(named)?)
    }

    async fn execute(&self, query: Query) -> Result<u64> {
        let done = bound(query).execute(&self.pool).await.map_err(named)?;
        Ok(done.rows_affected())
    }

    async fn execute_returning(&self, query: Query) -> Result<Vec<Row>> {
        self.fetch(query).await
    }

    async fn begin(&self) -> Result<Box<dyn Tx>> {
        Ok(Box::new(PgTx {
            tx: self.pool.begin().await?,
            channel: self.channel.clone(),
        }))
    }
}

struct PgTx {
    tx: sqlx::Transaction<'static, Postgres>,
    channel: Channel,
}

#[async_trait]
impl Tx for PgTx {
    async fn fetch(&mut self, query: Query) -> Result<Vec<Row>> {
        rows(bound(query).fetch_all(&mut *self.tx).await.map_err(named)?)
    }

    async fn execute(&mut self, query: Query) -> Result<u64> {
        let done = bound(query).execute(&mut *self.tx).await.map_err(named)?;
        Ok(done.rows_affected())
    }

    async fn notify_queued(&mut self) -> Result<()> {
        self.channel.notify(&mut self.tx).await
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}
