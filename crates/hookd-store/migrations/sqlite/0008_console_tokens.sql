-- Tokens for the web UI: an admin token may carry a name that the console lists it by, and an
-- app-portal token may be read-only, which the API holds to by refusing it every write.
ALTER TABLE tokens ADD COLUMN name TEXT;
ALTER TABLE tokens ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0;
