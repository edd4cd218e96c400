-- Back to walk-ins without link offers. Links are not restored: a walk-in that was never
-- accepted stays with its spoke, and the `other` given to duplicate `self` profiles stays.
DROP INDEX patients_one_self;
DROP TABLE walk_in_offers;
ALTER TABLE users DROP COLUMN phone_verified_at;
