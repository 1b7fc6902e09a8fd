//! Message intake in SQLite, on the writer thread: a batch of messages, one delivery per
//! endpoint that wants each, and the outcomes of attempts that finished meanwhile, in one
//! transaction (one commit, one fsync for both).
//!
//! The fan-out needs each application's enabled endpoints, which the writer keeps between
//! batches (`Subscribers`). A batch reads `subscribers_version` (which triggers count up on
//! every change to an endpoint and every deleted application) inside its own transaction:
//! if it moved, what was kept is dropped, and applications not kept are read in that same
//! transaction. So a batch always fans out to the endpoints as they are when it commits, and
//! a message of an application that does not exist is refused, not stored (the intake's
//! connection has no foreign keys). Event ids are checked the same way, in the transaction,
//! so the messages go in as multi-row statements that nothing can make conflict.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, LazyLock};

use hookd_core::filter::endpoint_wants;
use hookd_core::{AttemptStatus, EndpointId, Message, TriggerType};
use rusqlite::{Connection, OptionalExtension};

use super::keys::{Key, Keys};
use super::queue::{light, record, transaction};
use super::rows::MultiRow;
use super::threads::Writing;
use crate::convert::payload_to_column;
use crate::secrets::Secrets;
use crate::{
    DeliveryId, DueDelivery, Handoff, Inserted, NewMessage, Outcome, Result, Sealer, StoreError,
};

/// What the fan-out needs to know about an enabled endpoint, and what a handed-over delivery
/// needs to be sent.
pub(super) struct Subscriber {
    id: String,
    event_types: Option<Vec<String>>,
    channels: Option<Vec<String>>,
    url: String,
    secret: String,
    retired_secrets: String,
    headers: String,
}

type Endpoints = Arc<Vec<Arc<Subscriber>>>;

/// Applications' enabled endpoints as the intake last read them, and the `subscribers_version`
/// they were read at.
#[derive(Default)]
pub(super) struct Subscribers {
    version: Option<i64>,
    apps: HashMap<String, Endpoints>,
}

/// The most applications kept; past it the intake starts again empty.
const KEPT_APPS: usize = 10_000;

impl std::fmt::Debug for Subscribers {
    // Endpoints hold sealed secrets: say only how many applications are kept.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscribers")
            .field("apps", &self.apps.len())
            .finish()
    }
}

/// Reads each application of `?1` (a JSON list) that exists, with its enabled endpoints
/// (none: one row with a NULL endpoint).
const READ_SUBSCRIBERS: &str = "
    SELECT a.id AS app_id, e.id, e.event_types, e.channels, e.url, e.secret,
           e.retired_secrets, e.headers
    FROM applications a LEFT JOIN endpoints e ON e.app_id = a.id AND e.disabled = 0
    WHERE a.id IN (SELECT value FROM json_each(?1))";

impl Subscribers {
    /// The endpoints of every application of `batch` that exists, as they are in the open
    /// transaction.
    fn for_batch(
        &mut self,
        conn: &Connection,
        batch: &[NewMessage],
    ) -> Result<HashMap<String, Endpoints>> {
        let version: i64 = conn
            .prepare_cached("SELECT version FROM subscribers_version")?
            .query_row([], |row| row.get(0))?;
        if self.version != Some(version) || self.apps.len() > KEPT_APPS {
            self.apps.clear();
            self.version = Some(version);
        }
        let apps: HashSet<&str> = batch.iter().map(|m| m.message.app_id.as_str()).collect();
        let missing: Vec<&str> = apps
            .iter()
            .copied()
            .filter(|app| !self.apps.contains_key(*app))
            .collect();
        if !missing.is_empty() {
            self.read(conn, &missing)?;
        }
        Ok(apps
            .into_iter()
            .filter_map(|app| Some((app.to_owned(), self.apps.get(app)?.clone())))
            .collect())
    }

    fn read(&mut self, conn: &Connection, apps: &[&str]) -> Result<()> {
        let apps = serde_json::to_string(apps).expect("strings always serialize");
        let mut stmt = conn.prepare_cached(READ_SUBSCRIBERS)?;
        let mut rows = stmt.query([apps])?;
        let mut read: HashMap<String, Vec<Arc<Subscriber>>> = HashMap::new();
        while let Some(row) = rows.next()? {
            let endpoints = read.entry(row.get("app_id")?).or_default();
            let Some(id) = row.get::<_, Option<String>>("id")? else {
                continue;
            };
            endpoints.push(Arc::new(Subscriber {
                id,
                event_types: json_list(row.get("event_types")?)?,
                channels: json_list(row.get("channels")?)?,
                url: row.get("url")?,
                secret: row.get("secret")?,
                retired_secrets: row.get("retired_secrets")?,
                headers: row.get("headers")?,
            }));
        }
        for (app, endpoints) in read {
            self.apps.insert(app, Arc::new(endpoints));
        }
        Ok(())
    }
}

