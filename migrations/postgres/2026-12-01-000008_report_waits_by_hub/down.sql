-- Back to the per-OPD, per-minute waiting histogram of 2026-11-30-000006_reports.

DROP TABLE report_waits;

CREATE TABLE report_waits (
    day DATE NOT NULL,
    opd_id TEXT NOT NULL REFERENCES opds (id),
    hub_id TEXT NOT NULL REFERENCES facilities (id),
    wait_minutes INTEGER NOT NULL,
    consultations INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, opd_id, wait_minutes)
);
CREATE INDEX report_waits_by_hub ON report_waits (hub_id, day);

INSERT INTO report_waits (day, opd_id, hub_id, wait_minutes, consultations)
SELECT day, opd_id, hub_id, wait_minutes, COUNT(*)
FROM (
    SELECT (t.completed_at + INTERVAL '330 minutes')::date AS day, t.opd_id, o.hub_id,
           LEAST(1440, GREATEST(0, FLOOR(EXTRACT(EPOCH FROM t.called_at - GREATEST(t.booked_at, s.starts_at)) / 60)::int)) AS wait_minutes
    FROM tokens t
    JOIN opds o ON o.id = t.opd_id
    JOIN opd_sessions s ON s.id = t.session_id
    WHERE t.status = 'completed' AND t.called_at IS NOT NULL
) AS waits
GROUP BY day, opd_id, hub_id, wait_minutes;
