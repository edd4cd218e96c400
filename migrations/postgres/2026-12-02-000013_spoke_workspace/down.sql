DROP INDEX patients_by_facility;
DROP INDEX tokens_by_spoke;