fn json_list(text: Option<String>) -> Result<Option<Vec<String>>> {
    text.map(|t| serde_json::from_str(&t).map_err(|e| crate::convert::corrupt("list", e)))
        .transpose()
}

/// What a batch stored, as the writer thread returns it.
#[derive(Default)]
pub(super) struct Stored {
    /// What became of each message, in the batch's order.
    pub inserted: Vec<Result<Inserted>>,
    /// The deliveries handed over: their ids, messages (by place in the batch) and endpoints.
    pub handed: Vec<(i64, usize, Arc<Subscriber>)>,
    /// When a handoff was offered: the endpoints that got deliveries queued instead.
    pub queued: Vec<EndpointId>,
}

/// Stores `batch` with its deliveries and records `outcomes`, in one transaction (see
/// `Queue::write_batch`); with `handoff`, leases as many new deliveries as its room allows.
pub(super) fn write(
    writing: &mut Writing,
    batch: &[NewMessage],
    outcomes: &[Outcome],
    handoff: Option<&Handoff>,
) -> Result<Stored> {
    let Writing {
        intake: conn,
        subscribers,
        ..
    } = writing;
    if batch.is_empty() {
        light(conn, || record(conn, outcomes))?;
        return Ok(Stored::default());
    }
    transaction(conn, || {
        let endpoints = subscribers.for_batch(conn, batch)?;
        let mut keys = Keys::default();
        let plan = plan(conn, batch, &endpoints, handoff, &mut keys)?;
        keys.store(conn)?;
        MESSAGES.run(conn, &plan.messages, |b, &at| {
            let m = &batch[at].message;
            b.bind(m.id.as_str())?;
            b.bind(m.app_id.as_str())?;
            b.bind(&m.event_type)?;
            b.bind(m.event_id.as_deref())?;
            b.bind(m.channels.as_ref().map(|c| json(c)))?;
            b.bind(payload_to_column(m.payload.as_deref()))?;
            b.bind(m.retention_days)?;
            b.bind(m.created_at.as_millis())
        })?;
        let lease_until = handoff.map(|h| h.lease_until.as_millis());
        let rows = [
            (plan.queued.as_slice(), AttemptStatus::Pending, None),
            (plan.handed.as_slice(), AttemptStatus::Sending, lease_until),
        ];
        // The handed ones go in last, in order, so each gets the next rowid: the last one's
        // and their count name them all. SQLite gives a new row the largest rowid plus one;
        // only a table holding the largest possible rowid makes it pick at random.
        for (rows, status, lease) in rows {
            DELIVERIES.run(conn, rows, |b, (at, endpoint)| {
                let m = &batch[*at].message;
                b.bind(m.app_id.as_str())?;
                b.bind(m.id.as_str())?;
                b.bind(&endpoint.id)?;
                b.bind(status.code())?;
                b.bind(m.created_at.as_millis())?;
                b.bind(lease)?;
                b.bind(TriggerType::Scheduled.code())
            })?;
        }
        let last = conn.last_insert_rowid();
        record(conn, outcomes)?;
        let first = last - i64::try_from(plan.handed.len()).expect("a batch is small") + 1;
        let handed = (first..)
            .zip(plan.handed)
            .map(|(id, (at, endpoint))| (id, at, endpoint))
            .collect();
        Ok(Stored {
            inserted: plan.inserted,
            handed,
            queued: plan.queued_to,
        })
    })
}

/// id, application, event type, event id, channels, payload, retention days, created.
static MESSAGES: LazyLock<MultiRow> = LazyLock::new(|| {
    MultiRow::new(8, |values| {
        format!(
            "INSERT OR FAIL INTO messages (id, app_id, event_type, event_id, channels, payload,
                                           retention_days, created_at)
             VALUES {values}"
        )
    })
});

/// application, message, endpoint, status, next attempt, lease, trigger.
static DELIVERIES: LazyLock<MultiRow> = LazyLock::new(|| {
    MultiRow::new(7, |values| {
        format!(
            "INSERT OR FAIL INTO deliveries (app_id, msg_id, endpoint_id, status,
                                             next_attempt_at, lease_until, trigger_type,
                                             attempts_made)
             SELECT *, 0 FROM (VALUES {values})"
        )
    })
});

