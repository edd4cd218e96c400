-- Two lookups whose plan depended on statistics that a fresh day (or a new database) does not
-- yet have. On the national load on PostgreSQL (tests/BENCHMARKS.md, "The national record day
-- on PostgreSQL"), while autovacuum's last ANALYZE still counted no patients and no pending
-- messages, both took a plan whose cost grew with each patient.

-- A patient's login finds the account by phone (or by email). Both lookups' partial indexes held
-- every patient, so each could serve the other's lookup too, read whole and filtered: PostgreSQL
-- looked phones up through the email index, 3,909 blocks and 34 ms per lookup at 7,700
-- patients. Each index now holds only the rows with its own column set, which a lookup by the
-- other column does not imply: it serves no lookup but its own, whatever the statistics say.
-- Uniqueness is unchanged (NULLs never collided).
DROP INDEX users_patient_phone;
CREATE UNIQUE INDEX users_patient_phone ON users (phone) WHERE role = 'patient' AND phone IS NOT NULL;
DROP INDEX users_patient_email;
CREATE UNIQUE INDEX users_patient_email ON users (email) WHERE role = 'patient' AND email IS NOT NULL;

-- The notification worker takes the oldest due messages, `ORDER BY next_attempt_at, id LIMIT
-- n`. The index on (status, next_attempt_at) gave that order only up to the id, so PostgreSQL,
-- expecting one pending message, read every pending one and sorted them: 15,481 blocks and 62-238
-- ms per round with 15,000 messages waiting. With the id in the index the order comes from it
-- and a round reads its n messages, however many wait; on PostgreSQL the round also turns sorting
-- off for its one statement (`models::notifications::due`), since on such statistics another
-- index and a sort still look as cheap as this index's order.
DROP INDEX notifications_due;
CREATE INDEX notifications_due ON notifications (status, next_attempt_at, id);
