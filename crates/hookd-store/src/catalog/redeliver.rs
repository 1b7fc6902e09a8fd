//! Sending again: a resend queues a manual delivery row of its own; a recovery puts an
//! endpoint's failed rows back in the queue as manual deliveries. Both wake every node's
//! worker when they commit (`Tx::notify_queued`).

use hookd_core::{AppId, EndpointId, MessageId, Timestamp, TriggerType};

use crate::sql::{Db, first, sql};
use crate::{Resend, Result};

pub(crate) async fn queue_resend(
    db: &dyn Db,
    app: &AppId,
    msg: &MessageId,
    endpoint: &EndpointId,
    now: Timestamp,
) -> Result<Resend> {
    let mut tx = db.begin().await?;
    let queued = tx
        .execute(sql!(
            "INSERT INTO deliveries (app_id, msg_id, endpoint_id, status, attempts_made,
                                     next_attempt_at, lease_until, trigger_type)
             SELECT m.app_id, m.id, e.id, 1, 0, $1, NULL, $2
             FROM messages m JOIN endpoints e ON e.app_id = m.app_id AND e.id = $3
             WHERE m.app_id = $4 AND m.id = $5 AND m.payload <> ''",
            now,
            TriggerType::Manual.code(),
            endpoint.as_str(),
            app.as_str(),
            msg.as_str(),
        ))
        .await?;
    if queued > 0 {
        tx.notify_queued().await?;
        tx.commit().await?;
        return Ok(Resend::Queued);
    }
    let rows = tx
        .fetch(sql!(
            "SELECT payload FROM messages WHERE app_id = $1 AND id = $2",
            app.as_str(),
            msg.as_str()
        ))
        .await?;
    tx.commit().await?;
    Ok(match first(rows) {
        Some(row) if row.text("payload")?.is_empty() => Resend::PayloadRemoved,
        _ => Resend::NotFound,
    })
}

pub(crate) async fn recover_failed(
    db: &dyn Db,
    (app, endpoint): (&AppId, &EndpointId),
    since: Timestamp,
    until: Option<Timestamp>,
    now: Timestamp,
) -> Result<u64> {
    let mut tx = db.begin().await?;
    // Only the newest row of each message counts: a message whose resend succeeded since is
    // not failed any more.
    let recovered = tx
        .execute(sql!(
            "UPDATE deliveries SET status = 1, next_attempt_at = $1, lease_until = NULL,
                                   trigger_type = $2
             WHERE id IN (
                 SELECT d.id FROM deliveries d JOIN messages m ON m.id = d.msg_id
                 WHERE d.app_id = $3 AND d.endpoint_id = $4 AND d.status = 2
                   AND m.payload <> '' AND m.created_at >= $5
                   AND ($6 IS NULL OR m.created_at < $6)
                   AND NOT EXISTS (SELECT 1 FROM deliveries n
                                   WHERE n.msg_id = d.msg_id AND n.endpoint_id = d.endpoint_id
                                     AND n.id > d.id))",
            now,
            TriggerType::Manual.code(),
            app.as_str(),
            endpoint.as_str(),
            since,
            until,
        ))
        .await?;
    if recovered > 0 {
        tx.notify_queued().await?;
    }
    tx.commit().await?;
    Ok(recovered)
}
