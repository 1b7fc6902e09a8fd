//! Message intake in SQLite: store a batch of messages and queue one delivery per endpoint
//! that wants each, in one transaction, which also records the outcomes of attempts that
//! finished meanwhile (one commit, one fsync for both).
//!
//! The batch costs two round trips to the connection's thread whatever its size (see
//! `script`): one begins the transaction and reads the applications and their endpoints, the
//! other inserts the messages and the deliveries and commits. Each statement takes its rows as
//! one JSON array (`jsonb_each`); the messages' payloads come beside it in one blob.

use std::collections::{BTreeMap, HashMap, HashSet};

use hookd_core::filter::endpoint_wants;
use hookd_core::{EndpointId, Message, Timestamp, TriggerType};
use serde_json::json;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

use super::column::{json_list, list_from_json, list_to_json};
use super::script::{Script, Then};
use crate::secrets::Secrets;
use crate::{
    DeliveryId, DueDelivery, Handoff, Inserted, NewMessage, Outcome, Result, Sealer, StoreError,
    Written,
};

/// What the fan-out needs to know about an enabled endpoint, and what a handed-over delivery
/// needs to be sent.
struct Subscriber {
    id: String,
    event_types: Option<Vec<String>>,
    channels: Option<Vec<String>>,
    url: String,
    secret: String,
    retired_secrets: String,
    headers: String,
}

/// Begins the transaction and reads each application of `?1` (a JSON list) that exists, with
/// its enabled endpoints (none: one row with a NULL endpoint). Inside the transaction, so with
/// the single writer nothing can change them until the commit.
const READ_SUBSCRIBERS: &str = "
    BEGIN IMMEDIATE;
    SELECT a.id AS app_id, e.id, e.event_types, e.channels, e.url, e.secret,
           e.retired_secrets, e.headers
    FROM applications a LEFT JOIN endpoints e ON e.app_id = a.id AND e.disabled = 0
    WHERE a.id IN (SELECT value FROM json_each(?1))";

/// Inserts the messages of `?1`, their payloads cut from `?8` (see `Messages`), returning the
/// ids of those inserted where `$returning` asks (`ON CONFLICT` names the event-id key alone:
/// any other violation is still an error; `WHERE true` lets an upsert follow a `SELECT`). Then
/// queues the deliveries of `?2` (those `$stored` keeps: whose message went in), each due when
/// its message was created; stores those of `?6` leased until `?7`, and says which ids they
/// got (`$handed`); records the attempts' outcomes of `?4` and `?5` (`record!`), and commits.
macro_rules! insert_and_queue {
    ($returning:literal, $stored:literal, $handed:literal) => {
        concat!(
            "INSERT INTO messages (id, app_id, event_type, event_id, channels, payload,
                                   retention_days, created_at)
             SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4,
                    CAST(substr(?8, value ->> 5, value ->> 6) AS TEXT), value ->> 7, value ->> 8
             FROM jsonb_each(?1) WHERE true
             ON CONFLICT (app_id, event_id) DO NOTHING",
            $returning,
            ";
             INSERT INTO deliveries (app_id, msg_id, endpoint_id, status, attempts_made,
                                     next_attempt_at, lease_until, trigger_type)
             SELECT value ->> 0, value ->> 1, value ->> 2, 1, 0, value ->> 3, NULL, ?3
             FROM jsonb_each(?2)",
            $stored,
            ";
             INSERT INTO deliveries (app_id, msg_id, endpoint_id, status, attempts_made,
                                     next_attempt_at, lease_until, trigger_type)
             SELECT value ->> 0, value ->> 1, value ->> 2, 3, 0, value ->> 3, ?7, ?3
             FROM jsonb_each(?6)",
            $stored,
            $handed,
            ";",
            record!("?4", "?5"),
            "COMMIT"
        )
    };
}

