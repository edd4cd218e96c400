ALTER TABLE users DROP COLUMN optional_messages;
DROP TABLE notifications;
