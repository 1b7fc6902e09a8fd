//! Idempotency keys the intake answers in the batch's own transaction, as on SQLite
//! (`sqlite/keys.rs`), in a fixed number of statements whatever the batch: the keys are read,
//! the new ones inserted answered, and those whose message did not go in (an event id taken)
//! deleted again. Two nodes taking one key at once: the second's insert waits for the first's
//! commit, then finds the key taken, and reads it again.

use std::collections::HashMap;

use sqlx::{PgConnection, Row};

use crate::{IdempotencyClaim, IdempotencyKey, KeyedIntake, NewMessage, Result, StoreError};

type Name<'k> = (&'k str, &'k str, &'k str);

fn name(key: &IdempotencyKey) -> Name<'_> {
    (&key.token_hash, &key.request, &key.key)
}

/// Answers the keyed messages of `batch` whose key is held, by message index, and takes the
/// keys of the others, inserting them answered with their message's response.
pub(super) async fn answer(
    tx: &mut PgConnection,
    batch: &[&NewMessage],
    now: i64,
) -> Result<HashMap<usize, StoreError>> {
    let keyed: Vec<(usize, &KeyedIntake)> = batch
        .iter()
        .enumerate()
        .filter_map(|(at, m)| m.keyed.as_ref().map(|k| (at, k)))
        .collect();
    let mut held = HashMap::new();
    if keyed.is_empty() {
        return Ok(held);
    }
    let mut found = read(tx, keyed.iter().map(|(_, k)| &k.key), now).await?;
    let mut taken: HashMap<Name, &KeyedIntake> = HashMap::new();
    for &(at, keyed) in &keyed {
        if let Some(answer) = answer_of(&keyed.key, &mut found, &taken) {
            held.insert(at, answer);
        } else {
            taken.insert(name(&keyed.key), keyed);
        }
    }
    let lost = insert(tx, taken.values().copied(), now).await?;
    if !lost.is_empty() {
        // Another node took these between the read and the insert, and has committed.
        let mut again = read(tx, lost.iter().map(|k| &k.key), now).await?;
        for &(at, keyed) in &keyed {
            if lost.iter().any(|l| name(&l.key) == name(&keyed.key)) {
                let answer = answer_of(&keyed.key, &mut again, &HashMap::new())
                    .unwrap_or(StoreError::KeyInProgress);
                held.insert(at, answer);
            }
        }
    }
    Ok(held)
}

/// What a key found live, or taken earlier in this batch, says; `None`: it is free.
fn answer_of(
    key: &IdempotencyKey,
    found: &mut HashMap<(String, String, String), Held>,
    taken: &HashMap<Name, &KeyedIntake>,
) -> Option<StoreError> {
    if let Some(first) = taken.get(&name(key)) {
        return Some(if first.key.digest == key.digest {
            StoreError::AlreadyAnswered(first.response.clone())
        } else {
            StoreError::KeyReused
        });
    }
    let owned = (key.token_hash.clone(), key.request.clone(), key.key.clone());
    let held = found.get(&owned)?;
    let claim = IdempotencyClaim::held(
        key,
        held.digest.clone(),
        held.state.clone(),
        held.status,
        held.body.clone(),
    );
    Some(match claim {
        Ok(IdempotencyClaim::Done(stored)) => StoreError::AlreadyAnswered(stored),
        Ok(IdempotencyClaim::Reused) => StoreError::KeyReused,
        Ok(_) => StoreError::KeyInProgress,
        Err(e) => e,
    })
}

/// A key's row as read.
struct Held {
    state: String,
    digest: Option<String>,
    status: Option<i64>,
    body: Option<Vec<u8>>,
}

