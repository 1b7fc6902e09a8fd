-- Event types, idempotency keys, token expiry, and the indexes the retention sweep and
-- `hookd prune` read. The same tables as SQLite's 0003, in PostgreSQL's types.

-- Event types are global, as in Svix. schemas is TEXT holding a JSON object, or NULL. Names
-- are COLLATE "C": the list pages by name, byte by byte.
CREATE TABLE event_types (
    name TEXT COLLATE "C" PRIMARY KEY,
    description TEXT NOT NULL,
    archived BOOLEAN NOT NULL,
    deprecated BOOLEAN NOT NULL,
    feature_flag TEXT,
    schemas TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One row per POST sent with an `idempotency-key`: (token hash, method and path, key). While
-- the first request runs, state is 'in_progress' and expires_at is the end of its lease;
-- then 'done' with the response to replay, kept until expires_at (12 hours on). Shared by
-- every node: a request on one node waits for the same request running on another.
CREATE TABLE idempotency_keys (
    token_hash TEXT NOT NULL,
    request TEXT NOT NULL,
    key TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('in_progress', 'done')),
    status SMALLINT,
    body BYTEA,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (token_hash, request, key)
);

CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

-- App-portal tokens run out; admin tokens (NULL) do not.
ALTER TABLE tokens ADD COLUMN expires_at BIGINT;
CREATE INDEX tokens_expiry ON tokens (expires_at) WHERE expires_at IS NOT NULL;

-- The retention sweep: messages whose payload is still there ('' once removed, see 0002), by
-- when it expires.
CREATE INDEX messages_payload_expiry ON messages ((created_at + retention_days * 86400000))
    WHERE payload <> '';
-- `hookd prune`: old messages and attempts (0002 indexes the deliveries of a message).
CREATE INDEX messages_by_time ON messages (created_at);
CREATE INDEX attempts_by_time ON attempts (created_at);
