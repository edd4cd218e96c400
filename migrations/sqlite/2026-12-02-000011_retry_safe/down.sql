DROP INDEX signing_keys_one_in_use;
DROP TABLE queue_sweeps;
