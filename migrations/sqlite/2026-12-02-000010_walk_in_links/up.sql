-- Walk-in links (issue 16, point 4). A walk-in a CHO registers with a phone number is no longer
-- joined to the account that owns the number: it stays the spoke's patient (no account), the
-- number is kept as its contact for notifications, and the account offered the link accepts or
-- declines it (`walk_in_offers`). The offer goes only to an account that proved the number by
-- OTP (`users.phone_verified_at`). An account holds at most one `self` profile.

-- When the account last proved its phone number by OTP. Back-filled from the codes it used
-- (and, for a phone-only account, its sessions, which only an OTP opens).
ALTER TABLE users ADD COLUMN phone_verified_at TIMESTAMP;
UPDATE users SET phone_verified_at = COALESCE(
    (SELECT MIN(c.consumed_at) FROM otp_challenges c
     WHERE c.identifier = users.phone AND c.consumed_at IS NOT NULL),
    (SELECT MIN(s.created_at) FROM sessions s WHERE s.user_id = users.id AND users.email IS NULL))
WHERE role = 'patient' AND phone IS NOT NULL;

-- One row per walk-in registered with a phone number (the patient's id is the offer's id).
CREATE TABLE walk_in_offers (
    patient_id TEXT PRIMARY KEY NOT NULL REFERENCES patients (id),
    -- The number the CHO recorded (E.164): an account with exactly this verified number sees it.
    phone TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    decision TEXT CHECK (decision IN ('accepted', 'declined')),
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP
);
CREATE INDEX walk_in_offers_by_phone ON walk_in_offers (phone, decided_at);

-- Links made by the old behaviour: nothing records whether the number's owner ever confirmed
-- them, so every walk-in becomes a pending offer to its recorded number, and leaves the family.
INSERT INTO walk_in_offers (patient_id, phone, created_at)
SELECT id, phone, created_at FROM patients
WHERE registered_facility_id IS NOT NULL AND phone IS NOT NULL;

-- An account's name is its own profile's; an account a CHO created carried the walk-in's name.
UPDATE users SET name = COALESCE(
    (SELECT p.name FROM patients p
     WHERE p.account_id = users.id AND p.registered_facility_id IS NULL AND p.relation = 'self'
     ORDER BY p.created_at, p.id LIMIT 1), '')
WHERE role = 'patient' AND EXISTS (
    SELECT 1 FROM patients w WHERE w.account_id = users.id AND w.registered_facility_id IS NOT NULL);

UPDATE patients SET account_id = NULL
WHERE registered_facility_id IS NOT NULL AND account_id IS NOT NULL;

-- One `self` per account: the earliest stays, later ones become `other`.
UPDATE patients SET relation = 'other'
WHERE relation = 'self' AND account_id IS NOT NULL AND EXISTS (
    SELECT 1 FROM patients o
    WHERE o.account_id = patients.account_id AND o.relation = 'self'
      AND (o.created_at < patients.created_at OR (o.created_at = patients.created_at AND o.id < patients.id)));
CREATE UNIQUE INDEX patients_one_self ON patients (account_id) WHERE relation = 'self';
