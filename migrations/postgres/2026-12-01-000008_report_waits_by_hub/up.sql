-- The waiting histogram kept per day, hub and programme instead of per day and OPD, in coarser
-- buckets past the first hour: a national month was ~2 million rows (a row per OPD, day and
-- minute) and SQLite took over two seconds to sum them; now it is a few hundred thousand, and the
-- histogram of any scope still comes out exact (a state is a set of hubs, a programme filter is
-- the programme). A wait is counted to the minute under an hour, to 5 minutes under 4 hours, to
-- 30 minutes beyond (at most a day): the bucket's first minute is stored.

DROP TABLE report_waits;

CREATE TABLE report_waits (
    day DATE NOT NULL,
    hub_id TEXT NOT NULL REFERENCES facilities (id),
    programme_id TEXT NOT NULL REFERENCES programmes (id),
    wait_minutes INTEGER NOT NULL,
    consultations INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (hub_id, day, programme_id, wait_minutes)
);
-- A state or facility reads by hub (the key); the whole country, or a programme, by day.
CREATE INDEX report_waits_by_day ON report_waits (day, wait_minutes, programme_id, consultations);

-- Backfill: the tests and the report benchmark run the statements after this line again.
INSERT INTO report_waits (day, hub_id, programme_id, wait_minutes, consultations)
SELECT day, hub_id, programme_id,
       CASE WHEN minutes < 60 THEN minutes
            WHEN minutes < 240 THEN minutes - minutes % 5
            ELSE minutes - minutes % 30 END,
       COUNT(*)
FROM (
    SELECT (t.completed_at + INTERVAL '330 minutes')::date AS day, o.hub_id, o.programme_id,
           LEAST(1440, GREATEST(0, FLOOR(EXTRACT(EPOCH FROM t.called_at - GREATEST(t.booked_at, s.starts_at)) / 60)::int)) AS minutes
    FROM tokens t
    JOIN opds o ON o.id = t.opd_id
    JOIN opd_sessions s ON s.id = t.session_id
    WHERE t.status = 'completed' AND t.called_at IS NOT NULL
) AS waits
GROUP BY 1, 2, 3, 4;
