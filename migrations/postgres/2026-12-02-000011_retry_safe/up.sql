-- Retry safety (issue 16): when the queue was last swept, so that time the whole service was
-- down is not counted against a called patient's join window; and at most one signing key in
-- use per algorithm, so that API processes starting together create one key, not two.

CREATE TABLE queue_sweeps (
    id INTEGER PRIMARY KEY NOT NULL,
    swept_at TIMESTAMP
);
INSERT INTO queue_sweeps (id, swept_at) VALUES (1, NULL);

-- Keys made by a race before this index existed: the newest one stays in use, the others are
-- retired (still published, so what they signed still verifies).
UPDATE signing_keys
SET retired_at = (SELECT MAX(created_at) FROM signing_keys WHERE retired_at IS NULL)
WHERE retired_at IS NULL
  AND kid <> (SELECT kid FROM signing_keys WHERE retired_at IS NULL
              ORDER BY created_at DESC, kid DESC LIMIT 1);
CREATE UNIQUE INDEX signing_keys_one_in_use ON signing_keys (algorithm) WHERE retired_at IS NULL;
