-- The consultation call: each stretch of a room's life (a call), who came and went, the chat and
-- the files the patient's side shared. Kept with the consultation record (by token), never the
-- media itself, which goes between the participants over WebRTC.

CREATE TABLE calls (
    id TEXT PRIMARY KEY NOT NULL,
    token_id TEXT NOT NULL REFERENCES tokens (id),
    doctor_id TEXT NOT NULL REFERENCES users (id),
    opened_at TIMESTAMP NOT NULL,
    doctor_joined_at TIMESTAMP,
    patient_joined_at TIMESTAMP,
    -- When both sides were first in the room together: the duration runs from here.
    connected_at TIMESTAMP,
    ended_at TIMESTAMP,
    ended_how TEXT CHECK (ended_how IN ('completed', 'patient_never_joined', 'dropped', 'left', 'closed'))
);
CREATE INDEX calls_by_token ON calls (token_id, opened_at);
-- At most one open call per token, across API processes.
CREATE UNIQUE INDEX calls_one_open_per_token ON calls (token_id) WHERE ended_at IS NULL;

CREATE TABLE call_events (
    id TEXT PRIMARY KEY NOT NULL,
    call_id TEXT NOT NULL REFERENCES calls (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    side TEXT NOT NULL CHECK (side IN ('doctor', 'patient')),
    event TEXT NOT NULL CHECK (event IN ('joined', 'left', 'dropped', 'reconnected', 'replaced')),
    at TIMESTAMP NOT NULL
);
CREATE INDEX call_events_by_call ON call_events (call_id, at);

CREATE TABLE call_messages (
    id TEXT PRIMARY KEY NOT NULL,
    token_id TEXT NOT NULL REFERENCES tokens (id),
    call_id TEXT NOT NULL REFERENCES calls (id),
    sender_id TEXT NOT NULL REFERENCES users (id),
    -- As it was when sent: the record shows who wrote what at the time.
    sender_name TEXT NOT NULL,
    side TEXT NOT NULL CHECK (side IN ('doctor', 'patient')),
    body TEXT NOT NULL,
    sent_at TIMESTAMP NOT NULL
);
CREATE INDEX call_messages_by_token ON call_messages (token_id, sent_at);

CREATE TABLE call_files (
    id TEXT PRIMARY KEY NOT NULL,
    token_id TEXT NOT NULL REFERENCES tokens (id),
    uploaded_by TEXT NOT NULL REFERENCES users (id),
    file_name TEXT NOT NULL,
    -- Decided from the content, never from the client's word.
    media_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_at TIMESTAMP NOT NULL
);
CREATE INDEX call_files_by_token ON call_files (token_id, uploaded_at);
