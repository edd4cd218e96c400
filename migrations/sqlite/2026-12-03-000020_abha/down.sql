DROP INDEX patients_abha_address;
DROP INDEX patients_abha_number;
ALTER TABLE patients DROP COLUMN abha_address;
