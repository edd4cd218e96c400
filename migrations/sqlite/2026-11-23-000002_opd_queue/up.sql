-- Programmes, online OPDs with weekly schedules, on-demand OPD sessions, tokens and their
-- history, doctor presence, vitals from spokes, and idempotency keys for creating requests.

CREATE TABLE programmes (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    eligibility TEXT NOT NULL CHECK (eligibility IN ('open', 'closed')),
    sensitive BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE opds (
    id TEXT PRIMARY KEY NOT NULL,
    programme_id TEXT NOT NULL REFERENCES programmes (id),
    hub_id TEXT NOT NULL REFERENCES facilities (id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    specialty TEXT NOT NULL,
    languages TEXT NOT NULL,
    always_open BOOLEAN NOT NULL DEFAULT FALSE,
    capacity_per_session INTEGER NOT NULL,
    booking_days_ahead INTEGER NOT NULL,
    priority_every INTEGER NOT NULL,
    join_window_seconds INTEGER NOT NULL,
    requeue_no_show BOOLEAN NOT NULL DEFAULT FALSE,
    near_turn_threshold INTEGER NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX opds_code_per_hub ON opds (hub_id, code);

CREATE TABLE opd_schedule_slots (
    id TEXT PRIMARY KEY NOT NULL,
    opd_id TEXT NOT NULL REFERENCES opds (id),
    weekday INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL
);
CREATE INDEX opd_schedule_slots_by_opd ON opd_schedule_slots (opd_id);

CREATE TABLE opd_closures (
    id TEXT PRIMARY KEY NOT NULL,
    opd_id TEXT NOT NULL REFERENCES opds (id),
    closed_on DATE NOT NULL,
    reason TEXT NOT NULL
);
CREATE UNIQUE INDEX opd_closures_once_per_day ON opd_closures (opd_id, closed_on);

CREATE TABLE opd_doctors (
    opd_id TEXT NOT NULL REFERENCES opds (id),
    doctor_id TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (opd_id, doctor_id)
);
CREATE INDEX opd_doctors_by_doctor ON opd_doctors (doctor_id);

-- One OPD on one date and time range. Its id is derived from the OPD and the IST start
-- (`<opd id>@<YYYY-MM-DDTHH:MM>`), so sessions can be listed before the row exists.
CREATE TABLE opd_sessions (
    id TEXT PRIMARY KEY NOT NULL,
    opd_id TEXT NOT NULL REFERENCES opds (id),
    session_date DATE NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    capacity INTEGER NOT NULL,
    tokens_issued INTEGER NOT NULL,
    active_tokens INTEGER NOT NULL,
    last_queue_order INTEGER NOT NULL,
    regular_since_priority INTEGER NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX opd_sessions_by_opd ON opd_sessions (opd_id, starts_at);

CREATE TABLE vitals (
    id TEXT PRIMARY KEY NOT NULL,
    patient_id TEXT NOT NULL REFERENCES patients (id),
    recorded_by TEXT NOT NULL REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL,
    systolic_mmhg INTEGER,
    diastolic_mmhg INTEGER,
    pulse_per_min INTEGER,
    temperature_c DOUBLE PRECISION,
    spo2_percent INTEGER,
    weight_kg DOUBLE PRECISION,
    blood_sugar_mg_dl INTEGER
);
CREATE INDEX vitals_by_patient ON vitals (patient_id, recorded_at);

CREATE TABLE tokens (
    id TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES opd_sessions (id),
    opd_id TEXT NOT NULL REFERENCES opds (id),
    patient_id TEXT NOT NULL REFERENCES patients (id),
    booked_by TEXT NOT NULL REFERENCES users (id),
    channel TEXT NOT NULL CHECK (channel IN ('app', 'assisted')),
    spoke_id TEXT REFERENCES facilities (id),
    number INTEGER NOT NULL,
    display TEXT NOT NULL,
    queue_order INTEGER NOT NULL,
    priority_reason TEXT,
    status TEXT NOT NULL CHECK (status IN ('waiting', 'called', 'in_consultation', 'completed', 'no_show', 'cancelled')),
    doctor_id TEXT REFERENCES users (id),
    requeues INTEGER NOT NULL,
    booked_at TIMESTAMP NOT NULL,
    called_at TIMESTAMP,
    join_deadline TIMESTAMP,
    joined_at TIMESTAMP,
    started_at TIMESTAMP,
    completed_at TIMESTAMP,
    no_show_at TIMESTAMP,
    cancelled_at TIMESTAMP,
    near_turn_at TIMESTAMP,
    vitals_id TEXT REFERENCES vitals (id)
);
CREATE UNIQUE INDEX tokens_number_per_session ON tokens (session_id, number);
-- One active token per patient per session.
CREATE UNIQUE INDEX tokens_one_active_per_patient ON tokens (session_id, patient_id)
    WHERE status IN ('waiting', 'called', 'in_consultation');
CREATE INDEX tokens_queue ON tokens (session_id, status, queue_order);
CREATE INDEX tokens_by_patient ON tokens (patient_id, booked_at);
CREATE INDEX tokens_by_opd_completed ON tokens (opd_id, completed_at);

CREATE TABLE token_events (
    id TEXT PRIMARY KEY NOT NULL,
    token_id TEXT NOT NULL REFERENCES tokens (id),
    session_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    actor_id TEXT,
    at TIMESTAMP NOT NULL
);
CREATE INDEX token_events_by_token ON token_events (token_id, at);
CREATE INDEX token_events_by_kind ON token_events (kind, at);

CREATE TABLE doctor_presence (
    id TEXT PRIMARY KEY NOT NULL,
    doctor_id TEXT NOT NULL REFERENCES users (id),
    opd_id TEXT NOT NULL REFERENCES opds (id),
    hub_id TEXT NOT NULL REFERENCES facilities (id),
    online_at TIMESTAMP NOT NULL,
    last_heartbeat_at TIMESTAMP NOT NULL,
    offline_at TIMESTAMP,
    offline_reason TEXT
);
CREATE INDEX doctor_presence_open ON doctor_presence (opd_id, offline_at);
CREATE INDEX doctor_presence_by_doctor ON doctor_presence (doctor_id, online_at);


-- The spoke that registered a walk-in patient, and the patient's own phone if they have one.
ALTER TABLE patients ADD COLUMN registered_facility_id TEXT;
ALTER TABLE patients ADD COLUMN phone TEXT;

CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response_status INTEGER NOT NULL,
    response_body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);

-- Every deployment carries the national online OPD programme.
INSERT INTO programmes (id, code, name, eligibility, sensitive, created_at)
VALUES ('00000000-0000-7000-8000-000000000001', 'national', 'National online OPD', 'open', FALSE, CURRENT_TIMESTAMP);
