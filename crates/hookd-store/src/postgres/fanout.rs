//! Message intake in PostgreSQL: store a batch of messages and queue one delivery per endpoint
//! that wants each, in one transaction, and tell the other nodes there is work.

use std::collections::HashMap;

use hookd_core::filter::endpoint_wants;
use hookd_core::{AppId, EndpointId, Message, TriggerType};
use sqlx::{PgConnection, PgPool, Row};

use super::retry::retrying;
use super::wakeup::Channel;
use crate::{Inserted, NewMessage, Result, StoreError};

/// What the fan-out needs to know about an enabled endpoint.
struct Subscriber {
    id: String,
    event_types: Option<Vec<String>>,
    channels: Option<Vec<String>>,
}

/// The deliveries a batch queues, one array per column.
#[derive(Default)]
struct Queued {
    app_ids: Vec<String>,
    msg_ids: Vec<String>,
    endpoint_ids: Vec<String>,
    due: Vec<i64>,
}

pub(super) async fn insert_messages(
    pool: &PgPool,
    channel: &Channel,
    batch: &[NewMessage],
) -> Result<Vec<Result<Inserted>>> {
    retrying(|| insert_once(pool, channel, batch)).await
}

async fn insert_once(
    pool: &PgPool,
    channel: &Channel,
    batch: &[NewMessage],
) -> Result<Vec<Result<Inserted>>> {
    let mut tx = pool.begin().await?;
    // An endpoint created while this runs may miss these messages, as it would had it been
    // created a moment later; one deleted meanwhile leaves rows that the claim drops.
    let mut subscribers: HashMap<&AppId, Vec<Subscriber>> = HashMap::new();
    let mut queued = Queued::default();
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
        let mut deliveries = 0;
        for subscriber in &subscribers[&message.app_id] {
            if endpoint_wants(
                subscriber.event_types.as_deref(),
                subscriber.channels.as_deref(),
                &message.event_type,
                message.channels.as_deref(),
            ) {
                queued.app_ids.push(message.app_id.as_str().to_owned());
                queued.msg_ids.push(message.id.as_str().to_owned());
                queued.endpoint_ids.push(subscriber.id.clone());
                queued.due.push(message.created_at.as_millis());
                deliveries += 1;
            }
        }
        results.push(Ok(Inserted {
            msg_id: message.id.clone(),
            deliveries,
        }));
    }
    if !queued.msg_ids.is_empty() {
        queue_deliveries(&mut tx, queued).await?;
        // Delivered to listeners only when this transaction commits, and not at all if it
        // does not: no node wakes for work it cannot see yet.
        channel.notify(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(results)
}

/// Inserts the message; false if the application already has a message with its event id.
async fn insert_message(tx: &mut PgConnection, message: &Message) -> Result<bool> {
    // ON CONFLICT names the event-id key alone: any other violation is still an error. A
    // concurrent insert of the same event id on another node waits for that node's commit.
    let inserted = sqlx::query(
        "INSERT INTO messages (id, app_id, event_type, event_id, channels, payload,
                               retention_days, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (app_id, event_id) DO NOTHING",
    )
    .bind(message.id.as_str())
    .bind(message.app_id.as_str())
    .bind(&message.event_type)
    .bind(message.event_id.as_deref())
    .bind(message.channels.as_deref())
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

async fn enabled_endpoints(tx: &mut PgConnection, app: &AppId) -> Result<Vec<Subscriber>> {
    let rows = sqlx::query(
        "SELECT id, event_types, channels FROM endpoints WHERE app_id = $1 AND NOT disabled",
    )
    .bind(app.as_str())
    .fetch_all(&mut *tx)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Subscriber {
                id: row.try_get("id")?,
                event_types: row.try_get("event_types")?,
                channels: row.try_get("channels")?,
            })
        })
        .collect()
}

/// Queues every pending delivery of the batch in one statement, each due when its message was
/// created.
async fn queue_deliveries(tx: &mut PgConnection, queued: Queued) -> Result<()> {
    sqlx::query(
        "INSERT INTO deliveries (app_id, msg_id, endpoint_id, status, attempts_made,
                                 next_attempt_at, lease_until, trigger_type)
         SELECT app_id, msg_id, endpoint_id, 1, 0, due, NULL, $5
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[])
              AS u(app_id, msg_id, endpoint_id, due)",
    )
    .bind(queued.app_ids)
    .bind(queued.msg_ids)
    .bind(queued.endpoint_ids)
    .bind(queued.due)
    .bind(TriggerType::Scheduled.code())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Stores the message and queues its one delivery, to `endpoint`, in one transaction, and
/// wakes the other nodes.
pub(super) async fn insert_for_endpoint(
    pool: &PgPool,
    channel: &Channel,
    message: &Message,
    endpoint: &EndpointId,
) -> Result<Inserted> {
    let mut tx = pool.begin().await?;
    if !insert_message(&mut tx, message).await? {
        return Err(StoreError::Conflict("message with this eventId"));
    }
    let queued = Queued {
        app_ids: vec![message.app_id.as_str().to_owned()],
        msg_ids: vec![message.id.as_str().to_owned()],
        endpoint_ids: vec![endpoint.as_str().to_owned()],
        due: vec![message.created_at.as_millis()],
    };
    queue_deliveries(&mut tx, queued).await?;
    channel.notify(&mut tx).await?;
    tx.commit().await?;
    Ok(Inserted {
        msg_id: message.id.clone(),
        deliveries: 1,
    })
}
