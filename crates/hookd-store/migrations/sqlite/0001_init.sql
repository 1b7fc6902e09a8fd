-- hookd's first SQLite schema: tokens, applications, endpoints, messages, the attempt log and
-- the delivery queue. Times are INTEGER milliseconds since the Unix epoch; lists and maps are
-- TEXT holding JSON.

CREATE TABLE tokens (
    hash TEXT PRIMARY KEY NOT NULL,
    -- NULL for an admin token.
    app_id TEXT,
    created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX tokens_by_app ON tokens (app_id) WHERE app_id IS NOT NULL;

CREATE TABLE applications (
    id TEXT PRIMARY KEY NOT NULL,
    uid TEXT UNIQUE,
    name TEXT NOT NULL,
    rate_limit INTEGER,
    metadata TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE endpoints (
    id TEXT PRIMARY KEY NOT NULL,
    app_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    uid TEXT,
    url TEXT NOT NULL,
    description TEXT NOT NULL,
    disabled INTEGER NOT NULL,
    event_types TEXT,
    channels TEXT,
    rate_limit INTEGER,
    metadata TEXT NOT NULL,
    secret TEXT NOT NULL,
    headers TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (app_id, uid)
) STRICT;

-- Listing an app's endpoints, the fan-out's lookup, and the cascade from applications.
CREATE INDEX endpoints_by_app ON endpoints (app_id, id);

CREATE TABLE messages (
    id TEXT PRIMARY KEY NOT NULL,
    app_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    event_id TEXT,
    channels TEXT,
    payload TEXT NOT NULL,
    retention_days INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (app_id, event_id)
) STRICT;

CREATE INDEX messages_by_app ON messages (app_id, id);

-- The attempt log has no foreign keys: it outlives deleted endpoints, and the store deletes an
-- application's attempts itself.
CREATE TABLE attempts (
    id TEXT PRIMARY KEY NOT NULL,
    app_id TEXT NOT NULL,
    msg_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    url TEXT NOT NULL,
    status INTEGER NOT NULL,
    response_status_code INTEGER NOT NULL,
    response TEXT NOT NULL,
    response_duration_ms INTEGER NOT NULL,
    trigger_type INTEGER NOT NULL,
    failure_reason TEXT,
    created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX attempts_by_endpoint ON attempts (app_id, endpoint_id, id);
CREATE INDEX attempts_by_message ON attempts (app_id, msg_id, id);

-- The delivery queue: one row per (message, endpoint). status is 1 pending, 3 sending (leased
-- until lease_until), 0 delivered, 2 failed for good. No foreign keys, because a cascade would
-- need an index per parent on this, the busiest table; the store deletes rows itself, and a
-- claim drops a row whose message or endpoint is gone.
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    app_id TEXT NOT NULL,
    msg_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    status INTEGER NOT NULL,
    attempts_made INTEGER NOT NULL,
    next_attempt_at INTEGER,
    lease_until INTEGER,
    trigger_type INTEGER NOT NULL
) STRICT;

-- The claim: a range scan over pending rows in due order; endpoint_id is in the index so the
-- skip list is checked without reading the table.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, endpoint_id) WHERE status = 1;
-- Leases that ran out (a crashed worker) and release_all.
CREATE INDEX deliveries_leased ON deliveries (lease_until, endpoint_id) WHERE status = 3;
-- Deleting an endpoint's or an application's rows.
CREATE INDEX deliveries_by_endpoint ON deliveries (app_id, endpoint_id);