/// The live rows of `keys` at `now`.
async fn read<'k>(
    tx: &mut PgConnection,
    keys: impl Iterator<Item = &'k IdempotencyKey>,
    now: i64,
) -> Result<HashMap<(String, String, String), Held>> {
    let (tokens, requests, names) = columns(keys);
    let rows = sqlx::query(
        "SELECT k.token_hash, k.request, k.key, k.state, k.request_digest, k.status, k.body
         FROM idempotency_keys k
         JOIN UNNEST($1::text[], $2::text[], $3::text[]) AS u(t, r, n)
           ON k.token_hash = u.t AND k.request = u.r AND k.key = u.n
         WHERE k.expires_at > $4",
    )
    .bind(tokens)
    .bind(requests)
    .bind(names)
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    rows.iter()
        .map(|row| {
            let status: Option<i16> = row.try_get("status")?;
            Ok((
                (
                    row.try_get("token_hash")?,
                    row.try_get("request")?,
                    row.try_get("key")?,
                ),
                Held {
                    state: row.try_get("state")?,
                    digest: row.try_get("request_digest")?,
                    status: status.map(i64::from),
                    body: row.try_get("body")?,
                },
            ))
        })
        .collect()
}

/// Inserts the keys answered, taking over rows that expired by `now`; back: those another
/// node holds.
async fn insert<'k>(
    tx: &mut PgConnection,
    keys: impl Iterator<Item = &'k KeyedIntake> + Clone,
    now: i64,
) -> Result<Vec<&'k KeyedIntake>> {
    let all: Vec<&KeyedIntake> = keys.collect();
    if all.is_empty() {
        return Ok(Vec::new());
    }
    let (tokens, requests, names) = columns(all.iter().map(|k| &k.key));
    let statuses: Vec<i16> = all
        .iter()
        .map(|k| i16::try_from(k.response.status).unwrap_or(i16::MAX))
        .collect();
    let bodies: Vec<Vec<u8>> = all.iter().map(|k| k.response.body.clone()).collect();
    let expiries: Vec<i64> = all.iter().map(|k| k.expires_at.as_millis()).collect();
    let digests: Vec<String> = all.iter().map(|k| k.key.digest.clone()).collect();
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (token_hash, request, key, state, status, body,
                                       expires_at, request_digest)
         SELECT t, r, n, 'done', s, b, e, d
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::smallint[], $5::bytea[],
                     $6::bigint[], $7::text[]) AS u(t, r, n, s, b, e, d)
         ON CONFLICT (token_hash, request, key) DO UPDATE
             SET state = 'done', status = excluded.status, body = excluded.body,
                 expires_at = excluded.expires_at, request_digest = excluded.request_digest
             WHERE idempotency_keys.expires_at <= $8
         RETURNING token_hash, request, key",
    )
    .bind(tokens)
    .bind(requests)
    .bind(names)
    .bind(statuses)
    .bind(bodies)
    .bind(expiries)
    .bind(digests)
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    let mut went_in = Vec::with_capacity(inserted.len());
    for row in &inserted {
        went_in.push((
            row.try_get::<String, _>("token_hash")?,
            row.try_get::<String, _>("request")?,
            row.try_get::<String, _>("key")?,
        ));
    }
    Ok(all
        .into_iter()
        .filter(|k| {
            let n = name(&k.key);
            !went_in
                .iter()
                .any(|w| (w.0.as_str(), w.1.as_str(), w.2.as_str()) == n)
        })
        .collect())
}

/// Deletes the keys of messages that did not go in after all (their event id was taken): only
/// a stored answer is replayed.
pub(super) async fn forget<'k>(
    tx: &mut PgConnection,
    keys: impl Iterator<Item = &'k IdempotencyKey>,
) -> Result<()> {
    let (tokens, requests, names) = columns(keys);
    if tokens.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "DELETE FROM idempotency_keys k
         USING UNNEST($1::text[], $2::text[], $3::text[]) AS u(t, r, n)
         WHERE k.token_hash = u.t AND k.request = u.r AND k.key = u.n",
    )
    .bind(tokens)
    .bind(requests)
    .bind(names)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

fn columns<'k>(
    keys: impl Iterator<Item = &'k IdempotencyKey>,
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let mut columns = (Vec::new(), Vec::new(), Vec::new());
    for key in keys {
        columns.0.push(key.token_hash.clone());
        columns.1.push(key.request.clone());
        columns.2.push(key.key.clone());
    }
    columns
}
