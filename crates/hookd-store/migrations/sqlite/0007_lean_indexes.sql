-- Fewer index entries and bytes per event. Each commit appends a batch's entries to the last
-- leaf of every index it touches, and an index leaf that fills is rebalanced with its two left
-- siblings: an index costs a commit about three pages of WAL (and again at the checkpoint),
-- the more often the longer its entries.

-- The event-id key only ever matters for messages that have an event id; most have none, and
-- each took an entry (app_id, NULL) all the same. A partial unique index needs the table
-- rebuilt (the key was a table constraint); rowids are kept. Nothing references messages by
-- a foreign key, so dropping the old table cascades nowhere.
CREATE TABLE messages_lean (
    id TEXT PRIMARY KEY NOT NULL,
    app_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    event_id TEXT,
    channels TEXT,
    payload TEXT NOT NULL,
    retention_days INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

INSERT INTO messages_lean (rowid, id, app_id, event_type, event_id, channels, payload,
                           retention_days, created_at)
SELECT rowid, id, app_id, event_type, event_id, channels, payload, retention_days, created_at
FROM messages;

DROP TABLE messages;
ALTER TABLE messages_lean RENAME TO messages;

CREATE UNIQUE INDEX messages_by_event_id ON messages (app_id, event_id)
    WHERE event_id IS NOT NULL;
CREATE INDEX messages_by_app ON messages (app_id, id);
CREATE INDEX messages_payload_expiry ON messages ((created_at + retention_days * 86400000))
    WHERE payload <> '';

-- Endpoint ids are unique across applications: the application's id in front of them only
-- made the entries longer. Deleting an application finds its deliveries through its endpoints
-- instead (`app::delete`).
DROP INDEX attempts_by_endpoint;
CREATE INDEX attempts_by_endpoint ON attempts (endpoint_id, id);
DROP INDEX deliveries_by_endpoint;
CREATE INDEX deliveries_by_endpoint ON deliveries (endpoint_id);
