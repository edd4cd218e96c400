ALTER TABLE programmes DROP COLUMN targets;
ALTER TABLE programmes DROP COLUMN public_label;
DROP TABLE programme_members;
DROP TABLE programme_roster;
DROP TABLE programme_admins;
