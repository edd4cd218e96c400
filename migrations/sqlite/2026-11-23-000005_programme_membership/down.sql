DROP TABLE programme_members;
DROP TABLE programme_roster;
DROP TABLE programme_admins;
