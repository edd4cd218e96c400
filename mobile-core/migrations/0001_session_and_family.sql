-- Version 1: the signed-in session and the offline copy of the family.
-- Released migrations are never edited: a change is a new file, listed in store.rs.

-- At most one session: the account signed in on this device.
CREATE TABLE session (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    token TEXT NOT NULL,
    session_id TEXT NOT NULL,
    -- RFC 3339, UTC, as the server sent it.
    expires_at TEXT NOT NULL,
    -- The server's `Me` as JSON; refreshed by current_user().
    user_json TEXT NOT NULL,
    saved_at TEXT NOT NULL
);

-- The last family list the server returned, for reading offline.
CREATE TABLE family_member (
    id TEXT PRIMARY KEY,
    -- The account the list belongs to; another account's login clears it.
    account_id TEXT NOT NULL,
    -- The server's order: the account holder first.
    position INTEGER NOT NULL,
    -- The server's `Patient` as JSON.
    patient_json TEXT NOT NULL,
    fetched_at TEXT NOT NULL
);
