ALTER TABLE audit_events DROP COLUMN client_ip;
DROP TABLE dispensations;
DROP TABLE prescription_items;
DROP TABLE prescriptions;
DROP TABLE signing_keys;
DROP TABLE consultations;
