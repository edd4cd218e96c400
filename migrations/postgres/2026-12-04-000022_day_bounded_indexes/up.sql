-- Costs that grew with the day's rows, found by the statement profile of a national-day run
-- (`SANJEEVANI_SQLITE_STATEMENT_PROFILE`, tests/BENCHMARKS.md);
-- SQLite chose these plans on a copy of the run's database (EXPLAIN QUERY PLAN).

-- Each round of the notification worker ends the pending messages whose validity passed
-- (login codes). Through `notifications_due` it stepped over every pending message: 91,000
-- steps a round once 37,000 messages waited, and rounds come with the messages.
CREATE INDEX notifications_expiry ON notifications (status, expires_at);

-- A doctor's heartbeat, going online and going offline look for that doctor's open presence.
-- Through `doctor_presence_live` a heartbeat read every doctor online in the country; through
-- `doctor_presence_by_doctor`, every presence the doctor ever had.
CREATE INDEX doctor_presence_open_by_doctor ON doctor_presence (doctor_id, opd_id) WHERE "offline_at" IS NULL;
