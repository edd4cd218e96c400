DROP INDEX doctor_presence_by_online_at;
DROP TABLE report_waits;
DROP TABLE report_daily;
