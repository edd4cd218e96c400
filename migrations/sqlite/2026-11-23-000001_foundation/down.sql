DROP TABLE audit_events;
DROP TABLE sessions;
DROP TABLE otp_challenges;
DROP TABLE patients;
DROP TABLE users;
DROP TABLE facilities;
DROP TABLE states;
