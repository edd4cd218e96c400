ALTER TABLE notifications RESET (
    autovacuum_vacuum_scale_factor,
    autovacuum_vacuum_threshold,
    vacuum_index_cleanup
);
