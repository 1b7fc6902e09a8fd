//! The delivery queue's writes that are not its hot path: giving leases back.

use crate::sql::{Db, sql};
use crate::{DeliveryId, Result};

/// Gives claimed deliveries back without an attempt; another node may take them at once.
pub(crate) async fn release(db: &dyn Db, ids: &[DeliveryId]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
    let mut release =
        sql!("UPDATE deliveries SET status = 1, lease_until = NULL WHERE status = 3 AND");
    release.in_list(db.dialect(), "id", ids);
    let mut tx = db.begin().await?;
    tx.execute(release).await?;
    tx.notify_queued().await?;
    tx.commit().await
}

/// Gives back every lease: only where this process alone holds leases, at start-up.
pub(crate) async fn release_all(db: &dyn Db) -> Result<()> {
    db.execute(sql!(
        "UPDATE deliveries SET status = 1, lease_until = NULL WHERE status = 3"
    ))
    .await?;
    Ok(())
}
