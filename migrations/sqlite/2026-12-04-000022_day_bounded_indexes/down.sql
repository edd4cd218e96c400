DROP INDEX doctor_presence_open_by_doctor;
DROP INDEX notifications_expiry;
