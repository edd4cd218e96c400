-- (PostgreSQL) Consultation records, signed e-prescriptions with their items and dispensations, the
-- server's signing keys, and where an audited action came from.

CREATE TABLE consultations (
    id TEXT PRIMARY KEY NOT NULL,
    token_id TEXT NOT NULL UNIQUE REFERENCES tokens (id),
    patient_id TEXT NOT NULL REFERENCES patients (id),
    doctor_id TEXT NOT NULL REFERENCES users (id),
    opd_id TEXT NOT NULL REFERENCES opds (id),
    chief_complaint TEXT NOT NULL,
    history TEXT NOT NULL,
    examination TEXT NOT NULL,
    vitals_id TEXT REFERENCES vitals (id),
    provisional_diagnosis TEXT NOT NULL,
    icd10_code TEXT,
    investigations TEXT NOT NULL,
    advice TEXT NOT NULL,
    follow_up_on DATE,
    referral_opd_id TEXT REFERENCES opds (id),
    referral_token_id TEXT REFERENCES tokens (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX consultations_by_patient ON consultations (patient_id, created_at);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    algorithm TEXT NOT NULL,
    public_key TEXT NOT NULL,
    private_key TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    retired_at TIMESTAMP
);

CREATE TABLE prescriptions (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    consultation_id TEXT NOT NULL REFERENCES consultations (id),
    patient_id TEXT NOT NULL REFERENCES patients (id),
    doctor_id TEXT NOT NULL REFERENCES users (id),
    opd_id TEXT NOT NULL REFERENCES opds (id),
    hub_id TEXT NOT NULL REFERENCES facilities (id),
    issued_at TIMESTAMP NOT NULL,
    valid_until TIMESTAMP NOT NULL,
    kid TEXT NOT NULL REFERENCES signing_keys (kid),
    signed_payload TEXT NOT NULL,
    cancelled_at TIMESTAMP,
    cancel_reason TEXT,
    dispensing_pharmacy_id TEXT REFERENCES facilities (id),
    fully_dispensed_at TIMESTAMP,
    version BIGINT NOT NULL
);
CREATE INDEX prescriptions_by_patient ON prescriptions (patient_id, issued_at);

CREATE TABLE prescription_items (
    id TEXT PRIMARY KEY NOT NULL,
    prescription_id TEXT NOT NULL REFERENCES prescriptions (id),
    position INTEGER NOT NULL,
    medicine TEXT NOT NULL,
    form TEXT NOT NULL,
    strength TEXT NOT NULL,
    dose TEXT NOT NULL,
    frequency TEXT NOT NULL,
    timing TEXT NOT NULL,
    route TEXT NOT NULL,
    duration_days INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    instructions TEXT NOT NULL,
    dispensed_quantity INTEGER NOT NULL,
    CHECK (dispensed_quantity >= 0 AND dispensed_quantity <= quantity)
);
CREATE INDEX prescription_items_by_prescription ON prescription_items (prescription_id, position);

CREATE TABLE dispensations (
    id TEXT PRIMARY KEY NOT NULL,
    prescription_id TEXT NOT NULL REFERENCES prescriptions (id),
    item_id TEXT NOT NULL REFERENCES prescription_items (id),
    pharmacy_id TEXT NOT NULL REFERENCES facilities (id),
    pharmacist_id TEXT NOT NULL REFERENCES users (id),
    quantity INTEGER NOT NULL,
    dispensed_at TIMESTAMP NOT NULL
);
CREATE INDEX dispensations_by_prescription ON dispensations (prescription_id);

ALTER TABLE audit_events ADD COLUMN client_ip TEXT;
