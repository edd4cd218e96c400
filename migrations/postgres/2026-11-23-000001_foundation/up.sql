-- Foundation (PostgreSQL): states, facilities, users (patients' accounts and staff), patients, OTP
-- challenges, sessions and the audit trail. Ids are UUID text; timestamps are UTC.

CREATE TABLE states (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL
);

CREATE TABLE facilities (
    id TEXT PRIMARY KEY NOT NULL,
    state_code TEXT NOT NULL REFERENCES states (code),
    district TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('hub', 'spoke', 'pharmacy')),
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX facilities_by_state ON facilities (state_code, kind);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('patient', 'doctor', 'cho', 'pharmacist', 'admin')),
    name TEXT NOT NULL,
    phone TEXT,
    email TEXT,
    username TEXT,
    password_hash TEXT,
    facility_id TEXT REFERENCES facilities (id),
    state_code TEXT REFERENCES states (code),
    registration_number TEXT,
    specialty TEXT,
    disabled_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- A phone number or email identifies one patient account; staff may share them as contacts.
CREATE UNIQUE INDEX users_patient_phone ON users (phone) WHERE role = 'patient';
CREATE UNIQUE INDEX users_patient_email ON users (email) WHERE role = 'patient';
CREATE UNIQUE INDEX users_username ON users (username);
CREATE INDEX users_by_facility ON users (facility_id, role);

CREATE TABLE patients (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT REFERENCES users (id),
    registered_by TEXT REFERENCES users (id),
    name TEXT NOT NULL,
    sex TEXT NOT NULL CHECK (sex IN ('female', 'male', 'other')),
    birth_date DATE,
    birth_year INTEGER NOT NULL,
    preferred_language TEXT NOT NULL CHECK (preferred_language IN ('en', 'hi', 'bn')),
    abha_number TEXT,
    relation TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX patients_by_account ON patients (account_id);

CREATE TABLE otp_challenges (
    id TEXT PRIMARY KEY NOT NULL,
    identifier TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    client_ip TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL,
    consumed_at TIMESTAMP
);
CREATE INDEX otp_challenges_by_identifier ON otp_challenges (identifier, created_at);
CREATE INDEX otp_challenges_by_client ON otp_challenges (client_ip, created_at);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL,
    device_name TEXT,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE UNIQUE INDEX sessions_by_token ON sessions (token_hash);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_id TEXT,
    action TEXT NOT NULL,
    subject_id TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX audit_events_by_time ON audit_events (at);