/// Where a message may conflict: only deliveries of messages that went in, and a row back per
/// message inserted and per delivery handed over (`delivery_id`, with its message and endpoint).
const INSERT_AND_QUEUE: &str = insert_and_queue!(
    " RETURNING id",
    " WHERE EXISTS (SELECT 1 FROM messages WHERE id = value ->> 1)",
    " RETURNING id AS delivery_id, msg_id, endpoint_id"
);
/// For a batch without event ids: nothing can conflict, so every message and delivery goes in,
/// and one row comes back instead of a row per message and per handed delivery (each row is a
/// message from the connection's thread). The handed deliveries go in in the order of `?6`
/// and, in one statement, each gets the next rowid: so the last rowid and their count say
/// every id (SQLite gives a new row the largest rowid plus one; only a table that already
/// holds the largest possible rowid makes it pick at random, and hookd never writes one).
const INSERT_AND_QUEUE_ALL: &str = insert_and_queue!(
    "",
    "",
    " ORDER BY key;
     SELECT changes() AS handed_count, last_insert_rowid() AS handed_last"
);

/// The room a handoff leaves, as the batch's deliveries use it up.
struct Room<'h> {
    handoff: &'h Handoff,
    left: HashMap<&'h str, u32>,
    total: u32,
}

impl<'h> Room<'h> {
    fn new(handoff: &'h Handoff) -> Room<'h> {
        Room {
            handoff,
            left: handoff
                .rooms
                .iter()
                .map(|(id, room)| (id.as_str(), *room))
                .collect(),
            total: handoff.limit,
        }
    }

    /// Takes one place for a new delivery to `endpoint`, if there is one.
    fn take(&mut self, endpoint: &'h str) -> bool {
        let left = self
            .left
            .entry(endpoint)
            .or_insert(self.handoff.default_room);
        if *left == 0 || self.total == 0 {
            return false;
        }
        *left -= 1;
        self.total -= 1;
        true
    }
}

/// Stores a batch of messages with their deliveries, and records `outcomes`, in one
/// transaction (see `Store::write_batch`); with `handoff`, leases to the caller as many new
/// deliveries as its room allows.
pub(super) async fn write_batch(
    writer: &SqlitePool,
    sealer: &Sealer,
    batch: &[NewMessage],
    outcomes: &[Outcome],
    handoff: Option<&Handoff>,
) -> Result<Written> {
    if batch.is_empty() {
        super::queue::record_outcomes(writer, outcomes).await?;
        return Ok(Written::default());
    }
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
                url: row.try_get("url")?,
                secret: row.try_get("secret")?,
                retired_secrets: row.try_get("retired_secrets")?,
                headers: row.try_get("headers")?,
            });
        }
    }
    let mut room = handoff.map(Room::new);
    let mut messages = Messages::with_capacity(batch.len());
    let (mut queued, mut handed) = (Vec::new(), Vec::new());
    // Whom each row of `handed` goes to.
    let mut handed_to = Vec::new();
    let mut queued_to = HashSet::new();
    // Per message: its application is gone (None), or how many deliveries it makes.
    let mut fanned = Vec::with_capacity(batch.len());
    for NewMessage { message } in batch {
        let Some(endpoints) = subscribers.get(message.app_id.as_str()) else {
            fanned.push(None);
            continue;
        };
        let mut made = 0;
        // A message without a payload is queued: the claim fails it.
        let sendable = message.payload.as_deref().is_some_and(|p| !p.is_empty());
        for endpoint in endpoints.iter().filter(|s| {
            endpoint_wants(
                s.event_types.as_deref(),
                s.channels.as_deref(),
                &message.event_type,
                message.channels.as_deref(),
            )
        }) {
            made += 1;
            let row = delivery_row(message, &endpoint.id);
            match room
                .as_mut()
                .map(|room| sendable && room.take(&endpoint.id))
            {
                Some(true) => {
                    handed.push(row);
                    handed_to.push((message, endpoint));
                }
                Some(false) => {
                    queued_to.insert(endpoint.id.as_str());
                    queued.push(row);
                }
                None => queued.push(row),
            }
        }
        messages.push(message);
        fanned.push(Some(made));
    }
    let (stored, ids) = insert_and_queue(
        &mut script,
        messages,
        queued,
        outcomes,
        handoff.map(|h| (handed, h.lease_until)),
    )
    .await?;
    let handed = match handoff {
        Some(handoff) => handed_over(sealer, handoff, ids.pair(handed_to, &subscribers)?)?,
        None => Vec::new(),
    };
    let inserted = batch
        .iter()
        .zip(fanned)
        .map(|(NewMessage { message }, fanned)| match fanned {
            None => Err(StoreError::NotFound("application")),
            Some(_) if !stored.contains(message.id.as_str()) => {
                Err(StoreError::Conflict("message with this eventId"))
            }
            Some(deliveries) => Ok(Inserted {
                msg_id: message.id.clone(),
                deliveries: count(deliveries)?,
            }),
        })
        .collect();
    Ok(Written {
        inserted,
        handed,
        queued: queued_to
            .into_iter()
            .map(|id| EndpointId::from_stored(id.to_owned()))
            .collect(),
    })
}

