-- Version 3: the signed-in patient's prescriptions for reading offline, and the issuer's public
-- keys that verify them (and the QR codes a pharmacist scans) without a network.
-- Released migrations are never edited: a change is a new file.

-- One prescription as the server last returned it. The signed payload inside the JSON is what
-- is verified each time it is opened; the summary columns only make the list quick.
CREATE TABLE prescription (
    id TEXT PRIMARY KEY,
    -- The signed-in account it was synced for; another account's login or a logout drops it.
    account_id TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    code TEXT NOT NULL,
    patient_name TEXT NOT NULL,
    doctor_name TEXT NOT NULL,
    opd_name TEXT NOT NULL,
    -- The server's status when synced: issued, partly_dispensed, dispensed, cancelled, expired.
    status TEXT NOT NULL,
    -- Medicine names as written, one per line, for the list.
    medicines TEXT NOT NULL,
    -- RFC 3339, UTC.
    issued_at TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    -- The server's `Prescription` as JSON, signed payload included.
    prescription_json TEXT NOT NULL,
    -- When this phone received it, RFC 3339, UTC.
    synced_at TEXT NOT NULL
);

CREATE INDEX prescription_newest_first ON prescription (issued_at DESC, id);

-- The public keys published at /.well-known/jwks.json. Public, so kept across logins: a
-- pharmacist's phone verifies QR codes offline with them.
CREATE TABLE issuer_key (
    kid TEXT PRIMARY KEY,
    -- The JWK as JSON.
    jwk_json TEXT NOT NULL,
    fetched_at TEXT NOT NULL
);
