//! Idempotency keys the intake answers in the batch's own transaction: a keyed message's key is
//! looked up, and stored with the message's answer when it is new, so a keyed `POST .../msg`
//! costs no commit of its own.

use std::collections::HashMap;
use std::sync::LazyLock;

use rusqlite::{Connection, OptionalExtension};

use super::rows::MultiRow;
use crate::{IdempotencyClaim, IdempotencyKey, KeyedIntake, Result, StoreError};

/// What a keyed message's key says, before anything is written.
pub(super) enum Key {
    /// No live request holds it: the message is stored and the key with it.
    New,
    /// It stands for an answer (replay it), another request (refuse it), or one still running.
    Held(StoreError),
}

/// The keys a batch has looked up or taken so far, so that a second message of the batch with
/// the same key is answered as the first.
#[derive(Default)]
pub(super) struct Keys<'b> {
    taken: HashMap<(&'b str, &'b str, &'b str), &'b KeyedIntake>,
    /// Keys whose row is there but expired: deleted before the new rows go in.
    expired: Vec<&'b IdempotencyKey>,
}

impl<'b> Keys<'b> {
    /// What `keyed`'s key says at `now`.
    pub(super) fn look_up(
        &mut self,
        conn: &Connection,
        keyed: &'b KeyedIntake,
        now: i64,
    ) -> Result<Key> {
        let key = &keyed.key;
        let name = (
            key.token_hash.as_str(),
            key.request.as_str(),
            key.key.as_str(),
        );
        if let Some(first) = self.taken.get(&name) {
            return Ok(if first.key.digest == key.digest {
                Key::Held(StoreError::AlreadyAnswered(first.response.clone()))
            } else {
                Key::Held(StoreError::KeyReused)
            });
        }
        let row = conn
            .prepare_cached(
                "SELECT state, request_digest, status, body, expires_at FROM idempotency_keys
                 WHERE token_hash = ?1 AND request = ?2 AND key = ?3",
            )?
            .query_row(name, |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, Option<String>>(1)?,
                    row.get::<_, Option<i64>>(2)?,
                    row.get::<_, Option<Vec<u8>>>(3)?,
                    row.get::<_, i64>(4)?,
                ))
            })
            .optional()?;
        match row {
            Some((state, digest, status, body, expires_at)) if expires_at > now => Ok(Key::Held(
                match IdempotencyClaim::held(key, digest, state, status, body)? {
                    IdempotencyClaim::Done(stored) => StoreError::AlreadyAnswered(stored),
                    IdempotencyClaim::Reused => StoreError::KeyReused,
                    IdempotencyClaim::InProgress | IdempotencyClaim::Started => {
                        StoreError::KeyInProgress
                    }
                },
            )),
            expired => {
                if expired.is_some() {
                    self.expired.push(key);
                }
                Ok(Key::New)
            }
        }
    }

    /// Marks `keyed` as taken by a message of this batch that is being stored.
    pub(super) fn take(&mut self, keyed: &'b KeyedIntake) {
        let key = &keyed.key;
        let name = (
            key.token_hash.as_str(),
            key.request.as_str(),
            key.key.as_str(),
        );
        self.taken.insert(name, keyed);
    }

    /// Writes the keys taken, each answered with its message's response, in the open
    /// transaction.
    pub(super) fn store(self, conn: &Connection) -> Result<()> {
        for key in self.expired {
            conn.prepare_cached(
                "DELETE FROM idempotency_keys WHERE token_hash = ?1 AND request = ?2 AND key = ?3",
            )?
            .execute((&key.token_hash, &key.request, &key.key))?;
        }
        let taken: Vec<&KeyedIntake> = self.taken.into_values().collect();
        KEYS.run(conn, &taken, |b, keyed| {
            b.bind(&keyed.key.token_hash)?;
            b.bind(&keyed.key.request)?;
            b.bind(&keyed.key.key)?;
            b.bind(i64::from(keyed.response.status))?;
            b.bind(&keyed.response.body)?;
            b.bind(keyed.expires_at.as_millis())?;
            b.bind(&keyed.key.digest)
        })
    }
}

/// token, request, key, status, body, expiry, digest: answered (`done`) as they go in.
static KEYS: LazyLock<MultiRow> = LazyLock::new(|| {
    MultiRow::new(7, |values| {
        format!(
            "INSERT OR FAIL INTO idempotency_keys (token_hash, request, key, status, body,
                                                   expires_at, request_digest, state)
             SELECT *, 'done' FROM (VALUES {values})"
        )
    })
});
