-- What request an idempotency key answered: a digest of its method, path and body, so that a
-- repeat of the key with another request is refused rather than answered with the first's
-- response. Rows from before have none and replay as they did.
ALTER TABLE idempotency_keys ADD COLUMN request_digest TEXT;
