-- Ids sort by creation time (hookd-core's `id`), so pruning walks the primary keys' indexes
-- for old messages and attempts; these two indexes only served it, and every message and
-- attempt paid a B-tree insert, and every commit a WAL page, for each.
DROP INDEX messages_by_time;
DROP INDEX attempts_by_time;
