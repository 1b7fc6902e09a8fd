//! Running a write transaction again when PostgreSQL aborted it for a deadlock or a
//! serialization failure. The transaction was rolled back whole, so a second run is safe.
//!
//! Nodes write to the same rows rarely (two batches with the same event ids in opposite order,
//! a lease taken over while its first holder still records), but when they do, one of them is
//! aborted; that must not fail a whole batch of messages or outcomes.

use std::future::Future;

use crate::{Result, StoreError};

const TRIES: u32 = 3;

pub(super) async fn retrying<T, F, Fut>(mut op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut try_number = 1;
    loop {
        match op().await {
            Err(e) if try_number < TRIES && is_transient(&e) => {
                tracing::warn!(error = %e, try_number, "transaction aborted by PostgreSQL; running it again");
                try_number += 1;
            }
            other => return other,
        }
    }
}

/// 40P01 deadlock_detected, 40001 serialization_failure.
fn is_transient(error: &StoreError) -> bool {
    match error {
        StoreError::Database(sqlx::Error::Database(e)) => {
            matches!(e.code().as_deref(), Some("40P01" | "40001"))
        }
        _ => false,
    }
}
