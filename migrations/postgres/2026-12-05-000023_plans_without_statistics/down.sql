DROP INDEX notifications_due;
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
DROP INDEX users_patient_phone;
CREATE UNIQUE INDEX users_patient_phone ON users (phone) WHERE role = 'patient';
DROP INDEX users_patient_email;
CREATE UNIQUE INDEX users_patient_email ON users (email) WHERE role = 'patient';
