-- hookd's first PostgreSQL schema: the same tables as SQLite's, in PostgreSQL's types. Times are
-- BIGINT milliseconds since the Unix epoch; lists of names are TEXT[]; maps are TEXT holding
-- JSON (not JSONB: JSONB refuses "\u0000" and reorders keys, and hookd only ever reads them
-- whole). Ids are COLLATE "C" so that they sort byte by byte, as pagination needs, whatever
-- the database's collation.

CREATE TABLE tokens (
    hash TEXT COLLATE "C" PRIMARY KEY,
    -- NULL for an admin token.
    app_id TEXT COLLATE "C",
    created_at BIGINT NOT NULL
);

CREATE INDEX tokens_by_app ON tokens (app_id) WHERE app_id IS NOT NULL;

CREATE TABLE applications (
    id TEXT COLLATE "C" PRIMARY KEY,
    uid TEXT UNIQUE,
    name TEXT NOT NULL,
    rate_limit INTEGER,
    metadata TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE endpoints (
    id TEXT COLLATE "C" PRIMARY KEY,
    app_id TEXT COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    uid TEXT,
    url TEXT NOT NULL,
    description TEXT NOT NULL,
    disabled BOOLEAN NOT NULL,
    event_types TEXT[],
    channels TEXT[],
    rate_limit INTEGER,
    metadata TEXT NOT NULL,
    secret TEXT NOT NULL,
    headers TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (app_id, uid)
);

-- Listing an app's endpoints, the fan-out's lookup, and the cascade from applications.
CREATE INDEX endpoints_by_app ON endpoints (app_id, id);

CREATE TABLE messages (
    id TEXT COLLATE "C" PRIMARY KEY,
    app_id TEXT COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    event_id TEXT,
    channels TEXT[],
    payload TEXT NOT NULL,
    retention_days BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    -- Also what makes an event id unique across nodes: a second node inserting the same one
    -- waits for the first to commit, then finds the conflict.
    UNIQUE (app_id, event_id)
);

CREATE INDEX messages_by_app ON messages (app_id, id);

-- The attempt log has no foreign keys: it outlives deleted endpoints, and the store deletes an
-- application's attempts itself.
CREATE TABLE attempts (
    id TEXT COLLATE "C" PRIMARY KEY,
    app_id TEXT COLLATE "C" NOT NULL,
    msg_id TEXT COLLATE "C" NOT NULL,
    endpoint_id TEXT COLLATE "C" NOT NULL,
    url TEXT NOT NULL,
    status SMALLINT NOT NULL,
    response_status_code SMALLINT NOT NULL,
    response TEXT NOT NULL,
    response_duration_ms BIGINT NOT NULL,
    trigger_type SMALLINT NOT NULL,
    failure_reason TEXT,
    created_at BIGINT NOT NULL
);

CREATE INDEX attempts_by_endpoint ON attempts (app_id, endpoint_id, id);
CREATE INDEX attempts_by_message ON attempts (app_id, msg_id, id);

-- The delivery queue: one row per (message, endpoint). status is 1 pending, 3 sending (leased
-- until lease_until), 0 delivered, 2 failed for good. No foreign keys, as in SQLite: the store
-- deletes rows itself, and a claim drops a row whose message or endpoint is gone.
CREATE TABLE deliveries (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app_id TEXT COLLATE "C" NOT NULL,
    msg_id TEXT COLLATE "C" NOT NULL,
    endpoint_id TEXT COLLATE "C" NOT NULL,
    status SMALLINT NOT NULL,
    attempts_made INTEGER NOT NULL,
    next_attempt_at BIGINT,
    lease_until BIGINT,
    trigger_type SMALLINT NOT NULL
);

-- The claim: pending rows in due order; endpoint_id is in the index so the skip list is
-- checked without reading the table.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, endpoint_id) WHERE status = 1;
-- Leases that ran out (a node that died) and release_all.
CREATE INDEX deliveries_leased ON deliveries (lease_until, endpoint_id) WHERE status = 3;
-- Deleting an endpoint's or an application's rows.
CREATE INDEX deliveries_by_endpoint ON deliveries (app_id, endpoint_id);