fn json(list: &[String]) -> String {
    serde_json::to_string(list).expect("strings always serialize")
}

/// What a batch will write: the messages that go in (by place in the batch), their
/// deliveries queued and handed over, and what becomes of each message.
struct Plan {
    messages: Vec<usize>,
    queued: Vec<(usize, Arc<Subscriber>)>,
    handed: Vec<(usize, Arc<Subscriber>)>,
    queued_to: Vec<EndpointId>,
    inserted: Vec<Result<Inserted>>,
}

fn plan<'a, 'b>(
    conn: &Connection,
    batch: &'b [NewMessage],
    endpoints: &'a HashMap<String, Endpoints>,
    handoff: Option<&'a Handoff>,
    keys: &mut Keys<'b>,
) -> Result<Plan> {
    let mut room = handoff.map(Room::new);
    let mut plan = Plan {
        messages: Vec::with_capacity(batch.len()),
        queued: Vec::new(),
        handed: Vec::new(),
        queued_to: Vec::new(),
        inserted: Vec::with_capacity(batch.len()),
    };
    let mut queued_to = HashSet::new();
    let mut event_ids = HashSet::new();
    for (at, NewMessage { message, keyed }) in batch.iter().enumerate() {
        let Some(subscribers) = endpoints.get(message.app_id.as_str()) else {
            plan.inserted.push(Err(StoreError::NotFound("application")));
            continue;
        };
        // The key first: a repeat of a message with an event id is answered, not refused.
        if let Some(keyed) = keyed
            && let Key::Held(answer) = keys.look_up(conn, keyed, message.created_at.as_millis())?
        {
            plan.inserted.push(Err(answer));
            continue;
        }
        if let Some(event_id) = &message.event_id
            && (!event_ids.insert((message.app_id.as_str(), event_id.as_str()))
                || event_id_taken(conn, message)?)
        {
            plan.inserted
                .push(Err(StoreError::Conflict("message with this eventId")));
            continue;
        }
        // A message without a payload is queued: the claim fails it.
        let sendable = message.payload.as_deref().is_some_and(|p| !p.is_empty());
        let mut made = 0u32;
        for endpoint in subscribers.iter().filter(|s| wants(s, message)) {
            made += 1;
            match room
                .as_mut()
                .map(|room| sendable && room.take(&endpoint.id))
            {
                Some(true) => plan.handed.push((at, endpoint.clone())),
                Some(false) => {
                    if queued_to.insert(endpoint.id.as_str()) {
                        plan.queued_to
                            .push(EndpointId::from_stored(endpoint.id.clone()));
                    }
                    plan.queued.push((at, endpoint.clone()));
                }
                None => plan.queued.push((at, endpoint.clone())),
            }
        }
        if let Some(keyed) = keyed {
            keys.take(keyed);
        }
        plan.messages.push(at);
        plan.inserted.push(Ok(Inserted {
            msg_id: message.id.clone(),
            deliveries: made,
        }));
    }
    Ok(plan)
}

fn wants(endpoint: &Subscriber, message: &Message) -> bool {
    endpoint_wants(
        endpoint.event_types.as_deref(),
        endpoint.channels.as_deref(),
        &message.event_type,
        message.channels.as_deref(),
    )
}

fn event_id_taken(conn: &Connection, message: &Message) -> Result<bool> {
    let found = conn
        .prepare_cached("SELECT 1 FROM messages WHERE app_id = ?1 AND event_id = ?2")?
        .query_row(
            (message.app_id.as_str(), message.event_id.as_deref()),
            |_| Ok(()),
        )
        .optional()?;
    Ok(found.is_some())
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

/// The deliveries a batch handed over, ready to send: each endpoint's secrets opened once.
pub(super) fn handed_over(
    sealer: &Sealer,
    handoff: &Handoff,
    batch: &[NewMessage],
    stored: Vec<(i64, usize, Arc<Subscriber>)>,
) -> Result<Vec<DueDelivery>> {
    let mut opened: HashMap<String, (Vec<String>, BTreeMap<String, String>)> = HashMap::new();
    let mut handed = Vec::with_capacity(stored.len());
    for (id, at, endpoint) in stored {
        let message = &batch[at].message;
        let (secrets, headers) = match opened.get(&endpoint.id) {
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
                opened.insert(endpoint.id.clone(), (secrets.clone(), headers.clone()));
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
