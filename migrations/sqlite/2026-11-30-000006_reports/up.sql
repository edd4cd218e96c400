-- Report figures kept as the day happens. A national day is lakhs of tokens; the dashboard reads
-- these small tables instead (one row per IST day, OPD and doctor; one per day, OPD and minute
-- of waiting), so every report stays fast however many consultations the database holds.
-- Written in the same transaction as the token's completion or no-show; backfilled below from
-- the tokens already in the database.

CREATE TABLE report_daily (
    day DATE NOT NULL,
    opd_id TEXT NOT NULL REFERENCES opds (id),
    hub_id TEXT NOT NULL REFERENCES facilities (id),
    doctor_id TEXT NOT NULL REFERENCES users (id),
    consultations INTEGER NOT NULL DEFAULT 0,
    -- Of those consultations: patients recorded as female, and patients aged 60 or more.
    women INTEGER NOT NULL DEFAULT 0,
    seniors INTEGER NOT NULL DEFAULT 0,
    -- Called patients who never joined (and were not put back in the queue).
    no_shows INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, opd_id, doctor_id)
);
CREATE INDEX report_daily_by_hub ON report_daily (hub_id, day);

-- Minutes from the start of the wait (booking, or the session's start if booked earlier) to the
-- call, for completed consultations: a histogram, from which the median and 90th percentile come.
CREATE TABLE report_waits (
    day DATE NOT NULL,
    opd_id TEXT NOT NULL REFERENCES opds (id),
    hub_id TEXT NOT NULL REFERENCES facilities (id),
    wait_minutes INTEGER NOT NULL,
    consultations INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, opd_id, wait_minutes)
);
CREATE INDEX report_waits_by_hub ON report_waits (hub_id, day);

-- Doctors logged in on a day are read from presence intervals by when they began.
CREATE INDEX doctor_presence_by_online_at ON doctor_presence (online_at);

-- Backfill: the figures of the tokens already in the database (the tests and the report
-- benchmark run the statements after this line again to rebuild the rollups from scratch).
INSERT INTO report_daily (day, opd_id, hub_id, doctor_id, consultations, women, seniors, no_shows)
SELECT date(COALESCE(t.completed_at, t.no_show_at), '+330 minutes'), t.opd_id, o.hub_id, t.doctor_id,
       SUM(t.status = 'completed'),
       SUM(t.status = 'completed' AND p.sex = 'female'),
       SUM(t.status = 'completed'
           AND CAST(strftime('%Y', COALESCE(t.completed_at, t.no_show_at), '+330 minutes') AS INTEGER) - p.birth_year >= 60),
       SUM(t.status = 'no_show')
FROM tokens t
JOIN opds o ON o.id = t.opd_id
JOIN patients p ON p.id = t.patient_id
WHERE t.status IN ('completed', 'no_show') AND t.doctor_id IS NOT NULL
GROUP BY 1, t.opd_id, o.hub_id, t.doctor_id;

-- Backfill of the first report_waits (rebuilt by 2026-12-01-000008_report_waits_by_hub)
INSERT INTO report_waits (day, opd_id, hub_id, wait_minutes, consultations)
SELECT day, opd_id, hub_id, wait_minutes, COUNT(*)
FROM (
    SELECT date(t.completed_at, '+330 minutes') AS day, t.opd_id AS opd_id, o.hub_id AS hub_id,
           MIN(1440, MAX(0, CAST(ROUND((julianday(t.called_at) - julianday(MAX(t.booked_at, s.starts_at))) * 86400000) AS INTEGER) / 60000)) AS wait_minutes
    FROM tokens t
    JOIN opds o ON o.id = t.opd_id
    JOIN opd_sessions s ON s.id = t.session_id
    WHERE t.status = 'completed' AND t.called_at IS NOT NULL
)
GROUP BY day, opd_id, hub_id, wait_minutes;
