DROP INDEX doctor_presence_live;
DROP INDEX tokens_open_calls;
