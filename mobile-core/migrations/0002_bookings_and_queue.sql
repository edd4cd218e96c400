-- Version 2: bookings not yet confirmed by the server, and the last known queue status of each
-- token, for showing offline. Released migrations are never edited: a change is a new file.

-- A booking whose answer has not arrived yet. The key is written here BEFORE the request goes
-- out, so an app killed mid-request (or a lost answer) retries with the same key and the server
-- replays its first answer instead of booking a second token.
CREATE TABLE pending_booking (
    idempotency_key TEXT PRIMARY KEY,
    -- The signed-in account that asked; another account's login drops the row.
    account_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    -- `pregnant`, `disability` or NULL, as sent.
    priority_reason TEXT,
    -- RFC 3339, UTC, the phone's clock.
    created_at TEXT NOT NULL,
    -- One attempt in flight per person and session: a second tap reuses the key.
    UNIQUE (session_id, patient_id)
);

-- The last queue status the server returned for a token, shown (marked stale) when offline.
CREATE TABLE queue_status_cache (
    token_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    -- The server's `QueueStatus` as JSON (its `as_of` is the server's time of that status).
    status_json TEXT NOT NULL,
    -- The server's ETag for it, sent back as If-None-Match.
    etag TEXT,
    -- When this phone received it, RFC 3339, UTC.
    fetched_at TEXT NOT NULL
);
