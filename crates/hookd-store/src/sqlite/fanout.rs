//! Message intake in SQLite: store a batch of messages and queue one delivery per endpoint
//! that wants each, in one transaction, which also records the outcomes of attempts that
//! finished meanwhile (one commit, one fsync for both).
//!
//! One transaction begins, inserts the messages and the deliveries, records the outcomes and
//! commits. The fan-out needs each application's enabled endpoints, which the store keeps in
//! memory between batches (`Subscribers`); a batch written with them checks, inside its own
//! transaction, that no endpoint changed since they were read (`subscribers_version`, which
//! triggers count up), and stores no message if one did. Then, and for applications not kept
//! yet, they are read first (a read transaction of their own) and the batch written again. A
//! batch without event ids (nothing in it can conflict) is written through prepared multi-row
//! statements with bound values on the writer's connection of SQLite's own (`bound`,
//! `write_bound`), called on the caller's thread; one with event ids as a script, one round
//! trip to sqlx's connection thread (see `script`), whose statements take their rows as JSON
//! arrays (`jsonb_each`), the payloads beside them in one blob, and return which messages went
//! in.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use hookd_core::filter::endpoint_wants;
use hookd_core::{AttemptStatus, EndpointId, Message, Timestamp, TriggerType};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::bound::{Db, Prepared};
use super::column::{json_list, list_from_json, list_to_json};
use super::script::{Script, Then};
use super::writer::Writer;
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

/// Reads each application of `?1` (a JSON list) that exists, with its enabled endpoints
/// (none: one row with a NULL endpoint), and the `subscribers_version` they are at, in one
/// read transaction. The batch written with them checks that version in its own.
const READ_SUBSCRIBERS: &str = "
    BEGIN;
    SELECT a.id AS app_id, e.id, e.event_types, e.channels, e.url, e.secret,
           e.retired_secrets, e.headers
    FROM applications a LEFT JOIN endpoints e ON e.app_id = a.id AND e.disabled = 0
    WHERE a.id IN (SELECT value FROM json_each(?1));
    SELECT version AS subscribers_version FROM subscribers_version;
    COMMIT";

/// Inserts the messages of `?1`, their payloads cut from `?8` (see `Messages`), returning the
/// ids of those inserted (`ON CONFLICT` names the event-id key alone: any other violation is
/// still an error). Then queues the deliveries of `?2` whose message went in, each due when
/// its message was created; stores those of `?6` leased until `?7`, returning their ids;
/// records the attempts' outcomes of `?4` and `?5` (`record!`), and commits, all in a
/// transaction of its own.
///
/// With `?9` set, messages go in only if `subscribers_version` is still `?9`: the version the
/// endpoints the deliveries were made from were read at. Otherwise nothing but the outcomes
/// is written, and the summary row (`subscribers_version`) says so.
macro_rules! insert_and_queue {
    () => {
        concat!(
            "BEGIN IMMEDIATE;
             INSERT INTO messages (id, app_id, event_type, event_id, channels, payload,
                                   retention_days, created_at)
             SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4,
                    CAST(substr(?8, value ->> 5, value ->> 6) AS TEXT), value ->> 7, value ->> 8
             FROM jsonb_each(?1)
             WHERE ?9 IS NULL OR (SELECT version FROM subscribers_version) = ?9
             ON CONFLICT (app_id, event_id) WHERE event_id IS NOT NULL DO NOTHING
             RETURNING id;
             INSERT INTO deliveries (app_id, msg_id, endpoint_id, status, attempts_made,
                                     next_attempt_at, lease_until, trigger_type)
             SELECT value ->> 0, value ->> 1, value ->> 2, 1, 0, value ->> 3, NULL, ?3
             FROM jsonb_each(?2)
             WHERE EXISTS (SELECT 1 FROM messages WHERE id = value ->> 1);
             INSERT INTO deliveries (app_id, msg_id, endpoint_id, status, attempts_made,
                                     next_attempt_at, lease_until, trigger_type)
             SELECT value ->> 0, value ->> 1, value ->> 2, 3, 0, value ->> 3, ?7, ?3
             FROM jsonb_each(?6)
             WHERE EXISTS (SELECT 1 FROM messages WHERE id = value ->> 1)
             RETURNING id AS delivery_id, msg_id, endpoint_id;
             SELECT (SELECT version FROM subscribers_version) AS subscribers_version;",
            record!("?4", "?5"),
            "COMMIT"
        )
    };
}

