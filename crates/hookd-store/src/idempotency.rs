//! Idempotency keys as stored: which request a key belongs to, and the response to replay.
//!
//! The server's middleware claims a key before it runs a request, and either stores the
//! response (2xx) or releases the key (anything else). A claim that finds the key taken gets
//! the stored response, or learns that the first request is still running.

use hookd_core::Timestamp;

use crate::Result;
use crate::convert::corrupt;

/// One request's key: the hash of the token that sent it, its method and path, and the
/// client's `idempotency-key`; and a digest of the whole request, which a repeat must match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub token_hash: String,
    /// `POST /api/v1/app/...`, the query included.
    pub request: String,
    pub key: String,
    /// SHA-256 of the method, path and body: the request the key is bound to.
    pub digest: String,
}

/// A message sent with an idempotency key, answered in the message's own transaction: if the
/// key is new, it is stored with `response` (the answer the message gets) along with the
/// message; if it answered an identical request before, nothing is stored and that answer comes
/// back (`StoreError::AlreadyAnswered`); if it answered another request, `KeyReused`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyedIntake {
    pub key: IdempotencyKey,
    pub response: StoredResponse,
    /// Until when the answer is replayed.
    pub expires_at: Timestamp,
}

/// The first response to a request, kept to be replayed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// What claiming a key found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key is now this request's, until the lease given to the claim runs out.
    Started,
    /// Another request with this key is running (and its lease has not run out).
    InProgress,
    /// A request with this key finished: replay its response.
    Done(StoredResponse),
    /// The key answered another request (another body, say): refuse this one.
    Reused,
}

impl IdempotencyClaim {
    /// What a row held by another request says: still running, or the response to replay.
    /// A row whose `digest` is not this request's (and not missing, as from before digests) was
    /// another request's.
    pub(crate) fn held(
        key: &IdempotencyKey,
        digest: Option<String>,
        state: String,
        status: Option<i64>,
        body: Option<Vec<u8>>,
    ) -> Result<IdempotencyClaim> {
        if digest.is_some_and(|d| d != key.digest) {
            return Ok(IdempotencyClaim::Reused);
        }
        match (state.as_str(), status, body) {
            ("in_progress", _, _) => Ok(IdempotencyClaim::InProgress),
            ("done", Some(status), Some(body)) => Ok(IdempotencyClaim::Done(StoredResponse {
                status: u16::try_from(status).map_err(|e| corrupt("status", e))?,
                body,
            })),
            (state, _, _) => Err(corrupt("state", format!("{state:?} without a response"))),
        }
    }
}
