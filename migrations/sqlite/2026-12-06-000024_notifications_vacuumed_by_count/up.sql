-- PostgreSQL only: when autovacuum cleans the notification outbox (see the PostgreSQL
-- migration). SQLite deletes an index entry with the row version it belongs to.
SELECT 1;