/// Rows (tuples) as one JSON array of arrays.
macro_rules! json_rows {
    ($rows:expr) => {
        serde_json::to_string(&$rows).expect("rows of strings and numbers always serialize")
    };
}

/// For a batch with event ids, where a message may conflict: only deliveries of messages that
/// went in, and a row back per message inserted and per delivery handed over (`delivery_id`,
/// with its message and endpoint). A batch without event ids goes through prepared
/// statements instead (`write_bound`).
const INSERT_AND_QUEUE: &str = insert_and_queue!();

/// Each application's enabled endpoints, by application id.
type ByApp = HashMap<String, Arc<[Subscriber]>>;

/// Applications' enabled endpoints as the intake last read them, and the `subscribers_version`
/// they were read at; a batch whose applications are all here needs no read of its own.
#[derive(Default)]
pub(super) struct Subscribers(Mutex<Kept>);

#[derive(Default)]
struct Kept {
    version: i64,
    apps: ByApp,
}

/// The most applications kept; past it the store starts again empty.
const KEPT_APPS: usize = 10_000;

impl std::fmt::Debug for Subscribers {
    // Endpoints hold sealed secrets: say only how many applications are kept.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kept = self.0.lock().map(|k| k.apps.len()).unwrap_or_default();
        f.debug_struct("Subscribers").field("apps", &kept).finish()
    }
}

impl Subscribers {
    fn kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The endpoints of every application of `apps`, and their version, if all are kept.
    fn get(&self, apps: &HashSet<&str>) -> Option<(i64, ByApp)> {
        let kept = self.kept();
        let mut found = HashMap::with_capacity(apps.len());
        for app in apps {
            found.insert((*app).to_owned(), kept.apps.get(*app)?.clone());
        }
        Some((kept.version, found))
    }

    /// Keeps what a batch read at `version`; what was kept at another version goes.
    fn put(&self, version: i64, read: &ByApp) {
        let mut kept = self.kept();
        if kept.version != version || kept.apps.len() + read.len() > KEPT_APPS {
            kept.apps.clear();
            kept.version = version;
        }
        for (app, endpoints) in read {
            kept.apps.insert(app.clone(), endpoints.clone());
        }
    }

    fn forget(&self) {
        self.kept().apps.clear();
    }
}

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
/// deliveries as its room allows. The endpoints come from `kept`, or, for applications not
/// kept, are read first; the batch's transaction checks they are still current, and if one
/// changed meanwhile, they are read again and the batch written again (its outcomes were
/// recorded by the first try).
pub(super) async fn write_batch(
    writer: &Writer,
    sealer: &Sealer,
    kept: &Subscribers,
    batch: &[NewMessage],
    outcomes: &[Outcome],
    handoff: Option<&Handoff>,
) -> Result<Written> {
    if batch.is_empty() {
        super::queue::record_outcomes(writer, outcomes).await?;
        return Ok(Written::default());
    }
    let app_ids: HashSet<&str> = batch.iter().map(|m| m.message.app_id.as_str()).collect();
    let mut outcomes = outcomes;
    for _ in 0..READ_TRIES {
        let mut script = Script::on(writer).await?;
        let (version, subscribers) = match kept.get(&app_ids) {
            Some(kept) => kept,
            None => {
                let query = sqlx::query(READ_SUBSCRIBERS).bind(json_list(app_ids.iter().copied()));
                let read = read_subscribers(&script.run(query, Then::Committed).await?)?;
                kept.put(read.0, &read.1);
                read
            }
        };
        let fan_out = FanOut {
            sealer,
            batch,
            handoff,
            subscribers: &subscribers,
        };
        if let Some(written) = fan_out.write(&mut script, outcomes, version).await? {
            return Ok(written);
        }
        // An endpoint changed: that transaction recorded the outcomes and nothing else.
        kept.forget();
        outcomes = &[];
    }
    Err(StoreError::Unavailable(format!(
        "endpoints changed during each of {READ_TRIES} tries to store a batch"
    )))
}

