-- The queue sweep runs every second (inside SQLite's one writer) and looks for called
-- patients whose join window passed and for doctors whose heartbeat stopped, across all
-- sessions. Without these it read every token and every presence record of the day, a cost
-- that grew with each patient served (the national day's waves got slower one after another).
-- The conditions are word for word the queries' (`models::queue::{Called, PresenceOpen}`).
CREATE INDEX tokens_open_calls ON tokens (join_deadline) WHERE "status" = 'called';
CREATE INDEX doctor_presence_live ON doctor_presence (last_heartbeat_at) WHERE "offline_at" IS NULL;
