//! Message intake in SQLite: store a batch of messages and queue one delivery per endpoint
//! that wants each, in one transaction.
//!
//! The batch costs two round trips to the connection's thread whatever its size (see
//! `script`): one begins the transaction and reads the applications and their endpoints, the
//! other inserts the messages and the deliveries and commits. Each statement takes its rows as
//! one JSON array (`json_each`).

use std::collections::{HashMap, HashSet};

use hookd_core::filter::endpoint_wants;
use hookd_core::{EndpointId, Message};
use serde_json::json;
use sqlx::{Row, SqlitePool};

use super::column::{json_list, list_from_json, list_to_json};
use super::script::{Script, Then};
use crate::{Inserted, NewMessage, Result, StoreError};

/// What the fan-out needs to know about an enabled endpoint.
struct Subscriber {
    id: String,
    event_types: Option<Vec<String>>,
    channels: Option<Vec<String>>,
}

/// Begins the transaction and reads each application of `?1` (a JSON list) that exists, with
/// its enabled endpoints (none: one row with a NULL endpoint). Inside the transaction, so with
/// the single writer nothing can change them until the commit.
const READ_SUBSCRIBERS: &str = "
    BEGIN IMMEDIATE;
    SELECT a.id AS app_id, e.id, e.event_types, e.channels
    FROM applications a LEFT JOIN endpoints e ON e.app_id = a.id AND e.disabled = 0
    WHERE a.id IN (SELECT value FROM json_each(?1))";

/// Inserts the messages of `?1` and returns the ids of those inserted (`ON CONFLICT` names the
/// event-id key alone: any other violation is still an error; `WHERE true` lets an upsert
/// follow a `SELECT`). Then queues the deliveries of `?2` whose message went in, each due when
/// its message was created, and commits.
const INSERT_AND_QUEUE: &str = "
    INSERT INTO messages (id, app_id, event_type, event_id, channels, payload,
                          retention_days, created_at)
    SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5,
           value ->> 6, value ->> 7
    FROM json_each(?1) WHERE true
    ON CONFLICT (app_id, event_id) DO NOTHING
    RETURNING id;
    INSERT INTO deliveries (app_id, msg_id, endpoint_id, status, attempts_made,
                            next_attempt_at, lease_until, trigger_type)
    SELECT value ->> 0, value ->> 1, value ->> 2, 1, 0, value ->> 3, NULL, ?3
    FROM json_each(?2)
    WHERE EXISTS (SELECT 1 FROM messages WHERE id = value ->> 1);
    COMMIT";

pub(super) async fn insert_messages(
    writer: &SqlitePool,
    batch: &[NewMessage],
) -> Result<Vec<Result<Inserted>>> {
    let app_ids = json_list(
        batch
            .iter()
            .map(|m| m.message.app_id.as_str())
            .collect::<HashSet<_>>(),
    );
    let mut script = Script::on(writer).await?;
    let rows = script
        .run(sqlx::query(READ_SUBSCRIBERS).bind(app_ids), Then::StayOpen)
        .await?;
    let mut subscribers: HashMap<String, Vec<Subscriber>> = HashMap::new();
    for row in &rows {
        let app = subscribers.entry(row.try_get("app_id")?).or_default();
        if let Some(id) = row.try_get("id")? {
            app.push(Subscriber {
                id,
                event_types: list_from_json(row, "event_types")?,
                channels: list_from_json(row, "channels")?,
            });
        }
    }
    let mut messages = Vec::with_capacity(batch.len());
    let mut deliveries = Vec::new();
    // Per message: its application is gone (None), or how many deliveries it queues.
    let mut fanned = Vec::with_capacity(batch.len());
    for NewMessage { message } in batch {
        let Some(endpoints) = subscribers.get(message.app_id.as_str()) else {
            fanned.push(None);
            continue;
        };
        let before = deliveries.len();
        deliveries.extend(
            endpoints
                .iter()
                .filter(|s| {
                    endpoint_wants(
                        s.event_types.as_deref(),
                        s.channels.as_deref(),
                        &message.event_type,
                        message.channels.as_deref(),
                    )
                })
                .map(|s| delivery_row(message, &s.id)),
        );
        messages.push(message_row(message));
        fanned.push(Some(count(deliveries.len() - before)?));
    }
    let stored = insert_and_queue(&mut script, messages, deliveries).await?;
    Ok(batch
        .iter()
        .zip(fanned)
        .map(|(NewMessage { message }, fanned)| match fanned {
            None => Err(StoreError::NotFound("application")),
            Some(_) if !stored.contains(message.id.as_str()) => {
                Err(StoreError::Conflict("message with this eventId"))
            }
            Some(deliveries) => Ok(Inserted {
                msg_id: message.id.clone(),
                deliveries,
            }),
        })
        .collect())
}

/// Runs `INSERT_AND_QUEUE`: the ids of the messages inserted.
async fn insert_and_queue(
    script: &mut Script,
    messages: Vec<serde_json::Value>,
    deliveries: Vec<serde_json::Value>,
) -> Result<HashSet<String>> {
    let query = sqlx::query(INSERT_AND_QUEUE)
        .bind(serde_json::Value::Array(messages).to_string())
        .bind(serde_json::Value::Array(deliveries).to_string())
        .bind(hookd_core::TriggerType::Scheduled.code());
    let rows = script.run(query, Then::Committed).await?;
    rows.iter().map(|row| Ok(row.try_get("id")?)).collect()
}

/// One row of `?1` in `INSERT_AND_QUEUE`.
fn message_row(m: &Message) -> serde_json::Value {
    json!([
        m.id.as_str(),
        m.app_id.as_str(),
        m.event_type,
        m.event_id,
        list_to_json(m.channels.as_deref()),
        crate::convert::payload_to_column(m.payload.as_deref()),
        m.retention_days,
        m.created_at.as_millis(),
    ])
}

/// One row of `?2` in `INSERT_AND_QUEUE`.
fn delivery_row(message: &Message, endpoint: &str) -> serde_json::Value {
    json!([
        message.app_id.as_str(),
        message.id.as_str(),
        endpoint,
        message.created_at.as_millis(),
    ])
}

fn count(n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|e| StoreError::Corrupt(format!("delivery count: {e}")))
}

/// Stores the message and queues its one delivery, to `endpoint`, in one transaction.
pub(super) async fn insert_for_endpoint(
    writer: &SqlitePool,
    message: &Message,
    endpoint: &EndpointId,
) -> Result<Inserted> {
    let mut script = Script::on(writer).await?;
    script
        .run(sqlx::query("BEGIN IMMEDIATE"), Then::StayOpen)
        .await?;
    let stored = insert_and_queue(
        &mut script,
        vec![message_row(message)],
        vec![delivery_row(message, endpoint.as_str())],
    )
    .await?;
    if !stored.contains(message.id.as_str()) {
        return Err(StoreError::Conflict("message with this eventId"));
    }
    Ok(Inserted {
        msg_id: message.id.clone(),
        deliveries: 1,
    })
}
