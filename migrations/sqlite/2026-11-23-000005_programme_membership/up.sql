-- Closed programmes (Sehat OPD and the like): who may use them. A programme's roster is the list
-- of card numbers it vouches for (uploaded as CSV by its administrators); a patient account
-- claims membership with its card number, and the claim is verified by the roster or by a
-- programme administrator. The account's family (dependants) shares the membership.

CREATE TABLE programme_admins (
    programme_id TEXT NOT NULL REFERENCES programmes (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (programme_id, user_id)
);

CREATE TABLE programme_roster (
    programme_id TEXT NOT NULL REFERENCES programmes (id),
    -- Upper-cased, without spaces or hyphens.
    card_number TEXT NOT NULL,
    holder_name TEXT NOT NULL,
    uploaded_by TEXT NOT NULL REFERENCES users (id),
    uploaded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (programme_id, card_number)
);

CREATE TABLE programme_members (
    id TEXT PRIMARY KEY NOT NULL,
    programme_id TEXT NOT NULL REFERENCES programmes (id),
    account_id TEXT NOT NULL REFERENCES users (id),
    card_number TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'verified', 'rejected')),
    -- How it was decided: by the roster, or by the administrator who checked the card.
    verified_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (programme_id, account_id),
    UNIQUE (programme_id, card_number)
);
CREATE INDEX programme_members_by_status ON programme_members (programme_id, status);

-- What messages sent outside the platform (SMS, email) call a sensitive programme's OPDs:
-- neutral wording per language as JSON, e.g. {"en": "the clinic", "hi": "क्लिनिक"}, so that no
-- text names the programme or a condition. Unset: the platform's own neutral wording.
ALTER TABLE programmes ADD COLUMN public_label TEXT;

-- The programme's targets (JSON), e.g. {"min_doctors_per_hub": 9,
-- "min_consultations_per_doctor_month": 100}; reports compare against them. Unset: no targets.
ALTER TABLE programmes ADD COLUMN targets TEXT;
