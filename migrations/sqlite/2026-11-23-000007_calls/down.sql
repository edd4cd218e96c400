DROP TABLE call_files;
DROP TABLE call_messages;
DROP TABLE call_events;
DROP TABLE calls;
