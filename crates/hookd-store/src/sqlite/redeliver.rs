//! Sending again in SQLite: a resend queues a manual delivery row of its own; a recovery puts
//! an endpoint's failed rows back in the queue as manual deliveries.

use hookd_core::{AppId, EndpointId, MessageId, Timestamp, TriggerType};
use sqlx::Connection;

use super::writer::Writer;
use crate::{Resend, Result};

pub(super) async fn queue_resend(
    writer: &Writer,
    app: &AppId,
    msg: &MessageId,
    endpoint: &EndpointId,
    now: Timestamp,
) -> Result<Resend> {
    let mut conn = writer.take().await?;
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let queued = sqlx::query(
        "INSERT INTO deliveries (app_id, msg_id, endpoint_id, status, attempts_made,
                                 next_attempt_at, lease_until, trigger_type)
         SELECT m.app_id, m.id, e.id, 1, 0, ?1, NULL, ?2
         FROM messages m JOIN endpoints e ON e.app_id = m.app_id AND e.id = ?3
         WHERE m.app_id = ?4 AND m.id = ?5 AND m.payload <> ''",
    )
    .bind(now.as_millis())
    .bind(TriggerType::Manual.code())
    .bind(endpoint.as_str())
    .bind(app.as_str())
    .bind(msg.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let outcome = if queued > 0 {
        Resend::Queued
    } else {
        let payload: Option<String> =
            sqlx::query_scalar("SELECT payload FROM messages WHERE app_id = ? AND id = ?")
                .bind(app.as_str())
                .bind(msg.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        match payload {
            Some(payload) if payload.is_empty() => Resend::PayloadRemoved,
            _ => Resend::NotFound,
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

pub(super) async fn recover_failed(
    writer: &Writer,
    app: &AppId,
    endpoint: &EndpointId,
    since: Timestamp,
    until: Option<Timestamp>,
    now: Timestamp,
) -> Result<u64> {
    // Only the newest row of each message counts: a message whose resend succeeded since is
    // not failed any more.
    let recovered = sqlx::query(
        "UPDATE deliveries SET status = 1, next_attempt_at = ?1, lease_until = NULL,
                               trigger_type = ?2
         WHERE id IN (
             SELECT d.id FROM deliveries d JOIN messages m ON m.id = d.msg_id
             WHERE d.app_id = ?3 AND d.endpoint_id = ?4 AND d.status = 2
               AND m.payload <> '' AND m.created_at >= ?5
               AND (?6 IS NULL OR m.created_at < ?6)
               AND NOT EXISTS (SELECT 1 FROM deliveries n
                               WHERE n.msg_id = d.msg_id AND n.endpoint_id = d.endpoint_id
                                 AND n.id > d.id))",
    )
    .bind(now.as_millis())
    .bind(TriggerType::Manual.code())
    .bind(app.as_str())
    .bind(endpoint.as_str())
    .bind(since.as_millis())
    .bind(until.map(Timestamp::as_millis))
    .execute(&mut *writer.take().await?)
    .await?
    .rows_affected();
    Ok(recovered)
}
