-- A counter of changes to what the intake fans messages out to: every change to an endpoint,
-- and every application deleted. The intake keeps applications' endpoints in memory between
-- batches and writes a batch with them only while this is the number it read them at (checked
-- inside the batch's own transaction), so a batch never fans out to endpoints that changed.
CREATE TABLE subscribers_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
) STRICT;

INSERT INTO subscribers_version (id, version) VALUES (1, 0);

CREATE TRIGGER endpoints_inserted_bump AFTER INSERT ON endpoints
BEGIN
    UPDATE subscribers_version SET version = version + 1;
END;

CREATE TRIGGER endpoints_updated_bump AFTER UPDATE ON endpoints
BEGIN
    UPDATE subscribers_version SET version = version + 1;
END;

CREATE TRIGGER endpoints_deleted_bump AFTER DELETE ON endpoints
BEGIN
    UPDATE subscribers_version SET version = version + 1;
END;

CREATE TRIGGER applications_deleted_bump AFTER DELETE ON applications
BEGIN
    UPDATE subscribers_version SET version = version + 1;
END;
