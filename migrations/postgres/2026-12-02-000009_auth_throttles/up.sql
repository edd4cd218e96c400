-- Throttles against password guessing and code flooding, as counter rows (O(1) per request).

-- Staff password failures per username as typed (trimmed, lower-cased), whether or not such an
-- account exists, so that unknown usernames get the same delays and lock as real ones.
-- `failures` counts consecutive failures (an attempt is counted before its password is checked,
-- and a success resets it); `locked_at` is set at `login.lock_after_failures` and only an
-- administrator lifts it; `trusted_client` is the client key of the last successful login,
-- which the account-wide delay spares. Rows idle for `login.forget_after_days` are deleted
-- unless locked.
CREATE TABLE login_throttles (
    username TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    last_failed_at TIMESTAMP,
    locked_at TIMESTAMP,
    trusted_client TEXT,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX login_throttles_by_updated ON login_throttles (updated_at);

-- Consecutive failures per (username, client key): the per-client delay, so that failures from
-- elsewhere do not delay a doctor at their own desk.
CREATE TABLE login_client_throttles (
    username TEXT NOT NULL,
    client TEXT NOT NULL,
    failures INTEGER NOT NULL,
    last_failed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (username, client)
);
CREATE INDEX login_client_throttles_by_last_failed ON login_client_throttles (last_failed_at);

-- Hourly counters per client key (`scope` 'otp': codes sent; 'login': password attempts not
-- followed by a success). The key leads with the window, so old windows are deleted by a range.
CREATE TABLE throttle_windows (
    scope TEXT NOT NULL,
    window_start TIMESTAMP NOT NULL,
    client TEXT NOT NULL,
    hits INTEGER NOT NULL,
    PRIMARY KEY (scope, window_start, client)
);

-- The per-address OTP limit no longer scans the challenges: this index only slowed inserts.
DROP INDEX otp_challenges_by_client;