/// Which ids the deliveries handed over got.
enum HandedIds {
    /// A row each (`delivery_id`, `msg_id`, `endpoint_id`): those whose message went in.
    Rows(Vec<SqliteRow>),
    /// All of them, in the order handed, with consecutive ids ending at `last`.
    Consecutive { count: i64, last: i64 },
}

impl HandedIds {
    /// Each delivery handed over, with its id, message and endpoint. `handed_to` names them in
    /// the order they were handed.
    fn pair<'b>(
        self,
        handed_to: Vec<(&'b Message, &'b Subscriber)>,
        subscribers: &'b HashMap<String, Vec<Subscriber>>,
    ) -> Result<Vec<(i64, &'b Message, &'b Subscriber)>> {
        match self {
            HandedIds::Consecutive { count, last } => {
                if usize::try_from(count).ok() != Some(handed_to.len()) {
                    return Err(StoreError::Corrupt(format!(
                        "{count} deliveries stored of {} handed over",
                        handed_to.len()
                    )));
                }
                let first = last - count + 1;
                Ok((first..)
                    .zip(handed_to)
                    .map(|(id, (message, endpoint))| (id, message, endpoint))
                    .collect())
            }
            HandedIds::Rows(rows) => {
                let messages: HashMap<&str, &Message> = handed_to
                    .iter()
                    .map(|(message, _)| (message.id.as_str(), *message))
                    .collect();
                let endpoints: HashMap<&str, &Subscriber> = subscribers
                    .values()
                    .flatten()
                    .map(|s| (s.id.as_str(), s))
                    .collect();
                let mut paired = Vec::with_capacity(rows.len());
                for row in &rows {
                    let msg_id: &str = row.try_get("msg_id")?;
                    let endpoint_id: &str = row.try_get("endpoint_id")?;
                    let (Some(message), Some(endpoint)) =
                        (messages.get(msg_id), endpoints.get(endpoint_id))
                    else {
                        return Err(StoreError::Corrupt(
                            "a handed-over delivery of no message or endpoint in the batch".into(),
                        ));
                    };
                    paired.push((row.try_get("delivery_id")?, *message, *endpoint));
                }
                Ok(paired)
            }
        }
    }
}

/// The deliveries `INSERT_AND_QUEUE` stored leased, ready to send.
fn handed_over(
    sealer: &Sealer,
    handoff: &Handoff,
    stored: Vec<(i64, &Message, &Subscriber)>,
) -> Result<Vec<DueDelivery>> {
    // Opened once per endpoint, not per delivery.
    let mut opened: HashMap<&str, (Vec<String>, BTreeMap<String, String>)> = HashMap::new();
    let mut handed = Vec::with_capacity(stored.len());
    for (id, message, endpoint) in stored {
        let (secrets, headers) = match opened.get(endpoint.id.as_str()) {
            Some(known) => known.clone(),
            None => {
                let secrets = Secrets::open(
                    sealer,
                    &endpoint.id,
                    &endpoint.secret,
                    &endpoint.retired_secrets,
                )?
                .valid_at(handoff.now);
                let headers = crate::convert::json_to_map("headers", &endpoint.headers)?;
                opened.insert(&endpoint.id, (secrets.clone(), headers.clone()));
                (secrets, headers)
            }
        };
        handed.push(DueDelivery {
            id: DeliveryId(id),
            app_id: message.app_id.clone(),
            msg_id: message.id.clone(),
            endpoint_id: EndpointId::from_stored(endpoint.id.clone()),
            event_type: message.event_type.clone(),
            payload: message.payload.clone().unwrap_or_default(),
            url: endpoint.url.clone(),
            secrets,
            headers,
            attempts_made: 0,
            trigger: TriggerType::Scheduled,
        });
    }
    Ok(handed)
}

