//! The SQLite backend: one file in WAL mode, written by one thread that owns its connections,
//! read by a few threads of their own (`threads`). This process alone uses the file.
//!
//! The catalog runs over `SqliteDb`, its reads on the readers and its writes on the writer's
//! catalog connection. The hot path runs whole on the writer thread, one job per batch: the
//! intake (`intake`) and the claim and outcomes (`queue`), on its intake connection, with
//! statements it keeps prepared; what the job returns is finished (secrets opened) back on
//! the caller's task, so the writer spends its time writing.

mod connection;
mod intake;
mod keys;
mod queue;
mod rows;
mod schema;
mod threads;

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use hookd_core::{AppId, EndpointId, MessageId, Timestamp, TriggerType};
use tokio::sync::oneshot;

use crate::catalog::{Backend, seal_plaintext};
use crate::secrets::Secrets;
use crate::sql::Db;
use crate::{
    Claim, DeliveryId, DueDelivery, Handoff, Inserted, NewMessage, Outcome, Queue, Result, Sealer,
    Sharing, SweepLock, Wakeups, Written,
};
use queue::{ClaimArgs, Claimed};
use threads::{Readers, SqliteDb, Writer};

/// Reader threads: reads are short, and two cores run them.
const READERS: usize = 4;

/// A `Store` kept in one SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    db: SqliteDb,
    sealer: Sealer,
    /// Fires when the writer thread has closed its connections (after `close`).
    ended: Arc<Mutex<Option<oneshot::Receiver<()>>>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the database at `path`, creating it if missing, and brings its schema up to date.
    /// Secrets are sealed with `sealer`; those still in plaintext are sealed now.
    pub async fn open(path: &Path, sealer: Sealer) -> Result<SqliteStore> {
        let (writer, ended) =
            Writer::start(path, |writing| schema::migrate(&mut writing.catalog)).await?;
        let at = path.to_owned();
        let readers = tokio::task::spawn_blocking(move || Readers::start(&at, READERS))
            .await
            .map_err(|e| crate::StoreError::Unavailable(format!("opening readers: {e}")))??;
        let store = SqliteStore {
            db: SqliteDb { writer, readers },
            sealer,
            ended: Arc::new(Mutex::new(Some(ended))),
        };
        seal_plaintext(&store.db, &store.sealer).await?;
        Ok(store)
    }

    /// Closes every connection once the work already sent to them is done; the last close
    /// checkpoints the WAL. Later calls get `Unavailable`.
    pub async fn close(&self) {
        self.db.readers.stop();
        self.db.writer.stop();
        let ended = self.ended.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(ended) = ended {
            let _ = ended.await;
        }
    }
}

impl Backend for SqliteStore {
    fn catalog(&self) -> (&dyn Db, &Sealer) {
        (&self.db, &self.sealer)
    }
}

#[async_trait]
impl Queue for SqliteStore {
    async fn insert_messages(&self, batch: &[NewMessage]) -> Result<Vec<Result<Inserted>>> {
        Ok(self.write_batch(batch, &[], None).await?.inserted)
    }

    async fn write_batch(
        &self,
        batch: &[NewMessage],
        outcomes: &[Outcome],
        handoff: Option<&Handoff>,
    ) -> Result<Written> {
        // The writer thread outlives this call if it is cancelled: it takes its own copies.
        let (owned, recorded, offered) = (batch.to_vec(), outcomes.to_vec(), handoff.cloned());
        let (batch, stored) = self
            .db
            .writer
            .run(move |writing| {
                let stored = intake::write(writing, &owned, &recorded, offered.as_ref())?;
                Ok((owned, stored))
            })
            .await?;
        let handed = match handoff {
            Some(handoff) => intake::handed_over(&self.sealer, handoff, &batch, stored.handed)?,
            None => Vec::new(),
        };
        Ok(Written {
            inserted: stored.inserted,
            handed,
            queued: stored.queued,
        })
    }

    fn hands_over(&self) -> bool {
        true
    }

    async fn claim_due(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
        per_endpoint: u32,
        lanes: &[(EndpointId, u32)],
    ) -> Result<Claim> {
        let lanes: serde_json::Map<String, serde_json::Value> = lanes
            .iter()
            .map(|(id, room)| (id.as_str().to_owned(), (*room).into()))
            .collect();
        let args = ClaimArgs {
            now,
            lease_until,
            limit,
            lane_cap: per_endpoint.saturating_mul(2),
            lanes: serde_json::Value::Object(lanes).to_string(),
        };
        let read = self
            .db
            .writer
            .run(move |writing| queue::claim(&writing.intake, &args))
            .await?;
        let mut due = read
            .rows
            .into_iter()
            .map(|row| due_delivery(&self.sealer, now, row))
            .collect::<Result<Vec<_>>>()?;
        due.sort_by_key(|(at, delivery)| (*at, delivery.id));
        Ok(Claim {
            due: due.into_iter().map(|(_, delivery)| delivery).collect(),
            next_due_at: read.next_due_at.map(Timestamp),
            left_due: read.next_due_at.is_some_and(|at| at <= now.as_millis()),
        })
    }

    async fn record_outcomes(&self, outcomes: &[Outcome]) -> Result<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let outcomes = outcomes.to_vec();
        self.db
            .writer
            .run(move |writing| {
                let conn = &writing.intake;
                queue::light(conn, || queue::record(conn, &outcomes))
            })
            .await
    }

    /// One writer in one process: a second process on the same file would break the
    /// single-writer invariant, and `hookd` refuses to start anything but one full node on it.
    fn sharing(&self) -> Sharing {
        Sharing::ThisProcess
    }

    async fn subscribe_wakeups(&self) -> Result<Option<Wakeups>> {
        Ok(None)
    }

    /// The file is this process's alone, and the sweep runs in one task of it.
    async fn lock_sweep(&self) -> Result<Option<SweepLock>> {
        Ok(Some(SweepLock::this_process()))
    }
}

/// A claimed row, ready to send, with its due time (the order the worker sends in).
fn due_delivery(sealer: &Sealer, now: Timestamp, row: Claimed) -> Result<(i64, DueDelivery)> {
    let secrets = Secrets::open(sealer, &row.endpoint_id, &row.secret, &row.retired_secrets)?;
    let delivery = DueDelivery {
        id: DeliveryId(row.id),
        app_id: AppId::from_stored(row.app_id),
        msg_id: MessageId::from_stored(row.msg_id),
        endpoint_id: EndpointId::from_stored(row.endpoint_id),
        event_type: row.event_type,
        payload: row.payload,
        url: row.url,
        secrets: secrets.valid_at(now),
        headers: crate::convert::json_to_map("headers", &row.headers)?,
        attempts_made: u32::try_from(row.attempts_made)
            .map_err(|e| crate::convert::corrupt("attempts_made", e))?,
        trigger: TriggerType::from_code(row.trigger_type),
    };
    Ok((row.next_attempt_at, delivery))
}
