-- Per-process caches (`api/src/caches`) keep what almost every request reads and almost no
-- request changes: signed-in sessions, and each OPD with its programme, weekly slots, closures
-- and doctors. Each cached entry is tagged with a generation from this one row; a change to
-- what it holds adds one to the generation in the change's own transaction, and every request
-- reads the row, so a change takes effect at once in every API process (no time-to-live).
CREATE TABLE cache_generations (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    -- Sessions revoked, accounts disabled or renamed.
    sign_ins BIGINT NOT NULL,
    -- OPDs, their slots, closures and doctors; programmes.
    catalogue BIGINT NOT NULL
);
INSERT INTO cache_generations (id, sign_ins, catalogue) VALUES (1, 0, 0);

-- How fast an OPD's queue moves (doctors online, the recent consultations' length) changes
-- when a doctor goes online or offline and when a consultation completes: each adds one here,
-- so a queue status at an unchanged pace reads one number instead of the presence records and
-- the recent consultations.
ALTER TABLE opds ADD COLUMN pace_version BIGINT NOT NULL DEFAULT 0;