/// Runs `INSERT_AND_QUEUE` with `queued` deliveries and, if any, `handed` ones leased until
/// the time given: the ids of the messages inserted, and those of the deliveries handed over.
async fn insert_and_queue(
    script: &mut Script,
    messages: Messages,
    queued: Vec<serde_json::Value>,
    outcomes: &[Outcome],
    handed: Option<(Vec<serde_json::Value>, Timestamp)>,
) -> Result<(HashSet<String>, HandedIds)> {
    let (attempts, moves) = super::queue::outcome_params(outcomes);
    let (handed, lease_until) = handed.unwrap_or_default();
    let Messages {
        rows,
        payloads,
        ids,
        with_event_id,
    } = messages;
    let sql = if with_event_id {
        INSERT_AND_QUEUE
    } else {
        INSERT_AND_QUEUE_ALL
    };
    let query = sqlx::query(sql)
        .bind(serde_json::Value::Array(rows).to_string())
        .bind(serde_json::Value::Array(queued).to_string())
        .bind(TriggerType::Scheduled.code())
        .bind(attempts)
        .bind(moves)
        .bind(serde_json::Value::Array(handed).to_string())
        .bind(lease_until.as_millis())
        .bind(payloads);
    let rows = script.run(query, Then::Committed).await?;
    if !with_event_id {
        let Some(row) = rows.first() else {
            return Err(StoreError::Corrupt(
                "no count of deliveries handed over".into(),
            ));
        };
        let handed = HandedIds::Consecutive {
            count: row.try_get("handed_count")?,
            last: row.try_get("handed_last")?,
        };
        return Ok((ids.into_iter().collect(), handed));
    }
    let (inserted, handed): (Vec<SqliteRow>, Vec<SqliteRow>) = rows
        .into_iter()
        .partition(|row| row.try_column("delivery_id").is_err());
    let stored = inserted
        .iter()
        .map(|row| row.try_get("id"))
        .collect::<std::result::Result<_, _>>()?;
    Ok((stored, HandedIds::Rows(handed)))
}

/// The messages of `INSERT_AND_QUEUE`: one JSON row each in `?1`, their payloads one after the
/// other in the blob `?8`, each row saying where its own starts (from 1) and how long it is.
/// A payload inside the JSON would be escaped, parsed and unescaped again; a slice of a blob
/// is copied once.
struct Messages {
    rows: Vec<serde_json::Value>,
    payloads: Vec<u8>,
    ids: Vec<String>,
    /// Some message has an event id, so some may conflict.
    with_event_id: bool,
}

impl Messages {
    fn with_capacity(n: usize) -> Messages {
        Messages {
            rows: Vec::with_capacity(n),
            payloads: Vec::new(),
            ids: Vec::with_capacity(n),
            with_event_id: false,
        }
    }

    fn push(&mut self, m: &Message) {
        let payload = crate::convert::payload_to_column(m.payload.as_deref()).as_bytes();
        let start = self.payloads.len() + 1;
        self.payloads.extend_from_slice(payload);
        self.ids.push(m.id.as_str().to_owned());
        self.with_event_id |= m.event_id.is_some();
        self.rows.push(json!([
            m.id.as_str(),
            m.app_id.as_str(),
            m.event_type,
            m.event_id,
            list_to_json(m.channels.as_deref()),
            start,
            payload.len(),
            m.retention_days,
            m.created_at.as_millis(),
        ]));
    }
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
    let mut messages = Messages::with_capacity(1);
    messages.push(message);
    let (stored, _) = insert_and_queue(
        &mut script,
        messages,
        vec![delivery_row(message, endpoint.as_str())],
        &[],
        None,
    )
    .await?;
    if stored.is_empty() {
        return Err(StoreError::Conflict("message with this eventId"));
    }
    Ok(Inserted {
        msg_id: message.id.clone(),
        deliveries: 1,
    })
}
