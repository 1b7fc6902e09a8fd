-- Secret rotation, redelivery and content removal.
--
-- endpoints.secret now holds the secret sealed with the server's key (`sealed1:...`); rows
-- written before stay plaintext until the store seals them at open. retired_secrets holds the
-- secrets a rotation replaced that still sign until their grace period ends: a JSON array of
-- {"secret": sealed, "until": ms}.
--
-- messages.payload is '' once the payload was removed (expunged, or past its retention): a
-- stored payload is always a JSON object, so '' cannot be one.
--
-- A resend queues a delivery row of its own, so a (message, endpoint) pair may have several;
-- the newest says how that delivery stands. The index finds a message's rows, and the newest
-- of a pair.

ALTER TABLE endpoints ADD COLUMN retired_secrets TEXT NOT NULL DEFAULT '[]';

CREATE INDEX deliveries_by_message ON deliveries (msg_id, endpoint_id, id);
