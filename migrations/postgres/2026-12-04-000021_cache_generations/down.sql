ALTER TABLE opds DROP COLUMN pace_version;
DROP TABLE cache_generations;
