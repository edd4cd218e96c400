-- The notification outbox: every message to a person is written in the same transaction as the
-- change that causes it, then sent by the delivery worker (retries with backoff, a lease so
-- several API processes never send one message twice, and a dead-letter state). Timestamps of
-- delivery scheduling (next_attempt_at, lease_until) are wall-clock UTC.

CREATE TABLE notifications (
    id TEXT PRIMARY KEY NOT NULL,
    template TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    destination TEXT NOT NULL,
    language TEXT NOT NULL,
    essential BOOLEAN NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT,
    patient_id TEXT,
    facility_id TEXT,
    state_code TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'dead', 'expired')),
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_by TEXT,
    lease_until TIMESTAMP,
    last_error TEXT,
    expires_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_by_state ON notifications (state_code, status);

-- A patient account may turn off non-essential messages (booking confirmations, near-turn
-- reminders, prescriptions); OTPs and safety messages are always sent.
ALTER TABLE users ADD COLUMN optional_messages BOOLEAN NOT NULL DEFAULT TRUE;
