//! The lock that lets one node at a time run the background sweep.

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

use crate::retention::SWEEP_TRY_LOCK;
use crate::{Result, SweepLock};

/// Takes the sweep's advisory lock on a connection of its own, which the lock keeps until it
/// is released; `None` while another session (another node's sweep) holds it.
pub(super) async fn lock_sweep(connect: &PgConnectOptions) -> Result<Option<SweepLock>> {
    let mut connection = PgConnection::connect_with(connect).await?;
    let locked: bool = sqlx::query_scalar(SWEEP_TRY_LOCK)
        .fetch_one(&mut connection)
        .await?;
    if !locked {
        let _ = connection.close().await;
        return Ok(None);
    }
    Ok(Some(SweepLock::postgres(connection)))
}