/// How many times a batch is tried with endpoints read anew before it fails; each try fails
/// only if an endpoint of the store changed between the read and the write.
const READ_TRIES: usize = 8;

/// The rows of `READ_SUBSCRIBERS`: each application's enabled endpoints, and their version.
fn read_subscribers(rows: &[SqliteRow]) -> Result<(i64, ByApp)> {
    let mut version = None;
    let mut read: HashMap<String, Vec<Subscriber>> = HashMap::new();
    for row in rows {
        if row.try_column("subscribers_version").is_ok() {
            version = Some(row.try_get("subscribers_version")?);
            continue;
        }
        let app = read.entry(row.try_get("app_id")?).or_default();
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
    let version = version.ok_or_else(|| StoreError::Corrupt("no subscribers_version".into()))?;
    let read = read
        .into_iter()
        .map(|(app, endpoints)| (app, Arc::from(endpoints)))
        .collect();
    Ok((version, read))
}

/// A batch fanned out to the endpoints it was read or kept with.
struct FanOut<'a> {
    sealer: &'a Sealer,
    batch: &'a [NewMessage],
    handoff: Option<&'a Handoff>,
    subscribers: &'a ByApp,
}

impl FanOut<'_> {
    /// Writes the batch on `script` with `outcomes`, in a transaction of its own that checks
    /// the endpoints are still at `version` (the one they were read at): `None` if they
    /// changed since, and only the outcomes were written.
    async fn write(
        &self,
        script: &mut Script,
        outcomes: &[Outcome],
        version: i64,
    ) -> Result<Option<Written>> {
        let mut room = self.handoff.map(Room::new);
        let mut messages = Messages::for_batch(self.batch.iter().map(|new| &new.message));
        let (mut queued, mut handed) = (Vec::new(), Vec::new());
        // Whom each row of `handed` goes to.
        let mut handed_to = Vec::new();
        let mut queued_to = HashSet::new();
        // Per message: its application is gone (None), or how many deliveries it makes.
        let mut fanned = Vec::with_capacity(self.batch.len());
        for NewMessage { message } in self.batch {
            let Some(endpoints) = self.subscribers.get(message.app_id.as_str()) else {
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
        let written = insert_and_queue(
            script,
            messages,
            queued,
            outcomes,
            self.handoff.map(|h| (handed, h.lease_until)),
            Some(version),
        )
        .await?;
        let Some((stored, ids)) = written else {
            return Ok(None);
        };
        let handed = match self.handoff {
            Some(handoff) => {
                handed_over(self.sealer, handoff, ids.pair(handed_to, self.subscribers)?)?
            }
            None => Vec::new(),
        };
        let inserted = self
            .batch
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
        Ok(Some(Written {
            inserted,
            handed,
            queued: queued_to
                .into_iter()
                .map(|id| EndpointId::from_stored(id.to_owned()))
                .collect(),
        }))
    }
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
        subscribers: &'b ByApp,
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
                    .flat_map(|endpoints| endpoints.iter())
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
/// In a transaction of its own; with `version`, it stores the messages only if
/// `subscribers_version` is still that (`None` back if not).
async fn insert_and_queue(
    script: &mut Script,
    messages: Messages<'_>,
    queued: Vec<DeliveryRow<'_>>,
    outcomes: &[Outcome],
    handed: Option<(Vec<DeliveryRow<'_>>, Timestamp)>,
    version: Option<i64>,
) -> Result<Option<(HashSet<String>, HandedIds)>> {
    let (handed, lease_until) = handed.unwrap_or_default();
    if !messages.with_event_id {
        let queued = (queued.as_slice(), AttemptStatus::Pending, None);
        let handed_rows = (handed.as_slice(), AttemptStatus::Sending, Some(lease_until));
        let written = script.bound(|db, prepared| {
            write_bound(
                db,
                prepared,
                &messages,
                [queued, handed_rows],
                outcomes,
                version,
            )
        })?;
        return Ok(written.map(|last| {
            let handed = HandedIds::Consecutive {
                count: i64::try_from(handed.len()).expect("a batch is small"),
                last,
            };
            (messages.ids.into_iter().collect(), handed)
        }));
    }
    let (attempts, moves) = super::queue::outcome_params(outcomes);
    let Messages { rows, payloads, .. } = messages;
    let query = sqlx::query(INSERT_AND_QUEUE)
        .bind(json_rows!(rows))
        .bind(json_rows!(queued))
        .bind(TriggerType::Scheduled.code())
        .bind(attempts)
        .bind(moves)
        .bind(json_rows!(handed))
        .bind(lease_until.as_millis())
        .bind(payloads)
        .bind(version);
    let rows = script.run(query, Then::Committed).await?;
    let Some(summary) = rows
        .iter()
        .find(|row| row.try_column("subscribers_version").is_ok())
    else {
        return Err(StoreError::Corrupt("no summary row from the intake".into()));
    };
    if version.is_some_and(|v| summary.try_get::<i64, _>("subscribers_version").ok() != Some(v)) {
        return Ok(None);
    }
    let mut stored = HashSet::new();
    let mut handed = Vec::new();
    for row in rows {
        if row.try_column("delivery_id").is_ok() {
            handed.push(row);
        } else if row.try_column("subscribers_version").is_err() {
            stored.insert(row.try_get("id")?);
        }
    }
    Ok(Some((stored, HandedIds::Rows(handed))))
}

/// Deliveries to insert, with the status and lease they start with.
type Deliveries<'r, 'm> = (&'r [DeliveryRow<'m>], AttemptStatus, Option<Timestamp>);

/// What `INSERT_AND_QUEUE` does for a batch without event ids, through the prepared
/// statements (`bound`), in a transaction of its own: with `version`, stores the messages only
/// if `subscribers_version` is still that (`None` back if not; the outcomes are recorded
/// either way). Back: the last delivery's rowid.
/// The deliveries of `deliveries[1]` (the handed ones) go in last, in order, and each gets the
/// next rowid: so that rowid and their count say every id. SQLite gives a new row the largest
/// rowid plus one; only a table that already holds the largest possible rowid makes it pick at
/// random, and hookd never writes one.
fn write_bound(
    db: Db,
    prepared: &Prepared,
    messages: &Messages<'_>,
    deliveries: [Deliveries<'_, '_>; 2],
    outcomes: &[Outcome],
    version: Option<i64>,
) -> Result<Option<i64>> {
    prepared.begin(db)?;
    let current = match version {
        Some(v) => prepared.subscribers_version(db)? == v,
        None => true,
    };
    let mut last = 0;
    if current {
        prepared.messages.run(db, &messages.rows, |b, row| {
            b.text(row.0);
            b.text(row.1);
            b.text(row.2);
            b.opt_text(row.3);
            b.opt_text(row.4.as_deref());
            b.bytes_as_text(&messages.payloads[row.5 - 1..][..row.6]);
            b.int(row.7);
            b.int(row.8);
        })?;
        for (rows, status, lease_until) in deliveries {
            prepared.deliveries.run(db, rows, |b, row| {
                b.text(row.0);
                b.text(row.1);
                b.text(row.2);
                b.int(i64::from(status.code()));
                b.int(row.3);
                b.opt_int(lease_until.map(|t| t.as_millis()));
                b.int(i64::from(TriggerType::Scheduled.code()));
            })?;
        }
        last = db.last_rowid();
    }
    super::queue::record_bound(db, prepared, outcomes)?;
    prepared.commit(db)?;
    Ok(current.then_some(last))
}

/// The messages of `INSERT_AND_QUEUE`: one JSON row each in `?1`, their payloads one after the
/// other in the blob `?8`, each row saying where its own starts (from 1) and how long it is.
/// A payload inside the JSON would be escaped, parsed and unescaped again; a slice of a blob
/// is copied once.
struct Messages<'m> {
    rows: Vec<MessageRow<'m>>,
    payloads: Vec<u8>,
    ids: Vec<String>,
    /// Some message has an event id, so some may conflict.
    with_event_id: bool,
}

/// One message of `?1`: id, application, event type, event id, channels (JSON), where its
/// payload starts in the blob and how long it is, retention days, creation time. A tuple
/// serializes as a JSON array without building a `serde_json::Value` first.
type MessageRow<'m> = (
    &'m str,
    &'m str,
    &'m str,
    Option<&'m str>,
    Option<String>,
    usize,
    usize,
    i64,
    i64,
);

