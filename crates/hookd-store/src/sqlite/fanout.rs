//! Message intake in SQLite: store a batch of messages and queue one delivery per endpoint
//! that wants each, in one transaction.

use std::collections::HashMap;

use hookd_core::filter::endpoint_wants;
use hookd_core::{AppId, EndpointId, Message};
use sqlx::{Row, SqliteConnection, SqlitePool};

use super::column::{json_list, list_from_json, list_to_json};
use crate::{Inserted, NewMessage, Result, StoreError};

/// What the fan-out needs to know about an enabled endpoint.
struct Subscriber {
    id: String,
    event_types: Option<Vec<String>>,
    channels: Option<Vec<String>>,
}

pub(super) async fn insert_messages(
    writer: &SqlitePool,
    batch: &[NewMessage],
) -> Result<Vec<Result<Inserted>>> {
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    // Read inside the transaction, once per application in the batch: the single writer means
    // no endpoint can change until the commit.
    let mut subscribers: HashMap<&AppId, Vec<Subscriber>> = HashMap::new();
    let mut results = Vec::with_capacity(batch.len());
    for NewMessage { message } in batch {
        if !insert_message(&mut tx, message).await? {
            results.push(Err(StoreError::Conflict("message with this eventId")));
            continue;
        }
        if !subscribers.contains_key(&message.app_id) {
            let found = enabled_endpoints(&mut tx, &message.app_id).await?;
            subscribers.insert(&message.app_id, found);
        }
        let wanted: Vec<&str> = subscribers[&message.app_id]
            .iter()
            .filter(|s| {
                endpoint_wants(
                    s.event_types.as_deref(),
                    s.channels.as_deref(),
                    &message.event_type,
                    message.channels.as_deref(),
                )
            })
            .map(|s| s.id.as_str())
            .collect();
        let deliveries = queue_deliveries(&mut tx, message, &wanted).await?;
        results.push(Ok(Inserted {
            msg_id: message.id.clone(),
            deliveries,
        }));
    }
    tx.commit().await?;
    Ok(results)
}

/// Inserts the message; false if the application already has a message with its event id.
async fn insert_message(tx: &mut SqliteConnection, message: &Message) -> Result<bool> {
    // ON CONFLICT names the event-id key alone: any other violation is still an error.
    let inserted = sqlx::query(
        "INSERT INTO messages (id, app_id, event_type, event_id, channels, payload,
                               retention_days, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (app_id, event_id) DO NOTHING",
    )
    .bind(message.id.as_str())
    .bind(message.app_id.as_str())
    .bind(&message.event_type)
    .bind(message.event_id.as_deref())
    .bind(list_to_json(message.channels.as_deref()))
    .bind(crate::convert::payload_to_column(
        message.payload.as_deref(),
    ))
    .bind(message.retention_days)
    .bind(message.created_at.as_millis())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

async fn enabled_endpoints(tx: &mut SqliteConnection, app: &AppId) -> Result<Vec<Subscriber>> {
    let rows = sqlx::query(
        "SELECT id, event_types, channels FROM endpoints WHERE app_id = ? AND disabled = 0",
    )
    .bind(app.as_str())
    .fetch_all(&mut *tx)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Subscriber {
                id: row.try_get("id")?,
                event_types: list_from_json(row, "event_types")?,
                channels: list_from_json(row, "channels")?,
            })
        })
        .collect()
}

/// Queues one pending delivery per endpoint, due when the message was created; one statement
/// whatever the number of endpoints.
async fn queue_deliveries(
    tx: &mut SqliteConnection,
    message: &Message,
    endpoints: &[&str],
) -> Result<u32> {
    if endpoints.is_empty() {
        return Ok(0);
    }
    let queued = sqlx::query(
        "INSERT INTO deliveries (app_id, msg_id, endpoint_id, status, attempts_made,
                                 next_attempt_at, lease_until, trigger_type)
         SELECT ?, ?, value, 1, 0, ?, NULL, ? FROM json_each(?)",
    )
    .bind(message.app_id.as_str())
    .bind(message.id.as_str())
    .bind(message.created_at.as_millis())
    .bind(hookd_core::TriggerType::Scheduled.code())
    .bind(json_list(endpoints.iter().copied()))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    u32::try_from(queued).map_err(|e| StoreError::Corrupt(format!("delivery count: {e}")))
}

/// Stores the message and queues its one delivery, to `endpoint`, in one transaction.
pub(super) async fn insert_for_endpoint(
    writer: &SqlitePool,
    message: &Message,
    endpoint: &EndpointId,
) -> Result<Inserted> {
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    if !insert_message(&mut tx, message).await? {
        return Err(StoreError::Conflict("message with this eventId"));
    }
    let deliveries = queue_deliveries(&mut tx, message, &[endpoint.as_str()]).await?;
    tx.commit().await?;
    Ok(Inserted {
        msg_id: message.id.clone(),
        deliveries,
    })
}
