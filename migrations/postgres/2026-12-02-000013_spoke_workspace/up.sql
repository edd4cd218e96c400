-- The spoke workspace reads a health centre's own day and its own registrations: both start
-- from the spoke, so each needs an index that starts there (without them every refresh of a
-- spoke's live board would scan all tokens of the country).
CREATE INDEX tokens_by_spoke ON tokens (spoke_id, booked_at);
CREATE INDEX patients_by_facility ON patients (registered_facility_id, created_at);