/// One delivery of `?2` or `?6`: application, message, endpoint, due time.
type DeliveryRow<'m> = (&'m str, &'m str, &'m str, i64);

impl<'m> Messages<'m> {
    /// Empty, with room for `batch` (whose payloads' blob would otherwise grow by copies).
    fn for_batch<'b>(batch: impl ExactSizeIterator<Item = &'b Message> + Clone) -> Messages<'m> {
        let n = batch.len();
        let bytes = batch
            .map(|m| crate::convert::payload_to_column(m.payload.as_deref()).len())
            .sum();
        Messages {
            rows: Vec::with_capacity(n),
            payloads: Vec::with_capacity(bytes),
            ids: Vec::with_capacity(n),
            with_event_id: false,
        }
    }

    fn push(&mut self, m: &'m Message) {
        let payload = crate::convert::payload_to_column(m.payload.as_deref()).as_bytes();
        let start = self.payloads.len() + 1;
        self.payloads.extend_from_slice(payload);
        self.ids.push(m.id.as_str().to_owned());
        self.with_event_id |= m.event_id.is_some();
        self.rows.push((
            m.id.as_str(),
            m.app_id.as_str(),
            &m.event_type,
            m.event_id.as_deref(),
            list_to_json(m.channels.as_deref()),
            start,
            payload.len(),
            m.retention_days,
            m.created_at.as_millis(),
        ));
    }
}

/// One row of `?2` or `?6` in `INSERT_AND_QUEUE`.
fn delivery_row<'m>(message: &'m Message, endpoint: &'m str) -> DeliveryRow<'m> {
    (
        message.app_id.as_str(),
        message.id.as_str(),
        endpoint,
        message.created_at.as_millis(),
    )
}

fn count(n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|e| StoreError::Corrupt(format!("delivery count: {e}")))
}

/// Stores the message and queues its one delivery, to `endpoint`, in one transaction.
pub(super) async fn insert_for_endpoint(
    writer: &Writer,
    message: &Message,
    endpoint: &EndpointId,
) -> Result<Inserted> {
    let mut script = Script::on(writer).await?;
    let mut messages = Messages::for_batch(std::iter::once(message));
    messages.push(message);
    let (stored, _) = insert_and_queue(
        &mut script,
        messages,
        vec![delivery_row(message, endpoint.as_str())],
        &[],
        None,
        None,
    )
    .await?
    .ok_or_else(|| StoreError::Corrupt("a message without a version check was refused".into()))?;
    if stored.is_empty() {
        return Err(StoreError::Conflict("message with this eventId"));
    }
    Ok(Inserted {
        msg_id: message.id.clone(),
        deliveries: 1,
    })
}
