//! Message intake in PostgreSQL: store a batch of messages and queue one delivery per endpoint
//! that wants each, in one transaction, and tell the other nodes there is work.
//!
//! The batch goes in with a fixed handful of statements whatever its size, each taking its rows
//! as arrays (`UNNEST`): a statement is a round trip, and under load those cost more than the
//! writes.

use std::collections::{BTreeSet, HashMap, HashSet};

use hookd_core::filter::endpoint_wants;
use hookd_core::{Message, TriggerType};
use sqlx::{PgConnection, PgPool, Row};

use super::keys;
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

impl Queued {
    fn push(&mut self, message: &Message, endpoint: &str) {
        self.app_ids.push(message.app_id.as_str().to_owned());
        self.msg_ids.push(message.id.as_str().to_owned());
        self.endpoint_ids.push(endpoint.to_owned());
        self.due.push(message.created_at.as_millis());
    }
}

/// `ON CONFLICT` names the event-id key alone: any other violation is still an error. A
/// concurrent insert of the same event id on another node waits for that node's commit.
/// Channels come as JSON text (an array of arrays cannot be unnested row by row).
const INSERT_MESSAGES: &str = "
    INSERT INTO messages (id, app_id, event_type, event_id, channels, payload,
                          retention_days, created_at)
    SELECT id, app_id, event_type, event_id,
           CASE WHEN channels IS NULL THEN NULL
                ELSE ARRAY(SELECT jsonb_array_elements_text(channels::jsonb)) END,
           payload, retention_days, created_at
    FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                $7::bigint[], $8::bigint[])
         AS u(id, app_id, event_type, event_id, channels, payload, retention_days, created_at)
    ON CONFLICT (app_id, event_id) DO NOTHING
    RETURNING id";

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
    let app_ids: Vec<&str> = batch
        .iter()
        .map(|m| m.message.app_id.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // Locked until the commit, so no node deletes an application under its new messages. An
    // endpoint created while this runs may miss these messages, as it would had it been
    // created a moment later; one deleted meanwhile leaves rows that the claim drops.
    let apps: HashSet<String> = sqlx::query_scalar(
        "SELECT id FROM applications WHERE id = ANY($1) ORDER BY id FOR KEY SHARE",
    )
    .bind(&app_ids)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    let live: Vec<&NewMessage> = batch
        .iter()
        .filter(|m| apps.contains(m.message.app_id.as_str()))
        .collect();
    let now = live.iter().map(|m| m.message.created_at.as_millis()).max();
    let mut held: HashMap<&str, StoreError> = keys::answer(&mut tx, &live, now.unwrap_or(0))
        .await?
        .into_iter()
        .map(|(at, answer)| (live[at].message.id.as_str(), answer))
        .collect();
    let free: Vec<&NewMessage> = live
        .into_iter()
        .filter(|m| !held.contains_key(m.message.id.as_str()))
        .collect();
    let rows: Vec<&Message> = free.iter().map(|m| &m.message).collect();
    let stored = insert_rows(&mut tx, &rows).await?;
    let refused = free
        .iter()
        .filter(|m| !stored.contains(m.message.id.as_str()))
        .filter_map(|m| m.keyed.as_ref().map(|k| &k.key));
    keys::forget(&mut tx, refused).await?;
    let subscribers = enabled_endpoints(&mut tx, &app_ids).await?;
    let mut queued = Queued::default();
    let mut results = Vec::with_capacity(batch.len());
    for NewMessage { message, .. } in batch {
        if !apps.contains(message.app_id.as_str()) {
            results.push(Err(StoreError::NotFound("application")));
            continue;
        }
        if let Some(answer) = held.remove(message.id.as_str()) {
            results.push(Err(answer));
            continue;
        }
        if !stored.contains(message.id.as_str()) {
            results.push(Err(StoreError::Conflict("message with this eventId")));
            continue;
        }
        let mut deliveries = 0;
        for subscriber in subscribers
            .get(message.app_id.as_str())
            .into_iter()
            .flatten()
        {
            if endpoint_wants(
                subscriber.event_types.as_deref(),
                subscriber.channels.as_deref(),
                &message.event_type,
                message.channels.as_deref(),
            ) {
                queued.push(message, &subscriber.id);
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

/// Inserts the messages; returns the ids of those inserted, leaving out each one whose
/// application already has a message with its event id.
async fn insert_rows(tx: &mut PgConnection, messages: &[&Message]) -> Result<HashSet<String>> {
    if messages.is_empty() {
        return Ok(HashSet::new());
    }
    let column = |f: fn(&Message) -> Option<String>| -> Vec<Option<String>> {
        messages.iter().map(|m| f(m)).collect()
    };
    let ids: Vec<String> = sqlx::query_scalar(INSERT_MESSAGES)
        .bind(column(|m| Some(m.id.as_str().to_owned())))
        .bind(column(|m| Some(m.app_id.as_str().to_owned())))
        .bind(column(|m| Some(m.event_type.clone())))
        .bind(column(|m| m.event_id.clone()))
        .bind(column(|m| {
            m.channels
                .as_ref()
                .map(|c| serde_json::to_string(c).expect("a list of strings always serializes"))
        }))
        .bind(column(|m| {
            Some(crate::convert::payload_to_column(m.payload.as_deref()).to_owned())
        }))
        .bind(
            messages
                .iter()
                .map(|m| m.retention_days)
                .collect::<Vec<i64>>(),
        )
        .bind(
            messages
                .iter()
                .map(|m| m.created_at.as_millis())
                .collect::<Vec<i64>>(),
        )
        .fetch_all(&mut *tx)
        .await?;
    Ok(ids.into_iter().collect())
}

/// The enabled endpoints of `app_ids`, by application.
async fn enabled_endpoints(
    tx: &mut PgConnection,
    app_ids: &[&str],
) -> Result<HashMap<String, Vec<Subscriber>>> {
    let rows = sqlx::query(
        "SELECT app_id, id, event_types, channels FROM endpoints
         WHERE app_id = ANY($1) AND NOT disabled",
    )
    .bind(app_ids)
    .fetch_all(&mut *tx)
    .await?;
    let mut by_app: HashMap<String, Vec<Subscriber>> = HashMap::new();
    for row in &rows {
        by_app
            .entry(row.try_get("app_id")?)
            .or_default()
            .push(Subscriber {
                id: row.try_get("id")?,
                event_types: row.try_get("event_types")?,
                channels: row.try_get("channels")?,
            });
    }
    Ok(by_app)
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
