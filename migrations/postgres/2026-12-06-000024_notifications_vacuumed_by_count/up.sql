-- The notification worker finds the oldest waiting messages through `notifications_due`
-- (status, next_attempt_at, id). Marking a message sent writes a new row version (its status is
-- indexed), and the old `pending` entry stays in the index until VACUUM removes it, so a round
-- steps over the entry of every message sent since the last VACUUM. At autovacuum's default
-- (20% of the table's rows changed) that grows with the day: on the national load a round read
-- 267, 510 and 612 blocks over three waves (61,356 dead rows on 3.7 lakh; tests/BENCHMARKS.md).
-- This one table is vacuumed after a fixed number of changed rows instead, and always with its
-- indexes: PostgreSQL skips an index cleanup when under 2% of the table's pages hold dead rows,
-- which a fixed count on a day's large table always is.
ALTER TABLE notifications SET (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 20000,
    vacuum_index_cleanup = on
);
